"""Every atomic step of the model, declared once: the table the rest reads.

A `StepDef` says which actor takes the step and in which op, when it is
enabled, which locations it reads and writes, the kernel line it prints
(one per outcome, with the tracepoint that outcome emits, if any), where
in the series it comes from, and its effect: a function from the state to
the next state. The engine (hvtui.model.engine) runs the effects and
guards; the partial-order reduction (hvtui.check.por) and the property
monitor's visibility (hvtui.model.properties) read the footprints;
`hvtui steps` prints the table. tests/test_steps_footprints.py holds every
footprint to what its effect really reads and writes on random reachable
states, so a declaration that lies fails there.

A location is (field, whom). Fields are Vcpu's, plus `pos` (an actor's
position in its program: op, pc and target or scan cursor), `readers`
(what synchronize_srcu recorded), `windows` (the inhibit-window history
the properties read) and `in_ioctl` (a set_inhibit is between `lock` and
`return`). Whom: the stepping vCPU `c`, the flush's current target `t`,
the VMM op's vCPU `x`, the scan's vCPU `w`, every vCPU `all`, the readers
synchronize_srcu recorded `recorded`, and the stepping VMM thread `thread`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from hvtui.model.state import (
    BLOCKED,
    GUEST,
    KERNEL,
    KVM_RUN,
    USER,
    State,
    Thread,
    Vcpu,
    setter,
    setter_of,
)

# -- whom a location names ------------------------------------------------------

C = "c"  # the vCPU taking the step
T = "t"  # the flush's current target
X = "x"  # the vCPU the VMM op acts on
W = "w"  # the vCPU the unsuspend scan is at
ALL = "all"  # every vCPU
RECORDED = "recorded"  # the readers synchronize_srcu waits for
THREAD = "thread"  # the VMM thread taking the step

VCPU, VMM = "vcpu", "vmm"  # actor kinds


class Loc(NamedTuple):
    field: str
    who: str

    def __str__(self) -> str:
        return f"{self.field}[{self.who}]"


def locs(spec: str) -> tuple[Loc, ...]:
    """ "mode[c] pending_flush[t]" -> (Loc("mode", "c"), Loc("pending_flush", "t"))."""
    out = []
    for word in spec.split():
        name, _, who = word.partition("[")
        out.append(Loc(name, who.rstrip("]")))
    return tuple(out)


# -- typed steps -----------------------------------------------------------------


class Step(str):
    """A step as a value: its kind and its argument (a vCPU id, or None).

    It is also the string the event log and the schedules show ("check 2"),
    so displays and exports print it unchanged, while code reads `.kind` and
    `.arg` instead of parsing the text.
    """

    kind: str
    arg: int | None

    def __new__(cls, kind: str, arg: int | None = None) -> Step:
        self = super().__new__(cls, kind if arg is None else f"{kind} {arg}")
        self.kind = kind
        self.arg = arg
        return self

    def __reduce__(self):
        return (Step, (self.kind, self.arg))


NO_STEP = Step("")


class Case(NamedTuple):
    """One outcome of a step: its kernel line, the tracepoints it emits (in the
    kernel's order) and what it writes, beyond what every outcome writes."""

    text: str  # "{}" are filled from the effect's key: a vCPU id, or a tuple
    tracepoints: tuple[str, ...] = ()
    writes: tuple[Loc, ...] = ()


class Promela(NamedTuple):
    """The step as Promela (hvtui.exports.promela assembles one d_step from it):
    its guard, beyond being the actor's next step ("" = none), and its effect.
    C, T, X, B, TH, ME and W stand for the stepping vCPU, the current target,
    the VMM op's vCPU and value, the thread, its mutex owner id and the scan's
    vCPU; NT is the flush's number of targets and LAST whether T is its last;
    EACH(...), ALL(...) and ANY(...) repeat their text for every vCPU @."""

    guard: str
    effect: str


@dataclass(frozen=True)
class StepDef:
    kind: str
    actor: str  # VCPU or VMM
    op: str  # the op kind it belongs to; "" for a vCPU's always-available steps
    arg: str  # what the step's argument names: T, W or "" (none)
    guard: str  # when it is enabled, in words ("" = always, once it is the next step)
    reads: tuple[Loc, ...]  # what the guard and the effect read
    writes: tuple[Loc, ...]  # what every outcome writes
    cases: dict[str, Case]  # outcome -> its line, tracepoints and extra writes
    series: str  # the line of the series (or of KVM) it models
    effect: Callable = field(repr=False, compare=False)
    promela: Promela = field(repr=False, compare=False)  # the same step, for SPIN
    # Whether the step exists under a variant and for an op (e.g. no `sync`
    # under no-sync, no scan when setting the flag).
    applies: Callable = field(default=lambda variant, op: True, repr=False, compare=False)
    # The guard as code. A vCPU's step outside a hypercall: when(engine, c, v,
    # first) with `first` the current op's first step (None when done);
    # waits(engine, c, v, first) says why it waits where the actor would take
    # it, "" elsewhere. A VMM step: blocked(engine, state, thread, op), ""
    # when enabled. Steps at a fixed pc with no guard have neither.
    # What the step reads beyond `reads` under a variant (the SRCU domain
    # synchronize_srcu waits on).
    more_reads: Callable = field(default=lambda variant: (), repr=False, compare=False)
    when: Callable | None = field(default=None, repr=False, compare=False)
    waits: Callable | None = field(default=None, repr=False, compare=False)
    blocked: Callable | None = field(default=None, repr=False, compare=False)

    def reads_under(self, variant) -> tuple[Loc, ...]:
        return self.reads + self.more_reads(variant)

    def all_writes(self) -> tuple[Loc, ...]:
        extra = [w for case in self.cases.values() for w in case.writes if w not in self.writes]
        return self.writes + tuple(dict.fromkeys(extra))

    def case_writes(self, case: str) -> tuple[Loc, ...]:
        return self.writes + self.cases[case].writes


# -- how effects write the state ---------------------------------------------------
#
# An effect does not build the next State: it returns what the step writes,
# and the engine applies that. So the same effect serves the engine's
# persistent states (Engine.take: a Vec.set per write) and a Session's run
# to the end, which writes a plain list in place and makes a State only
# where one is kept (hvtui.model.session). `s` is read only, through
# `s.vcpus[i]`, iterating `s.vcpus`, `s.threads` and `s.windows`.
#
# A vCPU's effect(engine, s, c, vcpus[c]) -> (case, key, writes); a VMM
# thread's effect(engine, s, i, threads[i], op) -> (case, key, thread after,
# writes, windows after). `writes` is flat: (slot, Vcpu) or (i, vi, j, vj)
# with i != j, or () for none.

_new = tuple.__new__  # builds a NamedTuple from a tuple, without keyword parsing

_set_mode = setter("mode")
_set_pc = setter("pc")
_set_k = setter("k")
_set_pc_k = setter("pc", "k")
_set_pending = setter("pending_flush")
_set_mutex = setter("mutex")
_set_exit = setter("exit_pending")
_set_inhibit = setter("inhibit")
_set_waiting_on = setter("waiting_on")
_set_suspended = setter("suspended")
_set_waiting_on_pc = setter("waiting_on", "pc")
_set_suspended_pc = setter("suspended", "pc")
_serviced = setter("pending_flush", "flushes")
_left = setter("mode", "mutex", "exit_pending")
_entered = setter("mode", "srcu_reader", "srcu_gen", "pc", "k")
_entered_own = setter(
    "mode", "srcu_reader", "srcu_gen", "flush_srcu_reader", "flush_srcu_gen", "pc", "k"
)
_returned = setter("mode", "srcu_reader", "flush_srcu_reader", "op", "pc", "k")
_work_done = setter("mode", "srcu_reader", "op", "pc", "k")
_ran = setter("mode", "mutex", "ran")
_set_hyperv = setter("hyperv")
_set_thread_pc = setter_of(Thread, "pc")
_set_thread_pc_w = setter_of(Thread, "pc", "w")


def _next_op(th: Thread) -> Thread:
    """The thread has finished its op: on to the next one, from its first step."""
    return _new(Thread, (th.op + 1, "", 0, ()))


def _advance(v: Vcpu, count: int, then: str) -> Vcpu:
    """On to the next target, or to `then` after the last one."""
    if v.k + 1 < count:
        return _set_k(v, v.k + 1)
    return _set_pc_k(v, then, 0)


# -- a vCPU's steps: effect(engine, state, c, vcpus[c]) -> (case, key, writes) --------


def _service(e, s, c, v):
    # vcpu_enter_guest(): KVM_REQ_HV_TLB_FLUSH -> kvm_hv_vcpu_flush_tlb()
    return "flush", c, (c, _serviced(v, False, v.flushes + 1))


def _resume(e, s, c, v):
    # kvm_vcpu_running() is true again: the hypercall instruction re-executes
    return "runnable", c, (c, _set_mode(v, GUEST))


def _leave(e, s, c, v):
    # signal pending: KVM_RUN returns to userspace and drops vcpu->mutex
    case = "from_guest" if v.mode == GUEST else "from_blocked"
    return case, c, (c, _left(v, USER, "", False))


def _enter(e, s, c, v):
    # kvm_hv_hypercall() -> kvm_hv_flush_tlb(), under srcu_read_lock()
    targets = e.ops[c][v.op].targets
    first = "complete" if not targets else ("request" if e.variant.request_first else "check")
    key = (c, e.targets_text(c, v.op))
    if e.variant.own_srcu:  # the flush path's own srcu_read_lock(), around the whole hypercall
        v = _entered_own(v, KERNEL, True, v.srcu_gen + 1, True, v.flush_srcu_gen + 1, first, 0)
        return "enter_own", key, (c, v)
    return "enter", key, (c, _entered(v, KERNEL, True, v.srcu_gen + 1, first, 0))


def _check(e, s, c, v):
    # if (READ_ONCE(v->arch.hyperv->tlb_flush_inhibit)) goto ret_suspend;
    targets = e.ops[c][v.op].targets
    t = targets[v.k]
    target = s.vcpus[t]
    if target.inhibit:
        return "inhibited", t, (c, _set_pc(v, "s1"))
    v = _advance(v, len(targets), "complete" if e.variant.request_first else "request")
    # 5/7 has no NULL check here: without a Hyper-V context the read is a
    # NULL dereference (no-null-deref); the model reads 0 and goes on.
    return "clear" if target.hyperv else "null", t, (c, v)


def _request(e, s, c, v):
    # kvm_make_vcpus_request_mask(kvm, KVM_REQ_HV_TLB_FLUSH, vcpu_mask)
    # (3/7's hv_tlb_flush_enqueue() returns on !hv_vcpu: safe without a context)
    targets = e.ops[c][v.op].targets
    t = targets[v.k]
    then = "check" if e.variant.request_first else "complete"
    if t == c:
        return "request", t, (c, _advance(_set_pending(v, True), len(targets), then))
    return "request", t, (t, _set_pending(s.vcpus[t], True), c, _advance(v, len(targets), then))


def _complete(e, s, c, v):
    # return HV_STATUS_SUCCESS: the instruction is skipped; srcu_read_unlock()
    return "success", c, (c, _returned(v, GUEST, False, False, v.op + 1, "enter", 0))


def _s1(e, s, c, v):
    # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(waiting_on, vcpu_id)
    t = e.ops[c][v.op].targets[v.k]
    if e.variant.merged_state:  # waiting_on alone is the suspended state
        return "suspends", (c, t), (c, _set_waiting_on_pc(v, t, "s3"))
    return "waiting_on", (c, t), (c, _set_waiting_on_pc(v, t, "s2"))


def _s2(e, s, c, v):
    # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(suspended, true)
    return "suspends", (c, v.waiting_on), (c, _set_suspended_pc(v, True, "s3"))


def _s3(e, s, c, v):
    # kvm_hv_hypercall_complete(): if (kvm_hv_vcpu_suspended(vcpu)) return 1;
    # the instruction is not skipped, so the op restarts at `enter`.
    if e.suspended(v):
        return "not_skipped", c, (c, _returned(v, BLOCKED, False, False, v.op, "enter", 0))
    if e.variant.retry:
        # wake-all-retry: return 1 whatever happened; woken already, the
        # vCPU is runnable and re-executes the hypercall at once.
        return "retries", c, (c, _returned(v, GUEST, False, False, v.op, "enter", 0))
    # Unsuspended between s2 and here (only a scan that did not wait for
    # this reader can do that): the seed falls through to the normal
    # completion with result = -EBUSY, skipping the instruction. The guest
    # gets a bogus status and its flush is never done (no-bogus-status).
    return "ebusy", c, (c, _returned(v, GUEST, False, False, v.op + 1, "enter", 0))


def _vmexit(e, s, c, v):
    # vcpu_enter_guest() after a VM exit handled in the kernel (MMIO, page
    # fault): kvm_vcpu_srcu_read_lock() -- a reader of kvm->srcu only
    return "vmexit", c, (c, _entered(v, KERNEL, True, v.srcu_gen + 1, "vmentry", 0))


def _vmentry(e, s, c, v):
    # kvm_vcpu_srcu_read_unlock(), then back into the guest: the op is done
    return "vmentry", c, (c, _work_done(v, GUEST, False, v.op + 1, "enter", 0))


# -- a VMM thread's steps: effect(engine, state, i, threads[i], op) --------------------
#    -> (case, key, thread after, writes, windows after)


def _exit(e, s, i, th, op):
    # the VMM kicks the thread out of KVM_RUN (signal / immediate_exit)
    x = op.vcpu
    v = s.vcpus[x]
    if v.mode == USER:
        return "outside", x, _next_op(th), (), s.windows
    return "kicked", x, _next_op(th), (x, _set_exit(v, True)), s.windows


def _run(e, s, i, th, op):
    # KVM_RUN: mutex_lock(&vcpu->mutex); a suspended vCPU blocks at once
    x = op.vcpu
    v = s.vcpus[x]
    mode = BLOCKED if e.suspended(v) else GUEST
    return mode, (x, mode), _next_op(th), (x, _ran(v, mode, KVM_RUN, True)), s.windows


def _hyperv_init(e, s, i, th, op):
    # KVM_SET_CPUID2 -> kvm_hv_vcpu_init(), under vcpu->mutex (taken and
    # dropped in this one step): only a vCPU that has never been in KVM_RUN
    # gets its context; later calls change nothing.
    x = op.vcpu
    v = s.vcpus[x]
    if v.hyperv:
        return "has_context", x, _next_op(th), (), s.windows
    if v.ran:
        return "ran_without", x, _next_op(th), (), s.windows
    # A vCPU without a context has inhibit 0, suspended false and waiting_on
    # -1 already (no write reaches it, it never suspends): the new context
    # starts from exactly those, so only `hyperv` changes.
    return "init", x, _next_op(th), (x, _set_hyperv(v, True)), s.windows


def _lock(e, s, i, th, op):
    # kvm_vcpu_ioctl(): mutex_lock(&vcpu->mutex) -- vCPU ioctls are serialized
    x = op.vcpu
    windows = s.windows
    case = "set"
    if not op.value:  # set_inhibit(x, false) closes x's inhibit window
        windows &= ~(1 << x)
        case = "clear"
    v = _set_mutex(s.vcpus[x], e.program.threads[i][0])
    return case, x, _set_thread_pc(th, "compare"), (x, v), windows


def _compare(e, s, i, th, op):
    # if (set->inhibit == READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit)) return 0;
    x, b = op.vcpu, op.value
    v = s.vcpus[x]
    pc = "return" if v.inhibit == b else "write"
    th = _set_thread_pc(th, pc)
    if not v.hyperv:  # no NULL check: this reads NULL->...; the model reads 0
        return "null", x, th, (), s.windows
    if pc == "return":
        return "already", (x, int(b)), th, (), s.windows
    return "differs", (x, int(not b)), th, (), s.windows


def _write(e, s, i, th, op):
    # WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, set->inhibit);
    x, b = op.vcpu, op.value
    th = _set_thread_pc_w(th, "sync" if e.variant.sync else ("return" if b else "unsuspend"), 0)
    v = s.vcpus[x]
    if not v.hyperv:  # without a context the write goes nowhere: the model drops it
        return "null", (x, int(b)), th, (), s.windows
    return "write", (x, int(b)), th, (x, _set_inhibit(v, b)), s.windows


def _sync(e, s, i, th, op):
    # synchronize_srcu(&vcpu->kvm->srcu) begins: it waits for the readers inside now
    # (own-srcu: the flush path's own domain, whose readers are flushes only)
    if e.variant.own_srcu:
        readers = tuple((c, v.flush_srcu_gen) for c, v in enumerate(s.vcpus) if v.flush_srcu_reader)
        case = "own"
    else:
        readers = tuple((c, v.srcu_gen) for c, v in enumerate(s.vcpus) if v.srcu_reader)
        case = "begins"
    who = " ".join(f"vcpu{c}" for c, _ in readers) or "nobody"
    return case, who, _new(Thread, (th.op, "synced", th.w, readers)), (), s.windows


def _synced(e, s, i, th, op):
    # synchronize_srcu() returns: every recorded reader has left its section
    th = _new(Thread, (th.op, "return" if op.value else "unsuspend", 0, ()))
    return "returns", (), th, (), s.windows


def _unsuspend(e, s, i, th, op):
    # kvm_hv_vcpu_unsuspend_tlb_flush(): one kvm_for_each_vcpu() iteration
    var = e.variant
    w = th.w
    v = s.vcpus[w]
    if not (e.suspended(v) and (var.wake_all or v.waiting_on == op.vcpu)):
        nxt = _new(Thread, (th.op, "unsuspend" if w + 1 < e.n else "return", w + 1, th.readers))
        return "stays", w, nxt, (), s.windows
    if var.merged_state:
        nxt = _new(Thread, (th.op, "unsuspend" if w + 1 < e.n else "return", w + 1, th.readers))
        return "merged", w, nxt, (w, _set_waiting_on(v, -1)), s.windows
    if var.unsuspend_swapped:
        return "swapped", w, _set_thread_pc(th, "wake"), (w, _set_suspended(v, False)), s.windows
    # "waiting_on's store should happen before suspended's"
    return "waiting_on", w, _set_thread_pc(th, "wake"), (w, _set_waiting_on(v, -1)), s.windows


def _wake(e, s, i, th, op):
    # the second store of a matching scan iteration
    w = th.w
    v = s.vcpus[w]
    nxt = _new(Thread, (th.op, "unsuspend" if w + 1 < e.n else "return", w + 1, th.readers))
    if e.variant.unsuspend_swapped:
        return "swapped", w, nxt, (w, _set_waiting_on(v, -1)), s.windows
    return "suspended", w, nxt, (w, _set_suspended(v, False)), s.windows


def _return(e, s, i, th, op):
    # the ioctl returns 0 and kvm_vcpu_ioctl() drops vcpu->mutex
    x = op.vcpu
    v = s.vcpus[x]
    writes = (x, _set_mutex(v, ""))
    # set_inhibit(x, true) opens x's inhibit window as it returns, unless the
    # write went nowhere (no context): that inhibits nothing
    if op.value and v.hyperv:
        return "opens", x, _next_op(th), writes, s.windows | (1 << x)
    return "returns", x, _next_op(th), writes, s.windows


# -- guards ------------------------------------------------------------------------------


def _leave_when(e, c, v, first) -> bool:
    return v.exit_pending and (v.mode == GUEST or v.mode == BLOCKED)


def _resume_when(e, c, v, first) -> bool:
    return v.mode == BLOCKED and not v.exit_pending and not e.suspended(v)


def _resume_waits(e, c, v, first) -> str:
    if v.mode != BLOCKED:
        return ""
    on = f"vcpu{v.waiting_on}" if v.waiting_on != -1 else "nobody (waiting_on = -1)"
    return f"suspended on {on} (kvm_vcpu_block)"


def _service_when(e, c, v, first) -> bool:
    # vcpu_run(): after a VM exit a pending signal returns to userspace
    # before vcpu_enter_guest() processes requests, so an exit wins over a
    # pending flush (which then waits for the next KVM_RUN); requests are
    # processed before the guest's next instruction.
    return v.mode == GUEST and v.pending_flush and not v.exit_pending


def _service_waits(e, c, v, first) -> str:
    return (
        "outside KVM_RUN: the flush request waits for `run`"
        if (v.mode == USER and v.pending_flush)
        else ""
    )


def _guest_op_when(e, c, v, first) -> bool:
    """The first step of a vCPU op: the guest executes an instruction."""
    return v.mode == GUEST and not v.exit_pending and not v.pending_flush


def _guest_op_waits(e, c, v, first) -> str:
    return "outside KVM_RUN: waits for a VMM `run`" if v.mode == USER else ""


def _hypercall_when(e, c, v, first) -> bool:
    """A flush hypercall also needs the vCPU's Hyper-V context."""
    return v.mode == GUEST and not v.exit_pending and not v.pending_flush and v.hyperv


def _hypercall_waits(e, c, v, first) -> str:
    if v.mode == GUEST and not v.hyperv and not v.exit_pending and not v.pending_flush:
        return f"vcpu{c} has no Hyper-V context: no hypercall"
    return _guest_op_waits(e, c, v, first)


def _mutex_blocked(e, s, th, op) -> str:
    x = op.vcpu
    v = s.vcpus[x]
    if v.mode != USER:
        return f"vcpu{x} is in KVM_RUN ({v.mode}), which holds vcpu->mutex"
    if v.mutex:
        return f"vcpu{x}->mutex is held by {v.mutex}"
    return ""


def _synced_blocked(e, s, th, op) -> str:
    own = e.variant.own_srcu
    for c, gen in th.readers:
        r = s.vcpus[c]
        if (
            (r.flush_srcu_reader and r.flush_srcu_gen == gen)
            if own
            else (r.srcu_reader and r.srcu_gen == gen)
        ):
            return f"synchronize_srcu waits for reader vcpu{c}"
    return ""


# -- the table -------------------------------------------------------------------------

_SUSPEND_TP = "kvm_hv_vcpu_suspend_tlb_flush"
_UNSUSPEND_TP = "kvm_hv_vcpu_unsuspend_tlb_flush"
SUSPENSION = locs("suspended[c] waiting_on[c]")  # kvm_hv_vcpu_suspended(): either field


def _domain(variant, who: str) -> tuple[Loc, ...]:
    """The reader record of the SRCU domain the ioctl synchronizes: kvm->srcu,
    or under own-srcu the flush path's own."""
    prefix = "flush_" if variant.own_srcu else ""
    return (Loc(f"{prefix}srcu_reader", who), Loc(f"{prefix}srcu_gen", who))


def _no_merged(variant, op) -> bool:
    return not variant.merged_state


STEPS: tuple[StepDef, ...] = (
    # a vCPU's always-available steps, in the order the status looks for one
    StepDef(
        kind="leave",
        actor=VCPU,
        op="",
        arg="",
        guard="exit_pending and mode is guest or blocked",
        reads=locs("exit_pending[c] mode[c]"),
        writes=locs("mode[c] mutex[c] exit_pending[c]"),
        cases={
            "from_guest": Case(
                "kvm_arch_vcpu_ioctl_run: vcpu {} exits", ("kvm_exit", "kvm_userspace_exit")
            ),
            "from_blocked": Case("kvm_arch_vcpu_ioctl_run: vcpu {} exits", ("kvm_userspace_exit",)),
        },
        series="KVM: arch/x86/kvm/x86.c vcpu_run(): a pending signal returns KVM_EXIT_INTR",
        when=_leave_when,
        effect=_leave,
        promela=Promela(
            "exit_pending[C] && (mode[C] == GUEST || mode[C] == BLOCKED)",
            "mode[C] = USER; mutex[C] = NOBODY; exit_pending[C] = 0",
        ),
    ),
    StepDef(
        kind="resume",
        actor=VCPU,
        op="",
        arg="",
        guard="mode is blocked, not suspended and no exit pending",
        reads=locs("mode[c] exit_pending[c]") + SUSPENSION,
        writes=locs("mode[c]"),
        cases={"runnable": Case("kvm_vcpu_block: vcpu {} runnable again", ("kvm_entry",))},
        series="2/7 arch/x86/kvm/x86.c kvm_vcpu_running(): false while suspended, "
        "so vcpu_block() waits",
        when=_resume_when,
        waits=_resume_waits,
        effect=_resume,
        promela=Promela(
            "mode[C] == BLOCKED && !exit_pending[C] && !SUSP(C)",
            "mode[C] = GUEST",
        ),
    ),
    StepDef(
        kind="service",
        actor=VCPU,
        op="",
        arg="",
        guard="mode is guest, pending_flush and no exit pending",
        reads=locs("mode[c] pending_flush[c] exit_pending[c] flushes[c]"),
        writes=locs("pending_flush[c] flushes[c]"),
        cases={"flush": Case("kvm_hv_vcpu_flush_tlb: vcpu {}")},
        series="3/7 arch/x86/kvm/x86.c vcpu_enter_guest(): KVM_REQ_HV_TLB_FLUSH -> "
        "kvm_hv_vcpu_flush_tlb()",
        when=_service_when,
        waits=_service_waits,
        effect=_service,
        promela=Promela(
            "mode[C] == GUEST && pending_flush[C] && !exit_pending[C]",
            "pending_flush[C] = 0; flushes[C] = flushes[C] + 1",
        ),
    ),
    # op flush: the hypercall
    StepDef(
        kind="enter",
        actor=VCPU,
        op="flush",
        arg="",
        guard="mode is guest, no exit pending, no pending_flush and a Hyper-V context",
        reads=locs("mode[c] exit_pending[c] pending_flush[c] hyperv[c] pos[c]")
        + locs("srcu_gen[c] flush_srcu_gen[c]"),
        writes=locs("mode[c] srcu_reader[c] srcu_gen[c] pos[c]"),
        cases={
            "enter": Case(
                "kvm_hv_flush_tlb: vcpu {} targets {}",
                ("kvm_exit", "kvm_hv_hypercall", "kvm_hv_flush_tlb"),
            ),
            # own-srcu: the flush path's own domain, around the whole hypercall
            "enter_own": Case(
                "kvm_hv_flush_tlb: vcpu {} targets {}",
                ("kvm_exit", "kvm_hv_hypercall", "kvm_hv_flush_tlb"),
                locs("flush_srcu_reader[c] flush_srcu_gen[c]"),
            ),
        },
        series="5/7 arch/x86/kvm/hyperv.c kvm_hv_hypercall() -> kvm_hv_flush_tlb(), "
        "under srcu_read_lock(&kvm->srcu)",
        when=_hypercall_when,
        waits=_hypercall_waits,
        effect=_enter,
        promela=Promela(
            "mode[C] == GUEST && !exit_pending[C] && !pending_flush[C] && hyperv[C]",
            "mode[C] = KERNEL; srcu_reader[C] = 1; srcu_gen[C] = srcu_gen[C] + 1; k[C] = 0; "
            "pc[C] = (NT == 0 -> PC_complete : (REQUEST_FIRST -> PC_request : PC_check)); "
            "if :: OWN_SRCU -> flush_srcu_reader[C] = 1; flush_srcu_gen[C] = flush_srcu_gen[C] + 1 "
            ":: else fi",
        ),
    ),
    StepDef(
        kind="check",
        actor=VCPU,
        op="flush",
        arg=T,
        guard="",
        reads=locs("mode[c] inhibit[t] hyperv[t] pos[c]"),
        writes=locs("pos[c]"),
        cases={
            "inhibited": Case(
                "READ_ONCE(tlb_flush_inhibit): vcpu {} is inhibited, goto ret_suspend"
            ),
            "clear": Case("READ_ONCE(tlb_flush_inhibit): vcpu {} is not inhibited"),
            "null": Case(
                "READ_ONCE(v->arch.hyperv->tlb_flush_inhibit): vcpu {} has no Hyper-V "
                "context (NULL dereference)"
            ),
        },
        series="5/7 arch/x86/kvm/hyperv.c kvm_hv_flush_tlb(): "
        "if (READ_ONCE(v->arch.hyperv->tlb_flush_inhibit)) goto ret_suspend;",
        effect=_check,
        promela=Promela(
            "",
            "if :: inhibit[T] -> pc[C] = PC_s1 "
            ":: else -> if :: LAST -> pc[C] = (REQUEST_FIRST -> PC_complete : PC_request); "
            "k[C] = 0 "
            ":: else -> k[C] = k[C] + 1 fi fi",
        ),
    ),
    StepDef(
        kind="request",
        actor=VCPU,
        op="flush",
        arg=T,
        guard="",
        reads=locs("mode[c] pos[c]"),
        writes=locs("pending_flush[t] pos[c]"),
        cases={"request": Case("kvm_make_vcpus_request_mask: KVM_REQ_HV_TLB_FLUSH to vcpu {}")},
        series="3/7 arch/x86/kvm/hyperv.c kvm_hv_flush_tlb(): hv_tlb_flush_enqueue() + "
        "kvm_make_vcpus_request_mask(kvm, KVM_REQ_HV_TLB_FLUSH, vcpu_mask)",
        effect=_request,
        promela=Promela(
            "",
            "pending_flush[T] = 1; "
            "if :: LAST -> pc[C] = (REQUEST_FIRST -> PC_check : PC_complete); k[C] = 0 "
            ":: else -> k[C] = k[C] + 1 fi",
        ),
    ),
    StepDef(
        kind="complete",
        actor=VCPU,
        op="flush",
        arg="",
        guard="",
        reads=locs("mode[c] pos[c]"),
        writes=locs("mode[c] srcu_reader[c] flush_srcu_reader[c] pos[c]"),
        cases={
            "success": Case(
                "kvm_hv_hypercall_complete: vcpu {} HV_STATUS_SUCCESS",
                ("kvm_hv_hypercall_done", "kvm_entry"),
            )
        },
        series="KVM: arch/x86/kvm/hyperv.c kvm_hv_hypercall_complete(): "
        "HV_STATUS_SUCCESS, kvm_skip_emulated_instruction(); srcu_read_unlock()",
        effect=_complete,
        promela=Promela(
            "",
            "mode[C] = GUEST; srcu_reader[C] = 0; flush_srcu_reader[C] = 0; op[C] = op[C] + 1; "
            "pc[C] = PC_enter; k[C] = 0",
        ),
    ),
    StepDef(
        kind="s1",
        actor=VCPU,
        op="flush",
        arg="",
        guard="",
        reads=locs("mode[c] pos[c]"),
        writes=locs("waiting_on[c] pos[c]"),
        cases={
            "waiting_on": Case("WRITE_ONCE(waiting_on): vcpu {} waiting_on = {}"),
            # merged-state: the one store that suspends
            "suspends": Case(
                "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu {} waiting on {}", (_SUSPEND_TP,)
            ),
        },
        series="2/7 arch/x86/kvm/hyperv.c kvm_hv_vcpu_suspend_tlb_flush(): "
        "WRITE_ONCE(vcpu->arch.hyperv->waiting_on, vcpu_id);",
        effect=_s1,
        promela=Promela(
            "",
            "waiting_on[C] = T; pc[C] = (MERGED_STATE -> PC_s3 : PC_s2)",
        ),
    ),
    StepDef(
        kind="s2",
        actor=VCPU,
        op="flush",
        arg="",
        guard="",
        reads=locs("mode[c] waiting_on[c] pos[c]"),
        writes=locs("suspended[c] pos[c]"),
        cases={
            "suspends": Case(
                "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu {} waiting on {}", (_SUSPEND_TP,)
            )
        },
        series="2/7 arch/x86/kvm/hyperv.c kvm_hv_vcpu_suspend_tlb_flush(): "
        "WRITE_ONCE(vcpu->arch.hyperv->suspended, true);",
        effect=_s2,
        promela=Promela(
            "",
            "suspended[C] = 1; pc[C] = PC_s3",
        ),
        applies=_no_merged,
    ),
    StepDef(
        kind="s3",
        actor=VCPU,
        op="flush",
        arg="",
        guard="",
        reads=locs("mode[c] pos[c]") + SUSPENSION,
        writes=locs("mode[c] srcu_reader[c] flush_srcu_reader[c] pos[c]"),
        cases={
            "not_skipped": Case(
                "kvm_hv_hypercall_complete: vcpu {} suspended, instruction not skipped"
            ),
            # wake-all-retry: return 1 even though woken already
            "retries": Case(
                "kvm_hv_hypercall_complete: vcpu {} returns 1, instruction not skipped: "
                "woken already, it retries",
                ("kvm_entry",),
            ),
            "ebusy": Case(
                "kvm_hv_hypercall_complete: vcpu {} no longer suspended: guest gets -EBUSY, "
                "instruction skipped, nothing flushed",
                ("kvm_hv_hypercall_done", "kvm_entry"),
            ),
        },
        series="5/7 arch/x86/kvm/hyperv.c kvm_hv_hypercall_complete(): "
        "if (kvm_hv_vcpu_suspended(vcpu)) return 1;",
        effect=_s3,
        promela=Promela(
            "",
            "srcu_reader[C] = 0; flush_srcu_reader[C] = 0; pc[C] = PC_enter; k[C] = 0; "
            "if :: SUSP(C) -> mode[C] = BLOCKED :: !SUSP(C) && RETRY -> mode[C] = GUEST "
            ":: else -> mode[C] = GUEST; op[C] = op[C] + 1 fi",
        ),
    ),
    # op kernel_work: other work inside KVM_RUN that holds kvm->srcu
    StepDef(
        kind="vmexit",
        actor=VCPU,
        op="kernel_work",
        arg="",
        guard="mode is guest, no exit pending and no pending_flush",
        reads=locs("mode[c] exit_pending[c] pending_flush[c] srcu_gen[c] pos[c]"),
        writes=locs("mode[c] srcu_reader[c] srcu_gen[c] pos[c]"),
        cases={
            "vmexit": Case(
                "vcpu_enter_guest: vcpu {} VM exit handled in the kernel, "
                "kvm_vcpu_srcu_read_lock(&kvm->srcu)",
                ("kvm_exit",),
            )
        },
        series="KVM: arch/x86/kvm/x86.c vcpu_enter_guest(): an MMIO or page-fault exit "
        "handled in the kernel, under kvm_vcpu_srcu_read_lock()",
        when=_guest_op_when,
        waits=_guest_op_waits,
        effect=_vmexit,
        promela=Promela(
            "mode[C] == GUEST && !exit_pending[C] && !pending_flush[C]",
            "mode[C] = KERNEL; srcu_reader[C] = 1; srcu_gen[C] = srcu_gen[C] + 1; "
            "pc[C] = PC_vmentry; k[C] = 0",
        ),
    ),
    StepDef(
        kind="vmentry",
        actor=VCPU,
        op="kernel_work",
        arg="",
        guard="",
        reads=locs("mode[c] pos[c]"),
        writes=locs("mode[c] srcu_reader[c] pos[c]"),
        cases={
            "vmentry": Case(
                "vcpu_enter_guest: vcpu {} kvm_vcpu_srcu_read_unlock(&kvm->srcu), VM entry",
                ("kvm_entry",),
            )
        },
        series="KVM: arch/x86/kvm/x86.c vcpu_enter_guest(): kvm_vcpu_srcu_read_unlock(), "
        "then VM entry",
        effect=_vmentry,
        promela=Promela(
            "",
            "mode[C] = GUEST; srcu_reader[C] = 0; op[C] = op[C] + 1; pc[C] = PC_enter; k[C] = 0",
        ),
    ),
    # VMM ops of one step
    StepDef(
        kind="exit",
        actor=VMM,
        op="exit",
        arg="",
        guard="",
        reads=locs("mode[x] pos[thread]"),
        writes=locs("pos[thread]"),
        cases={
            "outside": Case("kvm_vcpu_kick: vcpu {} is outside KVM_RUN already"),
            "kicked": Case("kvm_vcpu_kick: vcpu {} exit requested", (), locs("exit_pending[x]")),
        },
        series="KVM: kvm_vcpu_kick() (a signal, or immediate_exit)",
        effect=_exit,
        promela=Promela(
            "",
            "if :: mode[X] != USER -> exit_pending[X] = 1 :: else fi; DONE(TH)",
        ),
    ),
    StepDef(
        kind="run",
        actor=VMM,
        op="run",
        arg="",
        guard="mode[x] is user and nobody holds vcpu x's mutex",
        reads=locs("mode[x] mutex[x] pos[thread]") + locs("suspended[x] waiting_on[x]"),
        writes=locs("mode[x] mutex[x] ran[x] pos[thread]"),
        cases={
            GUEST: Case("kvm_arch_vcpu_ioctl_run: vcpu {} enters ({})", ("kvm_entry",)),
            BLOCKED: Case("kvm_arch_vcpu_ioctl_run: vcpu {} enters ({})"),
        },
        series="KVM: virt/kvm/kvm_main.c kvm_vcpu_ioctl(KVM_RUN) -> kvm_arch_vcpu_ioctl_run()",
        blocked=_mutex_blocked,
        effect=_run,
        promela=Promela(
            "mode[X] == USER && mutex[X] == NOBODY",
            "mode[X] = (SUSP(X) -> BLOCKED : GUEST); mutex[X] = KVM_RUN; ran[X] = 1; DONE(TH)",
        ),
    ),
    StepDef(
        kind="hyperv_init",
        actor=VMM,
        op="hyperv_init",
        arg="",
        guard="mode[x] is user and nobody holds vcpu x's mutex",
        reads=locs("mode[x] mutex[x] hyperv[x] ran[x] pos[thread]"),
        writes=locs("pos[thread]"),
        cases={
            "has_context": Case("KVM_SET_CPUID2: vcpu {} has a Hyper-V context already"),
            "ran_without": Case(
                "KVM_SET_CPUID2: vcpu {} has been in KVM_RUN: returns before kvm_hv_vcpu_init()"
            ),
            "init": Case(
                "kvm_hv_vcpu_init: vcpu {} gets its Hyper-V context", (), locs("hyperv[x]")
            ),
        },
        series="2/7 arch/x86/kvm/hyperv.c kvm_hv_vcpu_init() (from KVM_SET_CPUID2): "
        "tlb_flush_inhibit 0, suspended false, waiting_on = -1",
        blocked=_mutex_blocked,
        effect=_hyperv_init,
        promela=Promela(
            "mode[X] == USER && mutex[X] == NOBODY",
            "if :: !hyperv[X] && !ran[X] -> hyperv[X] = 1 :: else fi; DONE(TH)",
        ),
    ),
    # op set_inhibit: kvm_vcpu_ioctl_set_tlb_flush_inhibit()
    StepDef(
        kind="lock",
        actor=VMM,
        op="set_inhibit",
        arg="",
        guard="mode[x] is user and nobody holds vcpu x's mutex",
        reads=locs("mode[x] mutex[x] pos[thread]"),
        writes=locs("mutex[x] pos[thread] in_ioctl[thread]"),
        cases={
            "set": Case("mutex_lock: vcpu {}->mutex for SET_TLB_FLUSH_INHIBIT"),
            "clear": Case(
                "mutex_lock: vcpu {}->mutex for SET_TLB_FLUSH_INHIBIT", (), locs("windows[x]")
            ),
        },
        series="KVM: virt/kvm/kvm_main.c kvm_vcpu_ioctl(): mutex_lock(&vcpu->mutex)",
        blocked=_mutex_blocked,
        effect=_lock,
        promela=Promela(
            "mode[X] == USER && mutex[X] == NOBODY",
            "mutex[X] = ME; if :: !B -> windows[X] = 0 :: else fi; tpc[TH] = PC_compare",
        ),
    ),
    StepDef(
        kind="compare",
        actor=VMM,
        op="set_inhibit",
        arg="",
        guard="",
        reads=locs("inhibit[x] hyperv[x] pos[thread]"),
        writes=locs("pos[thread]"),
        cases={
            "already": Case("READ_ONCE(tlb_flush_inhibit): vcpu {} is {} already"),
            "differs": Case("READ_ONCE(tlb_flush_inhibit): vcpu {} is {}"),
            "null": Case(
                "READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit): vcpu {} has no Hyper-V "
                "context (NULL dereference)"
            ),
        },
        series="5/7 arch/x86/kvm/x86.c kvm_vcpu_ioctl_set_tlb_flush_inhibit(): "
        "if (set->inhibit == READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit)) return 0;",
        effect=_compare,
        promela=Promela(
            "",
            "tpc[TH] = (inhibit[X] == B -> PC_return : PC_write)",
        ),
    ),
    StepDef(
        kind="write",
        actor=VMM,
        op="set_inhibit",
        arg="",
        guard="",
        reads=locs("hyperv[x] pos[thread]"),
        writes=locs("pos[thread]"),
        cases={
            "write": Case("WRITE_ONCE(tlb_flush_inhibit): vcpu {} = {}", (), locs("inhibit[x]")),
            "null": Case(
                "WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, {1}): vcpu {0} has no "
                "Hyper-V context (NULL dereference), nothing written"
            ),
        },
        series="5/7 arch/x86/kvm/x86.c kvm_vcpu_ioctl_set_tlb_flush_inhibit(): "
        "WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, set->inhibit);",
        effect=_write,
        promela=Promela(
            "",
            "if :: hyperv[X] -> inhibit[X] = B :: else fi; tw[TH] = 0; "
            "tpc[TH] = (SYNC -> PC_sync : (B -> PC_return : PC_unsuspend))",
        ),
    ),
    StepDef(
        kind="sync",
        actor=VMM,
        op="set_inhibit",
        arg="",
        guard="",
        reads=locs("pos[thread]"),
        more_reads=lambda variant: _domain(variant, ALL),
        writes=locs("readers[thread] pos[thread]"),
        cases={
            "begins": Case("synchronize_srcu: waits for {}"),
            "own": Case("synchronize_srcu (the flush path's own domain): waits for {}"),
        },
        series="5/7 arch/x86/kvm/x86.c kvm_vcpu_ioctl_set_tlb_flush_inhibit(): "
        "synchronize_srcu(&vcpu->kvm->srcu);",
        effect=_sync,
        promela=Promela(
            "",
            "EACH(if :: (OWN_SRCU -> flush_srcu_reader[@] : srcu_reader[@]) -> "
            "readers[TH * NV + @] = (OWN_SRCU -> flush_srcu_gen[@] : srcu_gen[@]) :: else fi); "
            "tpc[TH] = PC_synced",
        ),
        applies=lambda variant, op: variant.sync,
    ),
    StepDef(
        kind="synced",
        actor=VMM,
        op="set_inhibit",
        arg="",
        guard="every recorded reader has left its read-side section (or entered a new one)",
        reads=locs("readers[thread] pos[thread]"),
        more_reads=lambda variant: _domain(variant, RECORDED),
        writes=locs("readers[thread] pos[thread]"),
        cases={"returns": Case("synchronize_srcu: returns")},
        series="5/7 arch/x86/kvm/x86.c kvm_vcpu_ioctl_set_tlb_flush_inhibit(): "
        "synchronize_srcu() returns",
        blocked=_synced_blocked,
        effect=_synced,
        promela=Promela(
            "ALL(readers[TH * NV + @] == 0 || !(OWN_SRCU -> (flush_srcu_reader[@] && "
            "flush_srcu_gen[@] == readers[TH * NV + @]) : (srcu_reader[@] && "
            "srcu_gen[@] == readers[TH * NV + @])))",
            "EACH(readers[TH * NV + @] = 0); tw[TH] = 0; tpc[TH] = (B -> PC_return : PC_unsuspend)",
        ),
        applies=lambda variant, op: variant.sync,
    ),
    StepDef(
        kind="unsuspend",
        actor=VMM,
        op="set_inhibit",
        arg=W,
        guard="",
        reads=locs("suspended[w] waiting_on[w] pos[thread]"),
        writes=locs("pos[thread]"),
        cases={
            "stays": Case("kvm_hv_vcpu_unsuspend_tlb_flush: vcpu {} stays"),
            "waiting_on": Case(
                "WRITE_ONCE(waiting_on): vcpu {} waiting_on = -1", (), locs("waiting_on[w]")
            ),
            # unsuspend-swapped: suspended = false comes first; `wake` traces
            "swapped": Case(
                "WRITE_ONCE(suspended): vcpu {} suspended = false", (), locs("suspended[w]")
            ),
            # merged-state: the one store that unsuspends
            "merged": Case(
                "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu {}",
                (_UNSUSPEND_TP,),
                locs("waiting_on[w]"),
            ),
        },
        series="2/7 arch/x86/kvm/hyperv.c kvm_hv_vcpu_unsuspend_tlb_flush(): one "
        "kvm_for_each_vcpu() iteration (called by 5/7 when clearing the flag)",
        effect=_unsuspend,
        promela=Promela(
            "",
            "if :: SUSP(W) && (WAKE_ALL || waiting_on[W] == X) -> "
            "if :: MERGED_STATE -> waiting_on[W] = -1; NEXT_W(TH) "
            ":: !MERGED_STATE && UNSUSPEND_SWAPPED -> suspended[W] = 0; tpc[TH] = PC_wake "
            ":: else -> waiting_on[W] = -1; tpc[TH] = PC_wake fi "
            ":: else -> NEXT_W(TH) fi",
        ),
        applies=lambda variant, op: not op.value,
    ),
    StepDef(
        kind="wake",
        actor=VMM,
        op="set_inhibit",
        arg=W,
        guard="",
        reads=locs("pos[thread]"),
        writes=locs("pos[thread]"),
        # 6/7 traces the unsuspension after both writes of the iteration: the
        # second write traces, whichever field it stores (so under
        # unsuspend-swapped too, not the first write that clears `suspended`)
        cases={
            "suspended": Case(
                "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu {}",
                (_UNSUSPEND_TP,),
                locs("suspended[w]"),
            ),
            "swapped": Case(
                "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu {}",
                (_UNSUSPEND_TP,),
                locs("waiting_on[w]"),
            ),
        },
        series="2/7 arch/x86/kvm/hyperv.c kvm_hv_vcpu_unsuspend_tlb_flush(): "
        "WRITE_ONCE(v->arch.hyperv->suspended, false);",
        effect=_wake,
        promela=Promela(
            "",
            "if :: UNSUSPEND_SWAPPED -> waiting_on[W] = -1 :: else -> suspended[W] = 0 fi; "
            "NEXT_W(TH)",
        ),
        applies=lambda variant, op: not op.value and not variant.merged_state,
    ),
    StepDef(
        kind="return",
        actor=VMM,
        op="set_inhibit",
        arg="",
        guard="",
        reads=locs("hyperv[x] pos[thread]"),
        writes=locs("mutex[x] pos[thread] in_ioctl[thread]"),
        cases={
            "opens": Case(
                "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu {} returns 0", (), locs("windows[x]")
            ),
            "returns": Case("KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu {} returns 0"),
        },
        series="5/7 arch/x86/kvm/x86.c kvm_vcpu_ioctl_set_tlb_flush_inhibit(): return 0; "
        "kvm_vcpu_ioctl(): mutex_unlock(&vcpu->mutex)",
        effect=_return,
        promela=Promela(
            "",
            "mutex[X] = NOBODY; if :: B && hyperv[X] -> windows[X] = 1 :: else fi; DONE(TH)",
        ),
    ),
)

BY_KIND: dict[str, StepDef] = {d.kind: d for d in STEPS}


def bind(engine, s: State, a: int, who: str) -> tuple[int, ...]:
    """The ids `who` names when actor `a` takes its next step from `s` (vCPU ids;
    the thread's index for THREAD)."""
    n = engine.n
    if who == C:
        return (a,)
    if who == ALL:
        return tuple(range(n))
    if a < n:
        if who == T:
            v = s.vcpus[a]
            return (engine.ops[a][v.op].targets[v.k],)
        raise ValueError(f"a vCPU step names {who}")
    i = a - n
    th = s.threads[i]
    if who == THREAD:
        return (i,)
    if who == X:
        return (engine.ops[a][th.op].vcpu,)
    if who == W:
        return (th.w,)
    if who == RECORDED:
        return tuple(c for c, _ in th.readers)
    raise ValueError(f"a VMM step names {who}")


ANYTIME = tuple(d for d in STEPS if d.actor == VCPU and not d.op)  # the status's order

# Each op kind's steps in program order; steps in one tuple are one phase (a
# loop's iterations). The first step of a vCPU op is taken from guest mode.
OP_PHASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "flush": (("enter",), ("check", "request", "s1", "s2", "s3", "complete")),
    "kernel_work": (("vmexit",), ("vmentry",)),
    "exit": (("exit",),),
    "run": (("run",),),
    "hyperv_init": (("hyperv_init",),),
    "set_inhibit": (
        ("lock",),
        ("compare",),
        ("write",),
        ("sync",),
        ("synced",),
        ("unsuspend", "wake"),
        ("return",),
    ),
}

assert {k for phases in OP_PHASES.values() for p in phases for k in p} | {
    d.kind for d in ANYTIME
} == set(BY_KIND), "every step belongs to an op or is always available"
