"""What each step means, in the words a kernel developer writes: the one reader of events.

Every export draws from here: the race diagram, the sequence diagram, the
Perfetto trace and the sentences a saved counterexample describes itself
with. A step becomes a `Line`: the C line it models with the field and the
value it read or wrote in full (`READ_ONCE(vcpu1->arch.hyperv->tlb_flush_inhibit)
== 0`), or what userspace did in userspace's terms (`pthread_kill(vcpu1
thread)`, `KVM_RUN returns -EINTR`); how deep it sits under the call it
belongs to; the vCPUs it is about. The values come from the event log alone
(each event names the fields it changed), so no step is replayed twice, and
when events gain typed fields this is the one file that changes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hvtui.model.properties import NO_BOGUS_STATUS, NO_NULL_DEREF, SYNC_FLUSHES_ONLY
from hvtui.model.session import Session
from hvtui.model.state import USER, Flush, SetInhibit
from hvtui.model.steps import BY_KIND, W


class Line(NamedTuple):
    time: int  # the step number, as `hvtui run` prints it
    actor: str
    kind: str  # the step's name without its argument: "check", "unsuspend", ...
    depth: int  # 0 = what the actor does; 1 = a line inside it; 2 = inside a loop
    text: str  # the C line, or the userspace action; "" for a scan iteration that matched nobody
    head: str = ""  # the enclosing call, drawn above `text` at depth - 1 (a scan's first row)
    peer: str = ""  # the actor this step acts on: a request's target, a kicked or woken vCPU
    about: tuple[int, ...] = ()  # the vCPUs the step reads, writes or waits for
    subject: int = -1  # the vCPU a scan iteration looked at (for folding)
    violations: tuple[str, ...] = ()
    tracepoint: str = ""  # the series' tracepoint this step fires, as the trace prints it

    @property
    def quiet(self) -> bool:
        """A scan iteration that matched nobody: folded with its neighbours."""
        return self.kind == "unsuspend" and not self.text


# The tracepoints of the series (6/7) and the existing one at the hypercall's entry;
# an event whose line starts with one of these is that tracepoint firing.
SUSPEND = "kvm_hv_vcpu_suspend_tlb_flush"
TRACEPOINTS = frozenset(  # the series' own: a diagram row for each
    {"kvm_hv_flush_tlb", "kvm_hv_flush_tlb_ex", SUSPEND, "kvm_hv_vcpu_unsuspend_tlb_flush"}
)


class Window(NamedTuple):
    """When vcpu's flag was set as far as the guest may know (the checker's window)."""

    vcpu: int
    opened: int  # the step whose ioctl returned with the flag set; 0 = set from the start
    closed: int | None  # the `lock` step of the ioctl that clears it; None = open at the end


def cpu_name(actor: str) -> str:
    """How a diagram heads an actor's column: vcpu1 -> CPU1, vmm -> VMM, vmm:b -> VMM:b."""
    if actor.startswith("vcpu"):
        return "CPU" + actor[4:]
    return "VMM" + actor[3:]


def _hv(c: int, field: str) -> str:
    return f"vcpu{c}->arch.hyperv->{field}"


# -- lines --------------------------------------------------------------------


def kernel_lines(session: Session) -> list[Line]:
    """One Line per step taken so far (up to the session's position)."""
    engine = session.engine
    ops = op_table(session)
    lines = []
    for event, found, inhibit, user in _walk(session):
        kind, arg = event.kind, event.arg
        table = _VCPU if event.actor.startswith("vcpu") else _VMM
        make = table.get(kind, _unknown)
        me = engine.index[event.actor] if event.actor.startswith("vcpu") else -1
        step = _Step(-1 if arg is None else arg, me, ops.get(event.op), inhibit, user, event, found)
        line = make(step)
        tracepoint = event.text if TRACEPOINTS.intersection(event.tracepoints) else ""
        lines.append(
            line._replace(
                time=event.time,
                actor=event.actor,
                kind=kind,
                violations=tuple(found),
                tracepoint=tracepoint,
            )
        )
    return lines


def _walk(session: Session):
    """Each step taken so far, with what it violates and, as they stood before it,
    the vCPUs whose flag is set and those outside KVM_RUN (the sets change after)."""
    inhibit = {c for c, v in enumerate(session.initial.vcpus) if v.inhibit}
    user = {c for c, v in enumerate(session.initial.vcpus) if v.mode == USER}
    taken = slice(0, session.pos)
    for event, found in zip(session.events[taken], session.violations[taken], strict=True):
        yield event, found, inhibit, user
        for name, value in event.changes:
            vcpu, field = name.split(".")
            c = int(vcpu[4:])
            if field == "inhibit":
                (inhibit.add if value else inhibit.discard)(c)
            elif field == "mode":
                (user.add if value == USER else user.discard)(c)


def op_table(session: Session) -> dict:
    """Every op of the program by its id."""
    engine = session.engine
    return {op.id: op for a in range(len(engine.names)) for op in engine.ops[a]}


class _Step(NamedTuple):
    arg: int  # the step's argument: a target, a scanned vCPU; -1 if none
    me: int  # the vCPU taking it; -1 for a VMM thread
    op: object  # the op it belongs to (None for a vCPU's always-available steps)
    inhibit: set  # flags set before the step
    user: set  # vCPUs outside KVM_RUN before the step
    event: object
    found: tuple[str, ...]  # the properties the step violates


def _line(
    depth: int, text: str, peer: str = "", about=(), head: str = "", subject: int = -1
) -> Line:
    return Line(0, "", "", depth, text, head, peer, tuple(about), subject)


def _changed(event, field: str) -> tuple[int, object] | None:
    """The vCPU and value a step stored into `field`, if it did."""
    for name, value in event.changes:
        vcpu, changed = name.split(".")
        if changed == field:
            return int(vcpu[4:]), value
    return None


def _c(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _targets(targets: tuple[int, ...]) -> str:
    if len(targets) <= 3:
        return ", ".join(f"CPU{t}" for t in targets) or "nobody"
    return f"{len(targets)} CPUs"


# a vCPU's own steps


def _enter(s: _Step) -> Line:
    op: Flush = s.op
    return _line(0, f"kvm_hv_flush_tlb() /* {_targets(op.targets)} */", about=op.targets)


def _check(s: _Step) -> Line:
    t = s.arg
    read = f"READ_ONCE({_hv(t, 'tlb_flush_inhibit')})"
    if NO_NULL_DEREF in s.found:
        return _line(1, f"{read}: {_null(t)}", about=(t,))
    if t in s.inhibit:
        return _line(1, f"{read} == 1: goto ret_suspend", about=(t,))
    return _line(1, f"{read} == 0", about=(t,))


def _request(s: _Step) -> Line:
    t = s.arg
    # kvm_make_vcpus_request_mask() makes the request of each vCPU in the mask in turn
    return _line(1, f"kvm_make_request(KVM_REQ_HV_TLB_FLUSH, vcpu{t})", f"vcpu{t}", (t,))


def _complete(s: _Step) -> Line:
    return _line(1, "return HV_STATUS_SUCCESS")


def _s1(s: _Step) -> Line:
    c, value = _changed(s.event, "waiting_on")
    text = f"WRITE_ONCE({_hv(c, 'waiting_on')}, {value})"
    if _changed(s.event, "suspended") is None and SUSPEND in s.event.tracepoints:
        text += " /* suspended */"  # one store suspends when waiting_on is the flag
    return _line(1, text, about=(value,), head="kvm_hv_vcpu_suspend_tlb_flush()")


def _s2(s: _Step) -> Line:
    return _line(1, f"WRITE_ONCE({_hv(s.me, 'suspended')}, true)")


_COMPLETE = "kvm_hv_hypercall_complete()"


def _ebusy(event) -> bool:
    """s3 fell through: the vCPU was no longer suspended, so it is back in the guest."""
    mode = _changed(event, "mode")
    return mode is not None and mode[1] != "blocked"


def _s3(s: _Step) -> Line:
    if NO_BOGUS_STATUS in s.found:
        return _line(
            1, "/* no longer suspended */ status = -EBUSY, instruction skipped", head=_COMPLETE
        )
    if _ebusy(s.event):  # always 1 (wake-all-retry), for a vCPU woken already
        return _line(1, "return 1 /* woken already: the guest retries */", head=_COMPLETE)
    return _line(1, "return 1 /* suspended: not skipped */", head=_COMPLETE)


def _vmexit(s: _Step) -> Line:
    return _line(0, "VM exit handled in KVM /* srcu_read_lock(&kvm->srcu) */")


def _vmentry(s: _Step) -> Line:
    return _line(0, "srcu_read_unlock(&kvm->srcu) /* VM entry */")


def _service(s: _Step) -> Line:
    return _line(0, "kvm_hv_vcpu_flush_tlb()", about=(s.me,))


def _resume(s: _Step) -> Line:
    return _line(0, "kvm_vcpu_block() returns /* retries the hypercall */")


def _leave(s: _Step) -> Line:
    return _line(0, "KVM_RUN returns -EINTR")


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
    "vmexit": _vmexit,
    "vmentry": _vmentry,
}


# a VMM thread's steps


def _exit(s: _Step) -> Line:
    x = s.op.vcpu
    note = " /* already out of KVM_RUN */" if x in s.user else ""
    return _line(0, f"pthread_kill(vcpu{x} thread){note}", f"vcpu{x}", (x,))


def _run(s: _Step) -> Line:
    x = s.op.vcpu
    mode = _changed(s.event, "mode")
    note = " /* suspended: blocks at once */" if mode and mode[1] == "blocked" else ""
    return _line(0, f"ioctl(vcpu{x}_fd, KVM_RUN){note}", f"vcpu{x}", (x,))


def _lock(s: _Step) -> Line:
    op: SetInhibit = s.op
    x = op.vcpu
    return _line(
        1,
        f"mutex_lock(&vcpu{x}->mutex)",
        about=(x,),
        head=f"ioctl(vcpu{x}_fd, KVM_HYPERV_SET_TLB_FLUSH_INHIBIT, {{.inhibit = {int(op.value)}}})",
    )


def _compare(s: _Step) -> Line:
    op: SetInhibit = s.op
    x = op.vcpu
    if NO_NULL_DEREF in s.found:
        return _line(1, f"READ_ONCE({_hv(x, 'tlb_flush_inhibit')}): {_null(x)}", about=(x,))
    now = int(x in s.inhibit)
    text = f"READ_ONCE({_hv(x, 'tlb_flush_inhibit')}) == {now}"
    return _line(1, text + (": return 0" if now == op.value else ""), about=(x,))


def _write_flag(s: _Step) -> Line:
    op: SetInhibit = s.op
    text = f"WRITE_ONCE({_hv(op.vcpu, 'tlb_flush_inhibit')}, {int(op.value)})"
    if NO_NULL_DEREF in s.found:
        text += f": {_null(op.vcpu)}"
    return _line(1, text, about=(op.vcpu,))


def _hyperv_init(s: _Step) -> Line:
    x = s.op.vcpu
    head = f"ioctl(vcpu{x}_fd, KVM_SET_CPUID2)"
    if _changed(s.event, "hyperv"):
        return _line(1, f"kvm_hv_vcpu_init() /* vcpu{x}->arch.hyperv set up */", "", (x,), head)
    # no context made: the engine's line says why (one already, or KVM_RUN came first)
    return _line(1, f"/* {s.event.text.partition(': ')[2]} */", "", (x,), head)


def _sync(s: _Step) -> Line:
    readers = s.event.readers
    note = "no readers" if not readers else "waits for " + ", ".join(f"CPU{c}" for c in readers)
    return _line(1, f"synchronize_srcu(&kvm->srcu) /* {note} */", about=readers)


def _synced(s: _Step) -> Line:
    return _line(1, "synchronize_srcu() returns")


def _scan_head(s: _Step) -> str:
    return "kvm_hv_vcpu_unsuspend_tlb_flush()" if s.arg == 0 else ""


def _unsuspend(s: _Step) -> Line:
    w = s.arg
    if s.event.case == "stays":
        return _line(2, "", about=(w,), head=_scan_head(s), subject=w)
    return _scan_write(s, _scan_head(s))


def _wake(s: _Step) -> Line:
    return _scan_write(s, "")


# What a scan's store writes into the vCPU it matched (2/7's
# kvm_hv_vcpu_unsuspend_tlb_flush()), whether or not the field held it already:
# under wake-all a second scan may store the value a first one left.
_SCAN_STORES = {"waiting_on": -1, "suspended": False}


def _scan_write(s: _Step, head: str) -> Line:
    """A matching scan iteration, or the wake after it: one store into vcpu w."""
    w = s.arg
    (field,) = (
        loc.field for loc in BY_KIND[s.event.kind].case_writes(s.event.case) if loc.who == W
    )
    text = f"WRITE_ONCE({_hv(w, field)}, {_c(_SCAN_STORES[field])})"
    return _line(2, text, f"vcpu{w}", (w,), head)


def _return(s: _Step) -> Line:
    x = s.op.vcpu
    return _line(0, "ioctl returns 0", about=(x,))


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
    "hyperv_init": _hyperv_init,
}


def _null(c: int) -> str:
    """What a read or write through a missing Hyper-V context is."""
    return f"NULL dereference, vcpu{c}->arch.hyperv is NULL"


def _unknown(s: _Step) -> Line:
    """A step this module has no words for yet: the event log's own line."""
    return _line(0, s.event.text)


# -- inhibit windows ----------------------------------------------------------


def windows(session: Session) -> list[Window]:
    """Every inhibit window of the run so far, in the order they opened.

    One opens at the return of an ioctl that leaves the flag set (a write
    through a missing Hyper-V context sets nothing, so it opens none) and
    closes at the `lock` of a later ioctl that clears it.
    """
    ops = op_table(session)
    open_at: dict[int, int] = {c: 0 for c in sorted(session.engine.program.initial_inhibit)}
    out: list[Window] = []
    for event, _, inhibit, _ in _walk(session):
        op = ops.get(event.op)
        if not isinstance(op, SetInhibit):
            continue
        x = op.vcpu
        if event.step == "return" and op.value and x in inhibit and x not in open_at:
            open_at[x] = event.time
        elif event.step == "lock" and not op.value and x in open_at:
            out.append(Window(x, open_at.pop(x), event.time))
    out += [Window(x, t, None) for x, t in open_at.items()]
    return sorted(out, key=lambda w: (w.opened, w.vcpu))


def _open_window(session: Session, c: int, step: int) -> Window | None:
    for w in windows(session):
        if w.vcpu == c and w.opened < step and (w.closed is None or w.closed >= step):
            return w
    return None


# -- what a run shows, in plain English ---------------------------------------


def explain(session: Session, prop: str, step: int, name=cpu_name) -> str:
    """One sentence saying what step `step` did that violates `prop`.

    `name` turns an actor into the word a reader uses (`CPU1` in a diagram,
    `vcpu1` in a scenario's description). A property this module has no
    sentence for is stated with its description from the model.
    """
    from hvtui.model.properties import DESCRIPTIONS, lost_wakeup

    engine = session.engine
    event = session.events[step - 1]
    kind, arg = event.kind, event.arg
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
        op = op_table(session)[event.op]
        inside = [f"vcpu{t}" for t in op.targets if _open_window(session, t, step)]
        if inside:
            return (
                f"{who}'s flush hypercall returns success at {step}, "
                f"{_window(session, inside[0], step, name)}"
            )
    if prop == NO_NULL_DEREF:
        t = f"vcpu{arg}" if kind == "check" else f"vcpu{op_table(session)[event.op].vcpu}"
        return (
            f"{who} dereferences {t}->arch.hyperv at {step}, but {name(t)} has no Hyper-V "
            "context yet (no KVM_SET_CPUID2): a NULL pointer dereference in the host kernel"
        )
    if prop == SYNC_FLUSHES_ONLY:
        before = session.state_at(step - 1)
        busy = [name(f"vcpu{c}") for c, v in enumerate(before.vcpus) if v.pc == "vmentry"]
        return (
            f"{who}'s synchronize_srcu() at {step} waits for {', '.join(busy)}, which "
            f"{'is' if len(busy) == 1 else 'are'} not in a flush hypercall but in other "
            "work holding kvm->srcu"
        )
    if prop == NO_BOGUS_STATUS:
        return (
            f"{who}'s flush hypercall completes at {step} with -EBUSY as its status: "
            "it was woken before kvm_hv_hypercall_complete(), so the instruction is "
            "skipped and nothing was flushed"
        )
    if prop == "no-lost-wakeup":
        state = session.state_at(step)
        for c, v in enumerate(state.vcpus):
            if lost_wakeup(engine, state, c):
                who = name(f"vcpu{c}")
                if v.waiting_on == -1:
                    return (
                        f"after {step}, {who} is suspended with waiting_on = -1: "
                        "no unsuspend scan will ever match it"
                    )
                return (
                    f"after {step}, {who} is suspended waiting on "
                    f"{name(f'vcpu{v.waiting_on}')}, whose flag is clear: nothing will wake it"
                )
    if prop == "suspended-stays-put":
        return f"{who} runs guest code at {step} while it is suspended"
    return f"step {step} ({who}) breaks {prop}: {DESCRIPTIONS.get(prop, prop)}"


def _window(session: Session, target: str, step: int, name) -> str:
    w = _open_window(session, int(target[4:]), step)
    if w is None:
        return f"while {name(target)}'s flag is clear"
    if w.opened == 0:
        return f"while {name(target)}'s flag has been set since the start"
    return f"after the ioctl that set {name(target)}'s flag returned at {w.opened}"


def ending(session: Session, name=cpu_name) -> str:
    """How the run ends, in a sentence: everyone done, waiting as intended, or stuck."""
    from hvtui.model.properties import BLOCKED_BY_DESIGN, HOLDS

    done = session.progress()
    if done is None:
        return f"The run stops after step {session.pos}, with steps still to take."
    if done.verdict == HOLDS:
        return "Every thread runs to the end."
    engine = session.engine
    waits: dict[str, list[str]] = {}
    for a, actor in enumerate(engine.names):
        if not engine.finished(session.state, a):
            st = session.engine.status(session.state, a)
            waits.setdefault(_words(st.why, name), []).append(name(actor))
    parts = "; ".join(
        f"{', '.join(who) if len(who) <= 3 else _count(who)} "
        f"{'waits' if len(who) == 1 else 'wait'}: {why}"
        for why, who in waits.items()
    )
    if done.verdict == BLOCKED_BY_DESIGN:
        return f"At the end {parts}. They stay suspended on a flag still set, as intended."
    return f"At the end {parts}. Nothing can run any more: a deadlock."


def _count(who: list[str]) -> str:
    return f"{len(who)} {'CPUs' if all(w.startswith('CPU') for w in who) else 'threads'}"


def _words(why: str, name) -> str:
    """An engine's reason with its actor names as the diagram writes them."""
    return re.sub(r"\bvcpu\d+|\bvmm(?::[\w-]+)?", lambda m: name(m.group(0)), why)
