"""Why a check may stop before it has seen every state: memory, time, states, Ctrl-C.

The default limit is memory, not a count of states: a state of 4 vCPUs and
one of 4096 differ a thousandfold in size, so no fixed count suits both.
The measure is the process's resident set (RSS, from /proc/self/statm),
read many times a second: it is what the machine actually gives up,
it counts the search's dedup table, its parent links and Python's own
overhead without estimating any of them, and memory freed by an earlier
check in the same process (`--variant all`) is reused before RSS grows.
The default is MEMORY_SHARE of the machine's total RAM.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import sys
import threading

MEMORY_SHARE = 0.5  # of total RAM: room left for the rest of the machine
INTERRUPTED = "Ctrl-C"  # the `bound` of a check stopped by SIGINT
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?|(\d+(?:\.\d+)?)%", re.IGNORECASE)


def total_memory() -> int | None:
    """Bytes of RAM in this machine, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_max_memory() -> int | None:
    total = total_memory()
    return int(total * MEMORY_SHARE) if total else None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_memory() -> int:
    """Bytes this process has resident now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes there, KiB here


def parse_size(text: str) -> int:
    """`2G`, `500M`, `1.5GiB`, `123456` (bytes) or `25%` (of RAM) -> bytes."""
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a size (expected e.g. 4G, 500M or 25%)")
    if m.group(3) is not None:
        total = total_memory()
        if total is None:
            raise ValueError("this system does not say how much RAM it has: give a size")
        return int(total * float(m.group(3)) / 100)
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def format_size(n: int) -> str:
    """Bytes as `--max-memory` takes them back: 11.7G, 512.0M, 1.5K."""
    for unit in "TGM":
        if n >= _UNITS[unit]:
            return f"{n / _UNITS[unit]:.1f}{unit}"
    return f"{n / 1024:.1f}K"


class Interrupt:
    """Within `with Interrupt() as ctrl_c:` the first SIGINT only sets
    `ctrl_c.hit`, so a search can stop where it stands and report what it
    found; a second one raises KeyboardInterrupt as usual.

    Only in the main thread (signals are delivered there), and only over
    Python's default handler: a workbench or a caller with its own handler
    keeps it, and stops a check through `cancel` instead.
    """

    def __init__(self):
        self.hit = False
        self._owned = False

    def __enter__(self) -> Interrupt:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, self._first)
            self._owned = True
        return self

    def _first(self, signum, frame) -> None:
        self.hit = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc) -> None:
        if self._owned and signal.getsignal(signal.SIGINT) == self._first:
            signal.signal(signal.SIGINT, signal.default_int_handler)
