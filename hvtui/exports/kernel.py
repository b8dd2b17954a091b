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


# -- what a violation means, in plain English ---------------------------------


def vcpu_name(actor: str) -> str:
    """How a diagram names an actor: vcpu1 -> CPU1, vmm -> VMM, vmm:b -> VMM:b."""
    if actor.startswith("vcpu"):
        return "CPU" + actor[4:]
    return "VMM" + actor[3:]


def explain(session: Session, prop: str, step: int, name=vcpu_name) -> str:
    """One sentence saying what step `step` did that violates `prop`.

    `name` turns an actor into the word a reader uses (`CPU1` in a diagram,
    `vcpu1` in a scenario's description). A property this module has no
    sentence for is stated with its description from the model.
    """
    from hvtui.model.properties import DESCRIPTIONS, lost_wakeup

    engine = session.engine
    event = session.events[step - 1]
    kind, _, arg = event.step.partition(" ")
    who = name(event.actor)
    if kind == "service":
        window = _window(session, event.actor, step, name)
        return f"{who} services the flush request at {step}, {window}"
    if kind == "request":
        target = f"vcpu{arg}"
        return (
            f"{who} raises a flush request for {name(target)} at {step}, "
            f"{_window(session, target, step, name)}"
        )
    if kind == "complete":
        op = _ops(engine)[event.op]
        inside = [f"vcpu{t}" for t in op.targets if _window_start(session, f"vcpu{t}", step)]
        if inside:
            return (
                f"{who}'s flush hypercall returns success at {step}, "
                f"{_window(session, inside[0], step, name)}"
            )
    if kind == "s3" and "-EBUSY" in event.text:
        return (
            f"{who}'s flush hypercall completes at {step} with -EBUSY as its status: "
            "it was woken before kvm_hv_hypercall_complete(), so the instruction is "
            "skipped and nothing was flushed"
        )
    state = session.state_at(step)
    if prop == "no-lost-wakeup":
        for c, v in enumerate(state.vcpus):
            if lost_wakeup(engine, state, c):
                on = "nobody" if v.waiting_on == -1 else name(f"vcpu{v.waiting_on}")
                return (
                    f"after {step}, {name(f'vcpu{c}')} is suspended waiting on {on}, "
                    "whose flag is clear: nothing will ever wake it"
                )
    if prop == "suspended-stays-put":
        return f"{who} runs guest code at {step} while it is suspended"
    return f"step {step} ({who}) breaks {prop}: {DESCRIPTIONS.get(prop, prop)}"


def _ops(engine) -> dict:
    return {op.id: op for a in range(len(engine.names)) for op in engine.ops[a]}


def _window_start(session: Session, target: str, step: int) -> int | None:
    """The step whose ioctl opened `target`'s inhibit window, open at `step`:
    0 when the flag was set from the start, None when it is closed."""
    c = int(target[4:])
    ops = _ops(session.engine)
    opened = 0 if c in session.engine.program.initial_inhibit else None
    for event in session.events[: step - 1]:
        op = ops.get(event.op)
        if isinstance(op, SetInhibit) and op.vcpu == c:
            if event.step == "return" and op.value:
                opened = event.time
            elif event.step == "lock" and not op.value:
                opened = None
    return opened


def _window(session: Session, target: str, step: int, name) -> str:
    opened = _window_start(session, target, step)
    if opened is None:
        return f"while {name(target)}'s flag is clear"
    if opened == 0:
        return f"while {name(target)}'s flag has been set since the start"
    return f"after the ioctl that set {name(target)}'s flag returned at {opened}"
