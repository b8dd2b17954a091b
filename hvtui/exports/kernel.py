"""Each atomic step as the kernel line it models, the way a reviewer writes it.

The diagram and the sequence diagram both draw from these lines. A line is
the C call (`READ_ONCE(tlb_flush_inhibit)`), the value it read or wrote as a
comment, how deep it sits under the call it belongs to, and the actor it
acts on, if any. The values come from the event log alone (each event names
the fields it changed), so no step is replayed twice.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.engine import format_targets
from hvtui.model.session import Session
from hvtui.model.state import USER, Flush, SetInhibit


class Line(NamedTuple):
    time: int  # the step number, as `hvtui run` prints it
    actor: str
    kind: str  # the step's name without its argument: "check", "unsuspend", ...
    depth: int  # 0 = the call the actor makes; 1 = a line inside it; 2 = inside a loop
    code: str  # the kernel line; "" when the line is only a comment
    note: str = ""  # what was read or written, shown as a C comment
    peer: str = ""  # the actor this step acts on: a request's target, a woken vCPU
    subject: int = -1  # the vCPU a scan iteration looked at (for folding)
    violations: tuple[str, ...] = ()

    @property
    def quiet(self) -> bool:
        """A scan iteration that matched nobody: folded with its neighbours."""
        return self.kind == "unsuspend" and not self.peer


def kernel_lines(session: Session) -> list[Line]:
    """One Line per step taken so far (up to the session's position)."""
    engine = session.engine
    inhibit = {c for c, v in enumerate(session.initial.vcpus) if v.inhibit}
    user = {c for c, v in enumerate(session.initial.vcpus) if v.mode == USER}
    ops = {op.id: op for a in range(len(engine.names)) for op in engine.ops[a]}
    lines = []
    taken = slice(0, session.pos)
    for event, found in zip(session.events[taken], session.violations[taken], strict=True):
        kind, _, arg = event.step.partition(" ")
        make = _VCPU if event.actor.startswith("vcpu") else _VMM
        line = make[kind](int(arg) if arg else -1, ops.get(event.op), inhibit, user, event)
        lines.append(
            line._replace(time=event.time, actor=event.actor, kind=kind, violations=tuple(found))
        )
        for name, value in event.changes:
            vcpu, field = name.split(".")
            c = int(vcpu[4:])
            if field == "inhibit":
                (inhibit.add if value else inhibit.discard)(c)
            elif field == "mode":
                (user.add if value == USER else user.discard)(c)
    return lines


def _line(depth: int, code: str, note: str = "", peer: str = "", subject: int = -1) -> Line:
    return Line(0, "", "", depth, code, note, peer, subject)


def _written(event, field: str) -> tuple[int, object]:
    """The vCPU and value a WRITE_ONCE step stored into `field`."""
    for name, value in event.changes:
        vcpu, changed = name.split(".")
        if changed == field:
            return int(vcpu[4:]), value
    raise ValueError(f"step {event.time} did not write {field}")


def _scan_write(event) -> Line:
    """A matching scan iteration, or the wake after it: one store into vcpu w."""
    (name, value), *_ = event.changes
    vcpu, field = name.split(".")
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    return _line(2, f"WRITE_ONCE({field}, {shown})", vcpu, peer=vcpu)


# -- a vCPU's own steps -------------------------------------------------------


def _enter(t, op: Flush, inhibit, user, event) -> Line:
    return _line(0, "kvm_hv_flush_tlb()", format_targets(op.targets))


def _check(t, op, inhibit, user, event) -> Line:
    if t in inhibit:
        return _line(1, "READ_ONCE(tlb_flush_inhibit)", f"vcpu{t}: 1, goto ret_suspend")
    return _line(1, "READ_ONCE(tlb_flush_inhibit)", f"vcpu{t}: 0")


def _request(t, op, inhibit, user, event) -> Line:
    return _line(1, "kvm_make_vcpus_request_mask()", f"vcpu{t}", peer=f"vcpu{t}")


def _complete(t, op, inhibit, user, event) -> Line:
    return _line(0, "kvm_hv_hypercall_complete()", "HV_STATUS_SUCCESS")


def _s1(t, op, inhibit, user, event) -> Line:
    c, value = _written(event, "waiting_on")
    if event.text.startswith("WRITE_ONCE"):
        return _line(1, f"WRITE_ONCE(waiting_on, {value})")
    return _line(1, f"WRITE_ONCE(waiting_on, {value})", "suspended")  # merged-state


def _s2(t, op, inhibit, user, event) -> Line:
    return _line(1, "WRITE_ONCE(suspended, true)")


def _s3(t, op, inhibit, user, event) -> Line:
    return _line(0, "kvm_hv_hypercall_complete()", "suspended: return 1, no skip")


def _service(t, op, inhibit, user, event) -> Line:
    return _line(0, "kvm_hv_vcpu_flush_tlb()")


def _resume(t, op, inhibit, user, event) -> Line:
    return _line(0, "kvm_vcpu_block()", "returns: retry the hypercall")


def _leave(t, op, inhibit, user, event) -> Line:
    return _line(0, "kvm_arch_vcpu_ioctl_run()", "returns to the VMM")


_VCPU = {
    "enter": _enter,
    "check": _check,
    "request": _request,
    "complete": _complete,
    "s1": _s1,
    "s2": _s2,
    "s3": _s3,
    "service": _service,
    "resume": _resume,
    "leave": _leave,
}


# -- a VMM thread's steps -----------------------------------------------------


def _exit(t, op, inhibit, user, event) -> Line:
    note = "already outside KVM_RUN" if op.vcpu in user else "exit request"
    return _line(0, f"kvm_vcpu_kick(vcpu{op.vcpu})", note, peer=f"vcpu{op.vcpu}")


def _run(t, op, inhibit, user, event) -> Line:
    return _line(0, f"ioctl(vcpu{op.vcpu}, KVM_RUN)", peer=f"vcpu{op.vcpu}")


def _lock(t, op: SetInhibit, inhibit, user, event) -> Line:
    return _line(0, f"SET_TLB_FLUSH_INHIBIT(vcpu{op.vcpu}, {int(op.value)})", "mutex_lock")


def _compare(t, op: SetInhibit, inhibit, user, event) -> Line:
    now = int(op.vcpu in inhibit)
    note = f"{now}: return 0" if now == op.value else str(now)
    return _line(1, "READ_ONCE(tlb_flush_inhibit)", note)


def _write_flag(t, op: SetInhibit, inhibit, user, event) -> Line:
    return _line(1, f"WRITE_ONCE(tlb_flush_inhibit, {int(op.value)})")


def _sync(t, op, inhibit, user, event) -> Line:
    who = event.text.partition("waits for ")[2]
    return _line(1, "synchronize_srcu()", "no readers" if who == "nobody" else f"waits: {who}")


def _synced(t, op, inhibit, user, event) -> Line:
    return _line(1, "", "synchronize_srcu() returns")


def _unsuspend(w, op, inhibit, user, event) -> Line:
    if not event.changes:
        return _line(2, "", f"vcpu{w} stays", subject=w)
    return _scan_write(event)


def _wake(w, op, inhibit, user, event) -> Line:
    return _scan_write(event)


def _return(t, op, inhibit, user, event) -> Line:
    return _line(1, "return 0", "mutex_unlock")


_VMM = {
    "exit": _exit,
    "run": _run,
    "lock": _lock,
    "compare": _compare,
    "write": _write_flag,
    "sync": _sync,
    "synced": _synced,
    "unsuspend": _unsuspend,
    "wake": _wake,
    "return": _return,
}
