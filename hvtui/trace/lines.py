"""Reading a trace's text one line at a time: `trace-cmd report` and tracefs.

Both print the same context before the event (kernel/trace/trace_output.c,
and trace-cmd's tep_print_event):

    TASK-PID [CPU] [FLAGS] TIMESTAMP: EVENT: FIELDS
         CPU 0/KVM-4048  [001] d..1.  1234.567890: kvm_entry: vcpu 0, rip 0x...
    qemu-system-x86-23579 [005] 22018.775584: kvm_exit:             reason ...

TASK may hold spaces and dashes (QEMU's `CPU 0/KVM`, `qemu-system-x86`), the
irq-flags column (4 or 5 characters) is there only with the irq-info option or
`trace-cmd report -l`, an optional `(TGID)` column with record-tgid, and the
timestamp is seconds.fraction (or a bare counter for counter clocks).
trace-cmd pads the event name; tracefs does not. Headers (`# tracer: nop`,
`cpus=4`, `version = 6`, `CPU 2 is empty`, `CPU:2 [LOST 12 EVENTS]`) are
skipped, and whichever of them names the trace_clock is remembered.

`read(path)` is a generator: a million-line trace is never held in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from hvtui.errors import InputError, regular_file
from hvtui.model.state import MAX_VCPUS
from hvtui.scenario.yamlpos import show_unquoted, show_value
from hvtui.trace import formats

TRACE_DAT_MAGIC = b"\x17\x08\x44tracing"
# what a trace file can be instead of its text, and how to get the text
_NOT_TEXT = (
    (
        TRACE_DAT_MAGIC,
        "a binary trace.dat (expected its text: trace-cmd report -i FILE > FILE.txt)",
    ),
    (b"\x1f\x8b", "gzip-compressed (expected its text: zcat FILE > FILE.txt)"),
    (b"\xfd7zXZ\x00", "xz-compressed (expected its text: xzcat FILE > FILE.txt)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed (expected its text: zstdcat FILE > FILE.txt)"),
    (b"BZh", "bzip2-compressed (expected its text: bzcat FILE > FILE.txt)"),
    (b"\xff\xfe", "UTF-16 (expected the UTF-8 text trace-cmd report prints)"),
    (b"\xfe\xff", "UTF-16 (expected the UTF-8 text trace-cmd report prints)"),
)
_NOT_AN_EVENT = "(not an event line)"
# how much of a malformed line the error quotes: a line of every field of the
# longest format fits, a file whose lines end in CR alone (one 2 MB "line") does not
_SHOWN = 200
INT_MAX = 2**31 - 1  # a C int, as pid_t and the CPU number are
# what a trace's ids can be, as every refusal of one says it
PIDS = f"0..{INT_MAX}, a pid_t"
VCPU_IDS = f"vCPU ids 0..{MAX_VCPUS - 1}: a VM has at most {MAX_VCPUS} vCPUs"
_U64_MAX = 2**64 - 1
# the numbers before the event, as the kernel keeps them: (what, the largest, as said)
_CONTEXT = {
    "pid": ("PID", INT_MAX, PIDS),
    "cpu": ("CPU", INT_MAX, f"0..{INT_MAX}, an int"),
    # nanoseconds, or the ticks of a counter clock, in a u64
    "ts": (
        "timestamp",
        _U64_MAX,
        f"at most {_U64_MAX // 10**9}.{_U64_MAX % 10**9:09d} seconds, or a counter of at "
        f"most {_U64_MAX}",
    ),
}

_RECORD = re.compile(
    r"\s*(?P<comm>.*?)-(?P<pid>\d+)\s+"
    r"(?:\(\s*(?:\d+|-+)\)\s+)?"
    r"\[(?P<cpu>\d+)\]\s+"
    r"(?:[^\s\d][^\s]{3,4}\s+)?"
    r"(?P<ts>\d+(?:\.\d+)?):\s+"
    r"(?P<name>[A-Za-z_]\w*):(?P<body>.*)$"
)
_HEADER = re.compile(r"(#|cpus=|version\s*=|CPU\s*\d+ is empty|CPU:\d+ \[LOST)")
CLOCKS = ("local", "global", "counter", "uptime", "perf", "mono", "mono_raw", "boot", "tai")
# `cat trace_clock` shows the clocks with the current one in brackets;
# a header may also say "trace_clock: mono" (hvtui's own export does).
_CLOCK_FILE = re.compile(r"\[(" + "|".join(CLOCKS + ("x86-tsc",)) + r")\]")
_CLOCK_NAMED = re.compile(r"trace_clock\W+([\w-]+)")


class Record(NamedTuple):
    """One event line of a known tracepoint."""

    line: int  # 1-based line number in the file
    comm: str
    pid: int
    cpu: int
    ts: int  # nanoseconds (or counter ticks)
    name: str
    fields: formats.Fields


class Reader:
    """Iterate `records()`; afterwards `skipped` counts the lines of unknown events,
    `clock` is the trace_clock a header named ("" if none did), `lines` the total.
    A file with neither an event line nor a trace's header is refused when the
    iteration ends."""

    def __init__(self, path: str):
        self.path = path
        self.skipped: dict[str, int] = {}
        self.clock = ""
        self.lines = 0
        self.events = 0  # event lines, of any tracepoint
        self.headers = 0  # lines only a trace has: `# tracer: nop`, `cpus=4`, ...

    def records(self) -> Iterator[Record]:
        regular_file(
            self.path,
            "the text of trace-cmd report or of tracefs trace",
            # a pipe is refused (not a regular file): `-` gets the way round it
            ": a trace is read from a file, not stdin (trace-cmd report > run.txt)",
        )
        try:
            f = open(self.path, "rb")  # noqa: SIM115 -- closed by the with below
        except OSError as exc:
            raise InputError(
                self.path, f"cannot read the trace: {(exc.strerror or str(exc)).lower()}"
            ) from None
        read = 0  # lines of the series' tracepoints
        with f:
            self._text_or_refuse(f.read(4096))
            f.seek(0)
            for number, raw in enumerate(f, 1):
                self.lines = number
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                if number == 1:  # a byte-order mark (a Windows editor's) is not the first comm
                    text = text.removeprefix("\ufeff")
                record = self._record(number, text)
                if record is not None:
                    read += 1
                    yield record
        # empty, or a file of something else: "consistent" would read as a verdict
        # (a trace's headers with no event under them is a recording of nothing)
        if not self.events and not self.headers:
            raise InputError(
                self.path,
                "no event line in the file (expected the text of trace-cmd report or of "
                "tracefs trace: TASK-PID [CPU] TIMESTAMP: EVENT: FIELDS)",
            )
        if self.events and not read:  # the wrong events recorded: nothing to check
            others = sorted(
                (name for name in self.skipped if name != _NOT_AN_EVENT),
                key=lambda name: (-self.skipped[name], name),
            )
            listed = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
            raise InputError(
                self.path,
                f"none of its {self.events:,} event lines is one of the series' tracepoints "
                f"(they are {listed}; expected kvm_hv_flush_tlb, kvm_hv_hypercall and the "
                "others `hvtui trace --help` records)",
            )

    def _text_or_refuse(self, head: bytes) -> None:
        """Refuse a file that is not a trace's text before reading it line by line."""
        for magic, what in _NOT_TEXT:
            if head.startswith(magic):
                raise InputError(self.path, f"is {what}")
        if b"\0" in head:
            raise InputError(
                self.path,
                f"byte 0x00 at offset {head.index(0)}: the file is binary "
                "(expected the text of trace-cmd report or of tracefs trace)",
            )

    def _record(self, number: int, text: str) -> Record | None:
        m = _RECORD.match(text)
        if m is None:
            self._header(number, text)
            return None
        self.events += 1
        name = m.group("name")
        if name not in formats.KNOWN:
            self.skipped[name] = self.skipped.get(name, 0) + 1
            return None
        body = m.group("body")
        try:
            fields = formats.parse(name, body)
        except formats.NoSuchVcpu as exc:
            raise InputError(
                self.path,
                f"{name}: {exc.field} {show_unquoted(exc.text)} is out of range "
                f"(expected {VCPU_IDS})",
                number,
                m.start("body") + len(body) - len(body.lstrip()) + exc.at + 1,
            ) from None
        if fields is None:
            raise InputError(
                self.path,
                f"{name}: {show_value(m.group('body').strip(), _SHOWN)} is not in its format "
                f"(expected {formats.EXPECTED[name]})",
                number,
                m.start("body") + 1,
            )
        return Record(
            number,
            m.group("comm").strip(),
            self._number(m, "pid", number),
            self._number(m, "cpu", number),
            self._number(m, "ts", number),
            name,
            fields,
        )

    def _number(self, m: re.Match, group: str, number: int) -> int:
        """A number of the line's context (a timestamp's seconds.fraction read as
        nanoseconds), refused past what the kernel can print there (_CONTEXT):
        no kernel printed that line (and past 4300 digits Python refuses to read it)."""
        name, most, expected = _CONTEXT[group]
        text = m.group(group)
        secs, _, frac = text.partition(".")
        value = formats.bounded(secs, most)
        if value is not None and frac:
            value = value * 10**9 + int((frac + "0" * 9)[:9])
        if value is None or value > most:
            raise InputError(
                self.path,
                f"{name} {show_unquoted(text)} is out of range (expected {expected})",
                number,
                m.start(group) + 1,
            )
        return value

    def _header(self, number: int, text: str) -> None:
        """A line that is not an event: a header, or a malformed event line."""
        stripped = text.strip()
        if not stripped:
            return
        clock = _CLOCK_NAMED.search(stripped) or _CLOCK_FILE.search(stripped)
        if clock and (stripped.startswith("#") or _CLOCK_FILE.search(stripped)):
            self.clock = clock.group(1)
            self.headers += 1
            return
        if _HEADER.match(stripped):
            self.headers += 1
            return
        for name in formats.KNOWN:
            at = stripped.find(name + ":")
            if at >= 0:
                raise InputError(
                    self.path,
                    f"a {name} line without the TASK-PID [CPU] TIMESTAMP: context before it "
                    "(expected a line of trace-cmd report or of tracefs trace)",
                    number,
                    1,
                )
        self.skipped[_NOT_AN_EVENT] = self.skipped.get(_NOT_AN_EVENT, 0) + 1
