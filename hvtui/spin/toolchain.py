"""SPIN's toolchain: `spin -a`, the C compiler and `pan`, with compiled pans cached.

A model's `pan` is built once per model text, compiler flags and tool
versions and kept under $XDG_CACHE_HOME/hvtui/pan/<sha256>/ (default
~/.cache), so a second check of the same scenario and variant, and CI's
reruns, skip the compiler, which costs more than the search on small
models. Every tool runs in a temporary directory; the CPU time each
phase took (children's user + system) is measured, not wall time.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MISSING = "spin is not installed: apt-get install spin (the Debian package), then try again"
MODEL = "model.pml"  # pan names its trail after it: model.pml.trail
# Breadth-first (shortest counterexamples), safety only (every property is an
# assertion), no partial-order reduction (pan's states are hvtui's states).
CC_FLAGS = ("-O2", "-DBFS", "-DSAFETY", "-DNOREDUCE")
DEPTH = "-m10000000"  # pan's default depth bound (10,000 steps) is too small for long runs
HASH = "-w20"  # 2^20 slots: small models start fast; --spin-pan=-w28 for big ones
_GRACE = 5.0  # seconds an interrupted pan has to print its summary
_TICK = 0.1  # seconds between looks at the clock and for a Ctrl-C while pan runs


class ToolError(Exception):
    """A tool failed where it should not have: its name and what it printed."""


@dataclass
class Times:
    """CPU seconds of each phase; `cached` when the compiled pan was reused."""

    spin: float = 0.0
    cc: float = 0.0
    pan: float = 0.0
    cached: bool = False
    runs: int = 0  # pan runs

    @property
    def total(self) -> float:
        return self.spin + self.cc + self.pan


@dataclass
class Pan:
    """A compiled pan and what it took to get it."""

    path: Path
    times: Times = field(default_factory=Times)


def spin_path() -> str | None:
    return shutil.which("spin")


def compiler() -> str:
    return os.environ.get("CC") or "gcc"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hvtui" / "pan"


def _version(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""


def build(text: str, cc_flags: tuple[str, ...] = ()) -> Pan:
    """The pan for `text` compiled with CC_FLAGS + cc_flags: from the cache, or built."""
    spin = spin_path()
    if spin is None:
        raise ToolError(MISSING)
    cc = compiler()
    flags = (*CC_FLAGS, *cc_flags)
    key = "\0".join([text, *flags, _version([spin, "-V"]), _version([cc, "--version"])])
    home = cache_dir() / hashlib.sha256(key.encode()).hexdigest()
    pan = home / "pan"
    times = Times()
    if pan.exists():
        times.cached = True
        return Pan(pan, times)
    with tempfile.TemporaryDirectory(prefix="hvtui-spin-") as tmp:
        (Path(tmp) / MODEL).write_text(text)
        times.spin = _run([spin, "-a", MODEL], tmp, "spin -a")
        times.cc = _run([cc, *flags, "-o", "pan", "pan.c"], tmp, cc)
        home.mkdir(parents=True, exist_ok=True)
        # another check may be building the same pan: whole files only, by rename
        partial = home / f"pan.{os.getpid()}"
        shutil.copy2(Path(tmp) / "pan", partial)
        os.replace(partial, pan)
    return Pan(pan, times)


def _run(cmd: list[str], cwd: str, name: str) -> float:
    before = _children_cpu()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ToolError(
            f"{name} failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
        )
    return _children_cpu() - before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def transition_lines(pan: Pan) -> dict[int, int]:
    """pan's d_step ids (a trail's third column) -> their model lines, from `pan -d`."""
    listing = pan.path.with_name("pan.d")
    if not listing.exists():
        done = subprocess.run([str(pan.path), "-d"], capture_output=True, text=True, check=False)
        partial = listing.with_name(f"pan.d.{os.getpid()}")
        partial.write_text(done.stdout)
        os.replace(partial, listing)
    # each d_step is listed as D_STEP<its line>
    found = re.findall(r"\[id\s+(\d+)\s+tp[^\]]*\].*=> D_STEP(\d+)", listing.read_text())
    return {int(tid): int(line) for tid, line in found}


@dataclass
class PanRun:
    output: str  # what pan printed
    trail: list[tuple[int, int, int]]  # (depth, pid, transition id) of each counterexample step
    stopped: str | None = None  # "time" or "ctrl-c": interrupted, its counts a lower bound


def search(
    pan: Pan,
    checked: list[int],
    pan_flags: tuple[str, ...] = (),
    timeout: float | None = None,
    cancel: Callable[[], bool] = lambda: False,
) -> PanRun:
    """One pan run checking these property numbers only (the model's
    HVTUI_PROPERTIES), interrupted after `timeout` seconds or once `cancel()`
    says so (a Ctrl-C that hvtui took and pan may not have seen)."""
    env = dict(os.environ, HVTUI_PROPERTIES=",".join(map(str, checked)))
    deadline = math.inf if timeout is None else time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="hvtui-pan-") as tmp:
        before = _children_cpu()
        command = [str(pan.path), DEPTH, HASH, *pan_flags]
        with subprocess.Popen(
            command, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as child:
            stopped = None
            while True:
                try:
                    wait = max(0.0, min(_TICK, deadline - time.monotonic()))
                    output = child.communicate(timeout=wait)[0]
                    break
                except subprocess.TimeoutExpired:
                    if cancel() or time.monotonic() >= deadline:
                        stopped = "ctrl-c" if cancel() else "time"
                        output = _interrupted(child)
                        break
                except BaseException:  # a second Ctrl-C: pan must not outlive the check
                    child.kill()
                    raise
        pan.times.pan += _children_cpu() - before
        pan.times.runs += 1
        if stopped is None and cancel():  # the Ctrl-C reached pan too, which stopped
            stopped = "ctrl-c"
        if stopped is not None:
            return PanRun(output, [], stopped)
        # model.pml.trail (-DBFS_PAR names it model.pml_pan_<pid>.trail)
        trails = sorted(Path(tmp).glob("*.trail"))
        trail = []
        if trails:
            for line in trails[0].read_text().split():
                depth, pid, tid = (int(x) for x in line.split(":")[:3])
                if depth >= 0:  # negative lines are pan's own markers
                    trail.append((depth, pid, tid))
        return PanRun(output, trail)


def _interrupted(child: subprocess.Popen) -> str:
    """Stop a pan run out of time as Ctrl-C does: its SIGINT handler prints the
    summary of the search so far (states stored, depth), which the check
    reports; a pan that does not stop within _GRACE seconds is killed, and
    says nothing."""
    child.send_signal(signal.SIGINT)
    try:
        return child.communicate(timeout=_GRACE)[0]
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return ""
