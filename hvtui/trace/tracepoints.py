"""Which atomic step prints which tracepoint: the one place that says so.

Keyed by the engine's step kind (the step's name without its argument), so
it can be read from a step table once the steps declare their tracepoints.
A step prints what the kernel line it models is next to:

- `enter`: kvm_exit, kvm_hv_hypercall, kvm_hv_flush_tlb[_ex] (the VMCALL exit,
  kvm_hv_hypercall(), kvm_hv_flush_tlb() reading its input);
- `s2` (`s1` in merged-state): kvm_hv_vcpu_suspend_tlb_flush (6/7 traces it after
  both writes of kvm_hv_vcpu_suspend_tlb_flush());
- `complete`: kvm_hv_hypercall_done with success, kvm_entry;
- `s3` falling through: kvm_hv_hypercall_done with -EBUSY, kvm_entry; `s3` still
  suspended prints nothing (5/7 returns 1 before trace_kvm_hv_hypercall_done());
- `wake` (`unsuspend` in merged-state): kvm_hv_vcpu_unsuspend_tlb_flush (6/7: after
  both writes, in the ioctl's scan; so under unsuspend-swapped too, at `wake`);
- `leave`: kvm_userspace_exit (KVM_RUN returns -EINTR to userspace);
- `resume`, and a `run` that enters the guest: kvm_entry;
- `vmexit` / `vmentry` (kernel_work, model v2): kvm_exit / kvm_entry; with
  `hvtui trace --kernel-work` a trace's kvm_exit..kvm_entry pair that holds no
  flush and no userspace exit is such an op.

Only some of these say something the model decides (`Emit.key` is not
None): the flush with its targets, its result, a suspension, an
unsuspension, a userspace exit. kvm_entry, kvm_exit and kvm_hv_hypercall
are printed for realism (and say which pid is which vCPU) but match nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.engine import Engine, Event
from hvtui.model.state import GUEST, State
from hvtui.trace import formats


class Emit(NamedTuple):
    name: str  # the tracepoint
    fields: str  # its fields, as TP_printk prints them
    vcpu: int  # whose thread prints it: a vCPU id, or -1 for the stepping actor's thread
    key: tuple | None = None  # what a trace event must equal to be this step; None: matches nothing


def flush_key(targets: tuple[int, ...], spec: object, n: int) -> tuple:
    """The key of the flush line a guest prints for these targets (see formats.flush_targets)."""
    name, fields, _ = formats.print_flush(targets, spec, n)
    parsed = formats.parse(name, fields)
    assert parsed is not None
    return ("flush", formats.flush_targets(name, parsed))


def _enter(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    op = engine.ops[c][before.vcpus[c].op]
    name, fields, code = formats.print_flush(op.targets, op.spec, engine.n)
    return (
        Emit(formats.EXIT, formats.print_exit(c, "VMCALL"), c),
        Emit(formats.HYPERCALL, formats.print_hypercall(code), c),
        Emit(name, fields, c, flush_key(op.targets, op.spec, engine.n)),
    )


def _suspend(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    if event.kind == "s1" and not engine.variant.merged_state:
        return ()  # posted: s1 is the first write; 6/7 traces after the second (s2)
    t = after.vcpus[c].waiting_on
    return (Emit(formats.SUSPEND, formats.print_suspend(c, t), c, ("suspend", c, t)),)


def _done(outcome: str) -> tuple:
    return ("done", outcome)


def _complete(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    return (
        Emit(formats.DONE, formats.print_done("ok"), c, _done("ok")),
        Emit(formats.ENTRY, formats.print_entry(c), c),
    )


def _s3(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    if after.vcpus[c].op == before.vcpus[c].op:
        return ()  # returned 1 (suspended, or wake-all-retry): the op restarts, no result
    return (
        Emit(formats.DONE, formats.print_done("ebusy"), c, _done("ebusy")),
        Emit(formats.ENTRY, formats.print_entry(c), c),
    )


def _unsuspended(engine: Engine, a: int, before: State, after: State, event: Event) -> tuple:
    """The step of the scan that finishes waking w (both writes done)."""
    kind, w = event.kind, event.arg
    last = "unsuspend" if engine.variant.merged_state else "wake"
    if kind != last or not any(
        name == f"vcpu{w}.waiting_on" or name == f"vcpu{w}.suspended" for name, _ in event.changes
    ):
        return ()
    return (Emit(formats.UNSUSPEND, formats.print_unsuspend(w), -1, ("unsuspend", w)),)


def _leave(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    return (Emit(formats.USEREXIT, formats.print_userexit(), c, ("userexit",)),)


def _resume(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    return (Emit(formats.ENTRY, formats.print_entry(c), c),)


def _vmexit(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    return (Emit(formats.EXIT, formats.print_exit(c, "EPT_MISCONFIG"), c, ("vmexit",)),)


def _vmentry(engine: Engine, c: int, before: State, after: State, event: Event) -> tuple:
    return (Emit(formats.ENTRY, formats.print_entry(c), c, ("vmentry",)),)


def _run(engine: Engine, a: int, before: State, after: State, event: Event) -> tuple:
    op = engine.current_op(before, a)
    if after.vcpus[op.vcpu].mode != GUEST:
        return ()
    return (Emit(formats.ENTRY, formats.print_entry(op.vcpu), op.vcpu),)


# step kind -> what it prints
TRACEPOINTS = {
    "enter": _enter,
    "s1": _suspend,
    "s2": _suspend,
    "complete": _complete,
    "s3": _s3,
    "unsuspend": _unsuspended,
    "wake": _unsuspended,
    "leave": _leave,
    "resume": _resume,
    "run": _run,
    "vmexit": _vmexit,
    "vmentry": _vmentry,
}


def emitted(engine: Engine, before: State, actor: int, event: Event, after: State) -> tuple:
    """What the step `before --actor/event--> after` prints, in order."""
    make = TRACEPOINTS.get(event.kind)
    return make(engine, actor, before, after, event) if make else ()
