"""What a step's tracepoints print: their fields, as TP_printk prints them.

Which tracepoints a step emits is the step table's (hvtui.model.steps, each
outcome's `Case.tracepoints`, carried by the event); this module only fills
in each tracepoint's fields from the step, keyed by the tracepoint's name:

- kvm_exit: the reason of the VM exit that starts the step's op (the
  hypercall's VMCALL, a kernel_work op's EPT_MISCONFIG, the kick's
  EXTERNAL_INTERRUPT before a userspace exit);
- kvm_hv_hypercall, kvm_hv_flush_tlb: the flush op's code and targets; a
  sparse or wide target set prints kvm_hv_flush_tlb_ex instead;
- kvm_hv_hypercall_done: HV_STATUS_SUCCESS, or 5/7's -EBUSY when `s3` falls
  through (after a suspension 5/7 returns 1 before tracing a result);
- kvm_hv_vcpu_suspend_tlb_flush: the vCPU and the target it suspends on;
- kvm_hv_vcpu_unsuspend_tlb_flush: the vCPU the scan is at, printed on the
  VMM thread running the ioctl;
- kvm_entry, kvm_userspace_exit: the vCPU entering or leaving.

Only some of these say something the model decides (`Emit.key` is not
None): the flush with its targets, its result, a suspension, an
unsuspension, a userspace exit, and the exit and entry around a kernel_work
op. The other kvm_entry, kvm_exit and kvm_hv_hypercall lines are printed
for realism (and say which pid is which vCPU) but match nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.engine import Engine, Event
from hvtui.model.state import State
from hvtui.model.steps import BY_KIND
from hvtui.trace import formats

WORK = "kernel_work"  # the op whose VM exit and entry the model decides
# the reason kvm_exit prints, by the op kind of the step that exits ("": a kick)
_EXIT_REASON = {"flush": "VMCALL", WORK: "EPT_MISCONFIG", "": "EXTERNAL_INTERRUPT"}


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


class _At(NamedTuple):
    """The step a tracepoint fires in."""

    engine: Engine
    actor: int
    before: State
    after: State
    event: Event

    @property
    def op_kind(self) -> str:
        return BY_KIND[self.event.kind].op

    @property
    def vcpu(self) -> int:
        """The vCPU the step is about: the stepping vCPU, or the VMM op's."""
        if self.actor < self.engine.n:
            return self.actor
        return self.engine.current_op(self.before, self.actor).vcpu

    def flush(self) -> tuple[str, str, int]:
        c = self.actor
        op = self.engine.ops[c][self.before.vcpus[c].op]
        return formats.print_flush(op.targets, op.spec, self.engine.n)


def _exit(at: _At) -> Emit:
    kind = at.op_kind
    key = ("vmexit",) if kind == WORK else None
    return Emit(formats.EXIT, formats.print_exit(at.vcpu, _EXIT_REASON[kind]), at.vcpu, key)


def _hypercall(at: _At) -> Emit:
    return Emit(formats.HYPERCALL, formats.print_hypercall(at.flush()[2]), at.vcpu)


def _flush(at: _At) -> Emit:
    name, fields, _ = at.flush()
    op = at.engine.ops[at.actor][at.before.vcpus[at.actor].op]
    return Emit(name, fields, at.vcpu, flush_key(op.targets, op.spec, at.engine.n))


def _done(at: _At) -> Emit:
    outcome = "ok" if at.event.case == "success" else "ebusy"
    return Emit(formats.DONE, formats.print_done(outcome), at.vcpu, ("done", outcome))


def _suspend(at: _At) -> Emit:
    # 6/7 prints kvm_hv_vcpu_suspend_tlb_flush()'s argument, the target, not the
    # waiting_on field read back: a swapped scan may have reset that to -1 already
    c = at.vcpu
    v = at.before.vcpus[c]
    t = at.engine.ops[c][v.op].targets[v.k]
    return Emit(formats.SUSPEND, formats.print_suspend(c, t), c, ("suspend", c, t))


def _unsuspend(at: _At) -> Emit:
    w = at.event.arg
    return Emit(formats.UNSUSPEND, formats.print_unsuspend(w), -1, ("unsuspend", w))


def _entry(at: _At) -> Emit:
    key = ("vmentry",) if at.op_kind == WORK else None
    return Emit(formats.ENTRY, formats.print_entry(at.vcpu), at.vcpu, key)


def _userexit(at: _At) -> Emit:
    return Emit(formats.USEREXIT, formats.print_userexit(), at.vcpu, ("userexit",))


# tracepoint -> its fields at a step (the step table's names; _ex is kvm_hv_flush_tlb's form)
FIELDS = {
    formats.EXIT: _exit,
    formats.HYPERCALL: _hypercall,
    formats.FLUSH: _flush,
    formats.DONE: _done,
    formats.SUSPEND: _suspend,
    formats.UNSUSPEND: _unsuspend,
    formats.ENTRY: _entry,
    formats.USEREXIT: _userexit,
}


def emitted(engine: Engine, before: State, actor: int, event: Event, after: State) -> tuple:
    """What the step `before --actor/event--> after` prints, in order: the
    tracepoints its outcome declares in the step table."""
    if not event.tracepoints:
        return ()
    at = _At(engine, actor, before, after, event)
    return tuple(FIELDS[name](at) for name in event.tracepoints)
