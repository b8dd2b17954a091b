"""The tracepoints hvtui reads and writes, exactly as their TP_printk prints them.

Each format is taken from the kernel, not guessed:
- arch/x86/kvm/trace.h: `kvm_hv_flush_tlb` ("processor_mask 0x%llx address_space
  0x%llx flags 0x%llx %s", the "%s" being "(L2)" for a nested guest since the L2
  TLB flush support; before it the format ended at the flags), `kvm_hv_flush_tlb_ex`
  ("valid_bank_mask 0x%llx format 0x%llx address_space 0x%llx flags 0x%llx %s"),
  `kvm_hv_hypercall` ("code 0x%x %s cnt 0x%x idx 0x%x in 0x%llx out 0x%llx", since
  the var_cnt field "code 0x%x %s var_cnt 0x%x rep_cnt 0x%x idx 0x%x in 0x%llx out
  0x%llx"), `kvm_hv_hypercall_done` ("result 0x%llx"), `kvm_entry` ("vcpu %u" in
  old kernels, then "vcpu %u, rip 0x%lx", later with "[immediate exit]" / "inj ..."
  after it), `kvm_exit` ("reason %s rip 0x%lx info %llx %llx" in old kernels, then
  "vcpu %u reason %s%s%s rip 0x%lx info1 ...");
- include/trace/events/kvm.h: `kvm_userspace_exit` ("reason %s (%d)");
- patch 6/7 "KVM: x86: Add trace events to track Hyper-V suspensions":
  `kvm_hv_vcpu_suspend_tlb_flush` ("suspending vcpu %u waiting on %u") and
  `kvm_hv_vcpu_unsuspend_tlb_flush` ("unsuspending vcpu %u").

A parsed event is a `Fields` value; `print_*` functions write the line a kernel
of today would, for `hvtui export --format ftrace`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hvtui.model.state import MAX_VCPUS

FLUSH = "kvm_hv_flush_tlb"
FLUSH_EX = "kvm_hv_flush_tlb_ex"
HYPERCALL = "kvm_hv_hypercall"
DONE = "kvm_hv_hypercall_done"
ENTRY = "kvm_entry"
EXIT = "kvm_exit"
USEREXIT = "kvm_userspace_exit"
SUSPEND = "kvm_hv_vcpu_suspend_tlb_flush"
UNSUSPEND = "kvm_hv_vcpu_unsuspend_tlb_flush"

# hyperv-tlfs.h: the four TLB flush hypercalls, and the flag and set format they use
HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE = 0x0002
HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST = 0x0003
HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = 0x0013
HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX = 0x0014
FLUSH_CODES = frozenset(
    (
        HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE,
        HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST,
        HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX,
        HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
    )
)
HV_FLUSH_ALL_PROCESSORS = 0x1
HV_GENERIC_SET_SPARSE_4K = 0
HV_GENERIC_SET_ALL = 1
# 5/7's ret_suspend returns -EBUSY as the u64 result; the fall-through in
# kvm_hv_hypercall_complete() traces it as such.
EBUSY_RESULT = (1 << 64) - 16


class Fields(NamedTuple):
    """What one line of a known tracepoint says (unused fields are 0 / "")."""

    vcpu: int = -1  # the vcpu_id the event names, -1 if it names none
    other: int = -1  # waiting_on (suspend); the hypercall code (kvm_hv_hypercall)
    mask: int = 0  # processor_mask, or valid_bank_mask for the _ex form
    flags: int = 0  # the flush flags; the set format for the _ex form
    result: int = 0  # kvm_hv_hypercall_done's result
    l2: bool = False  # "(L2)": issued by a nested guest
    text: str = ""  # kvm_userspace_exit's reason


_HEX = r"0x0*([0-9a-fA-F]{1,16})"  # a %llx: 64 bits at most
_PARSERS = {
    FLUSH: re.compile(
        rf"processor_mask {_HEX} address_space {_HEX} flags {_HEX}(?: ?(\(L2\))?)\s*$"
    ),
    FLUSH_EX: re.compile(
        rf"valid_bank_mask {_HEX} format {_HEX} address_space {_HEX} flags {_HEX}"
        r"(?: ?(\(L2\))?)\s*$"
    ),
    HYPERCALL: re.compile(
        rf"code {_HEX} (?:fast|slow) (?:var_cnt {_HEX} rep_cnt|cnt) {_HEX} idx {_HEX} "
        rf"in {_HEX} out {_HEX}\s*$"
    ),
    DONE: re.compile(rf"result {_HEX}\s*$"),
    ENTRY: re.compile(r"vcpu (\d+)(?:, rip 0x[0-9a-fA-F]+.*)?\s*$"),
    # old kernels print no vcpu: "reason EPT_VIOLATION rip 0x... info 181 0"
    EXIT: re.compile(r"(?:vcpu (\d+) )?reason \S.*$"),
    USEREXIT: re.compile(r"reason (\S+) \((-?\d+)\)\s*$"),
    SUSPEND: re.compile(r"suspending vcpu (\d+) waiting on (\d+)\s*$"),
    UNSUSPEND: re.compile(r"unsuspending vcpu (\d+)\s*$"),
}
KNOWN = frozenset(_PARSERS)

# what each format looks like, for the error message of a line that is not it
EXPECTED = {
    FLUSH: "processor_mask 0x.. address_space 0x.. flags 0x.. [(L2)]",
    FLUSH_EX: "valid_bank_mask 0x.. format 0x.. address_space 0x.. flags 0x.. [(L2)]",
    HYPERCALL: "code 0x.. fast|slow [var_cnt 0x.. rep_cnt|cnt] 0x.. idx 0x.. in 0x.. out 0x..",
    DONE: "result 0x..",
    ENTRY: "vcpu N[, rip 0x..]",
    EXIT: "[vcpu N ]reason R ...",
    USEREXIT: "reason R (N)",
    SUSPEND: "suspending vcpu N waiting on M",
    UNSUSPEND: "unsuspending vcpu N",
}


class NoSuchVcpu(ValueError):
    """A line in its format that names a vCPU no VM has: `field` says which
    number ("vcpu", "waiting on"), `at` where it starts in the stripped fields."""

    def __init__(self, field: str, text: str, at: int):
        super().__init__(text)
        self.field, self.text, self.at = field, text, at


def bounded(digits: str, most: int) -> int | None:
    """A decimal number as written, or None if it is past `most` (which is told
    from its length first: past 4300 digits int() refuses to read it)."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(most)) or int(digits) > most:
        return None
    return int(digits)


def _vcpu(m: re.Match, group: int, field: str = "vcpu") -> int:
    vcpu = bounded(m.group(group), MAX_VCPUS - 1)
    if vcpu is None:
        raise NoSuchVcpu(field, m.group(group), m.start(group))
    return vcpu


def parse(name: str, body: str) -> Fields | None:
    """The fields of a known event's line; None if the line is not in its format.
    A vCPU id past the last a VM can have raises NoSuchVcpu."""
    m = _PARSERS[name].match(body.strip())  # a tab after the name, as `unexpand` leaves it
    if m is None:
        return None
    g = m.groups()
    if name == FLUSH:
        return Fields(mask=int(g[0], 16), flags=int(g[2], 16), l2=bool(g[3]))
    if name == FLUSH_EX:
        return Fields(mask=int(g[0], 16), flags=int(g[1], 16), l2=bool(g[4]))
    if name == HYPERCALL:
        return Fields(other=int(g[0], 16))
    if name == DONE:
        return Fields(result=int(g[0], 16))
    if name in (ENTRY, EXIT):
        return Fields(vcpu=_vcpu(m, 1) if g[0] is not None else -1)
    if name == USEREXIT:
        return Fields(text=g[0])
    if name == SUSPEND:
        return Fields(vcpu=_vcpu(m, 1), other=_vcpu(m, 2, "waiting on"))
    return Fields(vcpu=_vcpu(m, 1))


# -- what a flush names -------------------------------------------------------------


def flush_targets(name: str, f: Fields) -> tuple:
    """The target description a flush line gives: ("all",), ("set", ids) or ("banks", m).

    kvm_hv_flush_tlb(): HV_FLUSH_ALL_PROCESSORS, or a zero processor_mask (the
    WS2012 workaround), means every vCPU. The _ex form prints the valid bank
    mask but not the banks' contents: all it says is which banks.
    """
    if name == FLUSH:
        if f.flags & HV_FLUSH_ALL_PROCESSORS or f.mask == 0:
            return ("all",)
        return ("set", tuple(i for i in range(64) if f.mask >> i & 1))
    if f.flags != HV_GENERIC_SET_SPARSE_4K:
        return ("all",)
    return ("banks", f.mask)


def done_outcome(result: int) -> str:
    """ "ok" (HV_STATUS_SUCCESS in the low 16 bits), "ebusy" (5/7's -EBUSY), else the value."""
    if result == EBUSY_RESULT:
        return "ebusy"
    return "ok" if result & 0xFFFF == 0 else hex(result)


# -- printing, as a kernel of today would -----------------------------------------


def print_flush(targets: tuple[int, ...], spec: object, n: int) -> tuple[str, str, int]:
    """(event name, fields, hypercall code) of the flush a guest of n vCPUs issues for
    these targets: HV_FLUSH_ALL_PROCESSORS only when they are all of them."""
    if spec == "all" and targets == tuple(range(n)):
        return FLUSH, _flush_fields(0, HV_FLUSH_ALL_PROCESSORS), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE
    # an empty set goes out as an empty sparse set: a zero processor_mask would
    # read back as every vCPU (flush_targets)
    sparse = not targets or isinstance(spec, dict) and "sparse" in spec
    if not sparse and targets[-1] < 64:
        mask = sum(1 << t for t in targets)
        return FLUSH, _flush_fields(mask, 0), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE
    banks = 0
    for t in targets:
        banks |= 1 << (t >> 6)
    fields = (
        f"valid_bank_mask {banks:#x} format {HV_GENERIC_SET_SPARSE_4K:#x} "
        "address_space 0x0 flags 0x0 "
    )
    return FLUSH_EX, fields, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX


def _flush_fields(mask: int, flags: int) -> str:
    # the trailing space is the empty "%s" where an L2 flush prints "(L2)"
    return f"processor_mask {mask:#x} address_space 0x0 flags {flags:#x} "


def print_hypercall(code: int) -> str:
    return f"code {code:#x} slow var_cnt 0x0 rep_cnt 0x0 idx 0x0 in 0x0 out 0x0"


def print_done(outcome: str) -> str:
    return f"result {EBUSY_RESULT if outcome == 'ebusy' else 0:#x}"


def print_entry(vcpu: int) -> str:
    return f"vcpu {vcpu}, rip 0x0"


def print_exit(vcpu: int, reason: str) -> str:
    return (
        f"vcpu {vcpu} reason {reason} rip 0x0 info1 0x{0:016x} info2 0x{0:016x} "
        f"intr_info 0x{0:08x} error_code 0x{0:08x}"
    )


def print_userexit() -> str:
    # a signal (the VMM's kick) ends KVM_RUN with -EINTR: "restart (4)"
    return "reason restart (4)"


def print_suspend(vcpu: int, waiting_on: int) -> str:
    return f"suspending vcpu {vcpu} waiting on {waiting_on}"


def print_unsuspend(vcpu: int) -> str:
    return f"unsuspending vcpu {vcpu}"
