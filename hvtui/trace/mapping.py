"""Which thread is which vCPU.

`kvm_hv_flush_tlb`, `kvm_hv_hypercall_done` and `kvm_userspace_exit` name no
vCPU: the issuing vCPU is the thread's. In order of authority:
1. `--pid-map PID=VCPU,...`, given by hand;
2. a vcpu field the kernel printed on that pid (`kvm_entry`, `kvm_exit`, and
   6/7's `kvm_hv_vcpu_suspend_tlb_flush`, which runs on the suspending vCPU);
3. QEMU's thread name `CPU N/KVM` (QEMU's default makes vcpu_id, VP index and
   `CPU N` the same number).

A flush names its targets by VP index (the guest's numbering); `--vp-map
VP=VCPU,...` says which vcpu_id each is where they differ.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hvtui.errors import InputError
from hvtui.model.state import MAX_VCPUS
from hvtui.scenario.yamlpos import show_unquoted
from hvtui.trace.formats import bounded
from hvtui.trace.lines import INT_MAX, PIDS, VCPU_IDS

_QEMU_THREAD = re.compile(r"^CPU (\d+)/KVM$")
PID_MAP = "--pid-map"
VP_MAP = "--vp-map"


class Source(NamedTuple):
    vcpu: int
    how: str  # "--pid-map", "kvm_entry vcpu field", "thread name"


def parse_id_map(text: str | None, option: str = PID_MAP) -> dict[int, int]:
    """`1234=0,1235=1` (commas or spaces) -> {1234: 0, 1235: 1}; for --pid-map and --vp-map."""
    out: dict[int, int] = {}
    what, example = ("PID", "4001=0,4002=1") if option == PID_MAP else ("VP", "0=0,1=4")
    first: dict[int, int] = {}  # key -> the column that mapped it
    for m in re.finditer(r"[^,\s]+", text or ""):
        item, col = m.group(0), m.start() + 1
        pair = re.fullmatch(r"(\d+)[=:](\d+)", item)
        if pair is None:
            raise InputError(
                option, f"{item!r} is not {what}=VCPU (expected e.g. {example})", 1, col
            )
        key = _number(pair, 1, what, option, col)
        if key in first:  # the later one would silently win
            raise InputError(
                option,
                f"{what} {key} is mapped twice (expected each {what} once; the first is at "
                f"column {first[key]})",
                1,
                col,
            )
        first[key] = col
        out[key] = _number(pair, 2, "vCPU", option, col)
    return out


# what each number of a map can be: (the largest, what was expected)
_RANGES = {
    "PID": (INT_MAX, PIDS),
    # kvm_hv_set_msr() refuses an HV_X64_MSR_VP_INDEX of KVM_MAX_VCPUS or more
    "VP": (MAX_VCPUS - 1, f"VP indexes 0..{MAX_VCPUS - 1}"),
    "vCPU": (MAX_VCPUS - 1, VCPU_IDS),
}


def _number(pair: re.Match, group: int, what: str, option: str, col: int) -> int:
    """One side of PID=VCPU (or VP=VCPU), which starts at column `col`, within _RANGES."""
    most, expected = _RANGES[what]
    value = bounded(pair.group(group), most)
    if value is None:
        raise InputError(
            option,
            f"{what} {show_unquoted(pair.group(group))} is out of range (expected {expected})",
            1,
            col + pair.start(group),
        )
    return value


class Mapper:
    """Collects the evidence while the trace streams by, then answers `vcpu(pid)`."""

    def __init__(self, manual: dict[int, int]):
        self.manual = manual
        self.fields: dict[int, tuple[int, str]] = {}  # pid -> (vcpu, event name)
        self.comms: dict[int, str] = {}
        self.conflicts: list[str] = []

    def saw(self, pid: int, comm: str, vcpu: int, event: str) -> None:
        self.comms.setdefault(pid, comm)
        if vcpu < 0:
            return
        known = self.fields.get(pid)
        if known is None:
            self.fields[pid] = (vcpu, event)
        elif known[0] != vcpu and len(self.conflicts) < 8:
            self.conflicts.append(
                f"pid {pid} printed vcpu {known[0]} ({known[1]}) and vcpu {vcpu} ({event})"
            )

    def source(self, pid: int) -> Source | None:
        if pid in self.manual:
            return Source(self.manual[pid], PID_MAP)
        if pid in self.fields:
            vcpu, event = self.fields[pid]
            return Source(vcpu, f"{event} vcpu field")
        m = _QEMU_THREAD.match(self.comms.get(pid, ""))
        if m:
            return Source(int(m.group(1)), "thread name")
        return None

    def table(self) -> dict[int, Source]:
        """Every pid seen with its vCPU, if it has one."""
        out = {}
        for pid in sorted(set(self.comms) | set(self.manual)):
            src = self.source(pid)
            if src is not None:
                out[pid] = src
        return out
