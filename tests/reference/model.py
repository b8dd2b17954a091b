"""A plain, slow, explicit-state reference model of the TLB-flush-inhibit protocol.

Written from the series' code, one function per atomic step with the line
of the series it models beside it, and from the decisions docs/model.md
documents where the series says nothing (each marked "project decision").
It shares nothing with hvtui.model.steps, .engine or .properties: it reads
only the Program (the ops of each actor) that the scenario loader builds.

`explore(program, variant)` runs a breadth-first search over every
interleaving, without any reduction, and returns per property its verdict
and the length of a shortest schedule that reaches it. `model` may be a
subclass of Model with one step changed: the cross-check's own test uses
such mutants to show that it notices a wrong step.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from hvtui.model.state import Exit, Flush, HypervInit, Program, Run, SetInhibit

HOLDS = "holds"
VIOLATED = "violated"
BLOCKED_BY_DESIGN = "blocked-by-design"
TOO_BIG = "too-big"  # the search stopped at its state bound: nothing decided

# The property ids are the file format's and the CLI's; written out here, not
# imported, as the reference shares nothing with hvtui.model.properties
# (test_reference_model checks that the two lists name the same ids).
INHIBIT_HOLDS = "inhibit-holds"
NO_REQUEST = "no-request-while-inhibited"
NO_FLUSH = "no-flush-while-inhibited"
NO_LOST_WAKEUP = "no-lost-wakeup"
STAYS_PUT = "suspended-stays-put"
NO_BOGUS_STATUS = "no-bogus-status"
NO_NULL_DEREF = "no-null-deref"
SYNC_FLUSHES_ONLY = "sync-waits-for-flushes-only"
PROGRESS = "progress"
PROPERTIES = (
    INHIBIT_HOLDS,
    NO_REQUEST,
    NO_FLUSH,
    NO_LOST_WAKEUP,
    STAYS_PUT,
    NO_BOGUS_STATUS,
    NO_NULL_DEREF,
    SYNC_FLUSHES_ONLY,
    PROGRESS,
)

USER, GUEST, KERNEL, BLOCKED = "user", "guest", "kernel", "blocked"
KVM_RUN = "KVM_RUN"  # vcpu->mutex held by the vCPU's own KVM_RUN


# -- variants -------------------------------------------------------------------


@dataclass(frozen=True)
class Toggles:
    request_first: bool = False  # request every target, then check (Vitaly on 5/7)
    sync: bool = True  # synchronize_srcu() in the ioctl
    swapped: bool = False  # the scan stores suspended = false before waiting_on = -1
    merged: bool = False  # no `suspended` field: suspended <=> waiting_on != -1
    wake_all: bool = False  # the scan wakes every suspended vCPU (Sean on 2/7)
    retry: bool = False  # s3 always returns 1 (Sean: "retry ... as many times as necessary")
    own_srcu: bool = False  # the flush path has an SRCU domain of its own


VARIANTS = {
    "posted": Toggles(),
    "request-first": Toggles(request_first=True),
    "no-sync": Toggles(sync=False),
    "unsuspend-swapped": Toggles(swapped=True),
    "merged-state": Toggles(merged=True),
    "wake-all": Toggles(wake_all=True),
    "wake-all-retry": Toggles(wake_all=True, retry=True),
    "own-srcu": Toggles(own_srcu=True),
}


# -- state ------------------------------------------------------------------------


class V(NamedTuple):
    """One vCPU: struct kvm_vcpu_hv's fields, its KVM_RUN thread's place, SRCU."""

    inhibit: bool
    suspended: bool
    waiting_on: int
    mode: str
    pending: bool  # KVM_REQ_HV_TLB_FLUSH raised, not serviced
    flushes: int
    mutex: str  # KVM_RUN, a VMM thread's name, or ""
    exit_pending: bool
    reader: bool  # inside srcu_read_lock(&kvm->srcu)
    gen: int  # how many times it entered kvm->srcu
    freader: bool  # own-srcu: inside the flush path's own domain
    fgen: int
    hyperv: bool  # to_hv_vcpu(vcpu) != NULL
    ran: bool  # has been in KVM_RUN since the start
    op: int  # index of its current op
    pc: str  # the current op's next step
    k: int  # index into the current flush's targets


class T(NamedTuple):
    """One VMM thread's place in its ops."""

    op: int
    pc: str
    w: int  # the unsuspend scan's cursor
    readers: tuple  # (vcpu, generation) that synchronize_srcu() waits for
    dropped: bool  # set_inhibit: its write to a missing context was dropped


class S(NamedTuple):
    vcpus: tuple[V, ...]
    threads: tuple[T, ...]
    windows: frozenset[int]  # history: the vCPUs whose inhibit window is open


def initial(program: Program) -> S:
    modes = dict(program.initial_mode)
    vcpus = []
    for c in range(program.vcpus):
        hyperv = c not in program.initial_no_hyperv
        mode = modes.get(c, GUEST if hyperv else USER)
        vcpus.append(
            V(
                inhibit=c in program.initial_inhibit,
                suspended=False,
                waiting_on=-1,
                mode=mode,
                pending=False,
                flushes=0,
                mutex=KVM_RUN if mode != USER else "",
                exit_pending=False,
                reader=False,
                gen=0,
                freader=False,
                fgen=0,
                hyperv=hyperv,
                # project decision: a vCPU without a context has never run; one
                # with a context may have (hyperv_init ignores it either way)
                ran=hyperv,
                op=0,
                pc="enter",
                k=0,
            )
        )
    threads = tuple(T(0, "", 0, (), False) for _ in program.threads)
    # project decision: initial.inhibit opens the window from the start
    return S(tuple(vcpus), threads, frozenset(program.initial_inhibit))


def is_suspended(tg: Toggles, v: V) -> bool:
    """kvm_hv_vcpu_suspended() (2/7); merged-state has only waiting_on."""
    if tg.merged:
        return v.waiting_on != -1
    return v.suspended


# -- the model: who may step, and what a step does -------------------------------


class Model:
    def __init__(self, program: Program, variant: str):
        self.p = program
        self.tg = VARIANTS[variant]
        self.n = program.vcpus
        self.names = [f"vcpu{c}" for c in range(self.n)] + [name for name, _ in program.threads]

    # Each step function takes (state, actor) and returns (state, violations).
    # It is called only when its guard holds (`next_step` checks the guard).

    def next_step(self, s: S, a: int):
        """The one step actor `a` would take now, or None if it cannot step."""
        if a < self.n:
            return self._vcpu_next(s, a)
        return self._vmm_next(s, a - self.n)

    def choices(self, s: S, a: int) -> list:
        """Every step actor `a` may take now: its one next step here (a
        schedule names actors); reference.literal lets it choose."""
        step = self.next_step(s, a)
        return [] if step is None else [step]

    def _vcpu_next(self, s: S, c: int):
        v = s.vcpus[c]
        ops = self.p.vcpu_ops[c]
        if v.mode == GUEST:
            # project decision (docs/model.md "One actor, one next step"):
            # leave before service before the next op
            if v.exit_pending:
                return self.leave
            if v.pending:
                return self.service
            if v.op < len(ops):
                return self.enter if isinstance(ops[v.op], Flush) else self.vmexit
            return None
        if v.mode == BLOCKED:
            if v.exit_pending:
                return self.leave
            if not is_suspended(self.tg, v):
                return self.resume
            return None
        if v.mode == KERNEL:
            return getattr(self, v.pc)
        return None  # user: outside KVM_RUN, waits for a `run`

    def _vmm_next(self, s: S, i: int):
        th = s.threads[i]
        ops = self.p.threads[i][1]
        if th.op >= len(ops):
            return None
        op = ops[th.op]
        x = s.vcpus[op.vcpu]
        free = x.mode == USER and x.mutex == ""
        if isinstance(op, SetInhibit):
            if th.pc == "":
                return self.lock if free else None
            if th.pc == "synced":
                return self.synced if self._sync_done(s, th) else None
            return getattr(self, th.pc)
        if isinstance(op, Run):
            return self.run if free else None
        if isinstance(op, Exit):
            return self.exit
        if isinstance(op, HypervInit):
            return self.hyperv_init if free else None
        raise AssertionError(op)

    # helpers -------------------------------------------------------------------

    def _setv(self, s: S, c: int, **kw) -> S:
        vcpus = s.vcpus
        return S(vcpus[:c] + (vcpus[c]._replace(**kw),) + vcpus[c + 1 :], s.threads, s.windows)

    def _sett(self, s: S, i: int, **kw) -> S:
        threads = s.threads
        return S(s.vcpus, threads[:i] + (threads[i]._replace(**kw),) + threads[i + 1 :], s.windows)

    def _flush(self, s: S, c: int) -> Flush:
        return self.p.vcpu_ops[c][s.vcpus[c].op]

    def _op(self, s: S, a: int):
        i = a - self.n
        return self.p.threads[i][1][s.threads[i].op]

    def _op_done(self, s: S, c: int, mode: str) -> S:
        """The vCPU's op is over (it left any SRCU section), on to the next."""
        op = s.vcpus[c].op + 1
        return self._setv(s, c, mode=mode, op=op, pc="enter", k=0, reader=False, freader=False)

    # vCPU c, op `flush` (kvm_hv_flush_tlb(), 5/7) ------------------------------

    def enter(self, s: S, c: int):
        # kvm_hv_hypercall(), inside the vCPU's srcu_read_lock(&kvm->srcu);
        # own-srcu: the flush path's own domain instead, for the whole hypercall
        v = s.vcpus[c]
        if self.tg.own_srcu:
            srcu = {"freader": True, "fgen": v.fgen + 1}
        else:
            srcu = {"reader": True, "gen": v.gen + 1}
        first = "request" if self.tg.request_first else "check"
        pc = first if self._flush(s, c).targets else "complete"
        return self._setv(s, c, mode=KERNEL, pc=pc, k=0, **srcu), set()

    def check(self, s: S, c: int):
        # if (READ_ONCE(v->arch.hyperv->tlb_flush_inhibit)) goto ret_suspend;
        v = s.vcpus[c]
        targets = self._flush(s, c).targets
        t = targets[v.k]
        tv = s.vcpus[t]
        bad = set() if tv.hyperv else {NO_NULL_DEREF}
        # a missing context's flag reads 0 (SPEC "Model v2": the model goes on)
        if tv.hyperv and tv.inhibit:
            return self._setv(s, c, pc="s1"), bad  # k stays on t: ret_suspend's v
        if v.k + 1 < len(targets):
            return self._setv(s, c, k=v.k + 1), bad
        after = "complete" if self.tg.request_first else "request"
        return self._setv(s, c, pc=after, k=0), bad

    def request(self, s: S, c: int):
        # kvm_make_vcpus_request_mask(kvm, KVM_REQ_HV_TLB_FLUSH, vcpu_mask), one target
        v = s.vcpus[c]
        targets = self._flush(s, c).targets
        t = targets[v.k]
        bad = {NO_REQUEST} if t in s.windows else set()
        s = self._setv(s, t, pending=True)
        if v.k + 1 < len(targets):
            return self._setv(s, c, k=v.k + 1), bad
        after = "check" if self.tg.request_first else "complete"
        return self._setv(s, c, pc=after, k=0), bad

    def complete(self, s: S, c: int):
        # return (u64)HV_STATUS_SUCCESS | ...: the instruction is skipped
        bad = set()
        if any(t in s.windows for t in self._flush(s, c).targets):
            bad.add(INHIBIT_HOLDS)
        if is_suspended(self.tg, s.vcpus[c]):
            bad.add(STAYS_PUT)
        return self._op_done(s, c, GUEST), bad

    def s1(self, s: S, c: int):
        # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(vcpu->arch.hyperv->waiting_on, vcpu_id);
        v = s.vcpus[c]
        t = self._flush(s, c).targets[v.k]
        # merged-state: this one store suspends; there is no s2
        return self._setv(s, c, waiting_on=t, pc="s3" if self.tg.merged else "s2"), set()

    def s2(self, s: S, c: int):
        # WRITE_ONCE(vcpu->arch.hyperv->suspended, true);
        return self._setv(s, c, suspended=True, pc="s3"), set()

    def s3(self, s: S, c: int):
        # kvm_hv_hypercall_complete(): if (kvm_hv_vcpu_suspended(vcpu)) return 1;
        # (the vCPU leaves SRCU either way: srcu_read_unlock() in vcpu_run())
        suspended = is_suspended(self.tg, s.vcpus[c])
        restart = {"pc": "enter", "k": 0, "reader": False, "freader": False}
        if self.tg.retry:
            # wake-all-retry: always return 1; the op restarts at enter
            return self._setv(s, c, mode=BLOCKED if suspended else GUEST, **restart), set()
        if suspended:
            return self._setv(s, c, mode=BLOCKED, **restart), set()
        # woken in between: falls through with -EBUSY as the status, skipped
        return self._op_done(s, c, GUEST), {NO_BOGUS_STATUS}

    # vCPU c, op `kernel_work` ------------------------------------------------

    def vmexit(self, s: S, c: int):
        # an exit handled in the kernel under kvm_vcpu_srcu_read_lock()
        v = s.vcpus[c]
        return self._setv(s, c, mode=KERNEL, reader=True, gen=v.gen + 1, pc="vmentry"), set()

    def vmentry(self, s: S, c: int):
        # kvm_vcpu_srcu_read_unlock(), back into the guest
        return self._op_done(s, c, GUEST), set()

    # vCPU x, any time ----------------------------------------------------------

    def service(self, s: S, x: int):
        # kvm_hv_vcpu_flush_tlb(): the request serviced at the next guest entry
        v = s.vcpus[x]
        bad = {NO_FLUSH} if x in s.windows else set()
        return self._setv(s, x, pending=False, flushes=v.flushes + 1), bad

    def resume(self, s: S, x: int):
        # kvm_vcpu_running() is true again: back to the guest, which retries
        return self._setv(s, x, mode=GUEST), set()

    def leave(self, s: S, x: int):
        # KVM_RUN returns to userspace and drops vcpu->mutex (a suspended x stays so)
        return self._setv(s, x, mode=USER, exit_pending=False, mutex=""), set()

    # VMM thread, op `set_inhibit` (kvm_vcpu_ioctl_set_tlb_flush_inhibit(), 5/7) --

    def lock(self, s: S, a: int):
        # kvm_vcpu_ioctl(): mutex_lock(&vcpu->mutex)
        op = self._op(s, a)
        s = self._setv(s, op.vcpu, mutex=self.names[a])
        if not op.value:
            s = s._replace(windows=s.windows - {op.vcpu})  # the window closes here
        return self._sett(s, a - self.n, pc="compare", dropped=False), set()

    def compare(self, s: S, a: int):
        # if (set->inhibit == READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit)) return 0;
        op = self._op(s, a)
        x = s.vcpus[op.vcpu]
        bad = set() if x.hyperv else {NO_NULL_DEREF}
        flag = x.inhibit if x.hyperv else False  # a missing flag reads 0
        return self._sett(s, a - self.n, pc="ret" if flag == op.value else "write"), bad

    def write(self, s: S, a: int):
        # WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, set->inhibit);
        op = self._op(s, a)
        i = a - self.n
        nxt = "sync" if self.tg.sync else self._after_sync(op)
        if not s.vcpus[op.vcpu].hyperv:
            return self._sett(s, i, pc=nxt, dropped=True), {NO_NULL_DEREF}  # dropped
        s = self._setv(s, op.vcpu, inhibit=op.value)
        return self._sett(s, i, pc=nxt), set()

    def sync(self, s: S, a: int):
        # synchronize_srcu(&vcpu->kvm->srcu) begins: the readers inside now
        bad = set()
        readers = []
        for c, v in enumerate(s.vcpus):
            if self.tg.own_srcu:
                if v.freader:
                    readers.append((c, v.fgen))
            elif v.reader:
                readers.append((c, v.gen))
                if not isinstance(self.p.vcpu_ops[c][v.op], Flush):
                    bad.add(SYNC_FLUSHES_ONLY)
        return self._sett(s, a - self.n, pc="synced", readers=tuple(readers)), bad

    def _sync_done(self, s: S, th: T) -> bool:
        """Every remembered reader has left, or left and entered again."""
        for c, g in th.readers:
            v = s.vcpus[c]
            inside, gen = (v.freader, v.fgen) if self.tg.own_srcu else (v.reader, v.gen)
            if inside and gen == g:
                return False
        return True

    def synced(self, s: S, a: int):
        op = self._op(s, a)
        return self._sett(s, a - self.n, pc=self._after_sync(op), readers=()), set()

    def _after_sync(self, op: SetInhibit) -> str:
        # if (!set->inhibit) kvm_hv_vcpu_unsuspend_tlb_flush(vcpu);
        return "unsuspend" if not op.value else "ret"

    def unsuspend(self, s: S, a: int):
        # kvm_hv_vcpu_unsuspend_tlb_flush() (2/7): kvm_for_each_vcpu(i, v, kvm),
        # one vCPU w per step, skipping one without a Hyper-V context
        op = self._op(s, a)
        i = a - self.n
        w = s.threads[i].w
        v = s.vcpus[w]
        if self.tg.wake_all:
            match = v.hyperv and is_suspended(self.tg, v)
        else:
            match = v.hyperv and is_suspended(self.tg, v) and v.waiting_on == op.vcpu
        if match and self.tg.merged:
            s = self._setv(s, w, waiting_on=-1)  # the one store: no `wake w`
            return self._sett(s, i, **self._scan_on(w)), set()
        if match:
            if self.tg.swapped:
                s = self._setv(s, w, suspended=False)
            else:
                s = self._setv(s, w, waiting_on=-1)  # WRITE_ONCE(v->...->waiting_on, -1)
            return self._sett(s, i, pc="wake"), set()
        return self._sett(s, i, **self._scan_on(w)), set()

    def wake(self, s: S, a: int):
        # the scan's second store: WRITE_ONCE(v->arch.hyperv->suspended, false)
        i = a - self.n
        w = s.threads[i].w
        if self.tg.swapped:
            s = self._setv(s, w, waiting_on=-1)
        else:
            s = self._setv(s, w, suspended=False)
        return self._sett(s, i, **self._scan_on(w)), set()

    def _scan_on(self, w: int) -> dict:
        if w + 1 < self.n:
            return {"pc": "unsuspend", "w": w + 1}
        return {"pc": "ret", "w": 0}

    def ret(self, s: S, a: int):
        # return 0; kvm_vcpu_ioctl() drops vcpu->mutex
        op = self._op(s, a)
        th = s.threads[a - self.n]
        s = self._setv(s, op.vcpu, mutex="")
        if op.value and not th.dropped:
            # the window opens at the return, an early one too (project decision)
            s = s._replace(windows=s.windows | {op.vcpu})
        return self._vmm_op_done(s, a), set()

    def _vmm_op_done(self, s: S, a: int) -> S:
        i = a - self.n
        return self._sett(s, i, op=s.threads[i].op + 1, pc="", w=0, readers=(), dropped=False)

    # VMM thread, one-step ops ----------------------------------------------------

    def run(self, s: S, a: int):
        # KVM_RUN: takes vcpu->mutex; kvm_vcpu_block() if suspended
        x = self._op(s, a).vcpu
        mode = BLOCKED if is_suspended(self.tg, s.vcpus[x]) else GUEST
        s = self._setv(s, x, mutex=KVM_RUN, mode=mode, ran=True)
        return self._vmm_op_done(s, a), set()

    def exit(self, s: S, a: int):
        # a kick (signal / immediate_exit): x leaves KVM_RUN at its next chance
        x = self._op(s, a).vcpu
        if s.vcpus[x].mode != USER:
            s = self._setv(s, x, exit_pending=True)
        return self._vmm_op_done(s, a), set()

    def hyperv_init(self, s: S, a: int):
        # KVM_SET_CPUID2 -> kvm_hv_vcpu_init(): only before the first KVM_RUN
        x = self._op(s, a).vcpu
        v = s.vcpus[x]
        if not v.hyperv and not v.ran:
            s = self._setv(s, x, hyperv=True, inhibit=False, suspended=False, waiting_on=-1)
        return self._vmm_op_done(s, a), set()

    # properties of a state ---------------------------------------------------------

    def state_violations(self, s: S) -> set[str]:
        bad = set()
        in_ioctl = any(
            th.pc != "" and isinstance(ops[th.op], SetInhibit)
            for th, (_, ops) in zip(s.threads, self.p.threads, strict=True)
            if th.op < len(ops)
        )
        for v in s.vcpus:
            if not is_suspended(self.tg, v):
                continue
            if v.mode == GUEST:
                bad.add(STAYS_PUT)
            if not in_ioctl and (v.waiting_on == -1 or not s.vcpus[v.waiting_on].inhibit):
                bad.add(NO_LOST_WAKEUP)
        return bad

    def end_verdict(self, s: S) -> str:
        """A state where nobody can step: finished, blocked by design, or a deadlock."""
        for i, (_, ops) in enumerate(self.p.threads):
            if s.threads[i].op < len(ops):
                return VIOLATED
        by_design = False
        for c, v in enumerate(s.vcpus):
            if v.op >= len(self.p.vcpu_ops[c]):
                continue
            if is_suspended(self.tg, v) and v.waiting_on != -1:
                if s.vcpus[v.waiting_on].inhibit:
                    by_design = True
                    continue
            return VIOLATED
        return BLOCKED_BY_DESIGN if by_design else HOLDS


def replay(program: Program, variant: str, schedule, model=Model) -> tuple[S, set[str]] | None:
    """Step the actors named in `schedule`; the last state and what the last
    step violated (its step's and its state's), or None if some named actor
    could not step."""
    m = model(program, variant)
    s = initial(program)
    bad = m.state_violations(s)
    for name in schedule:
        step = m.next_step(s, m.names.index(name))
        if step is None:
            return None
        s, bad = step(s, m.names.index(name))
        bad = bad | m.state_violations(s)
    return s, bad


def end_of(program: Program, variant: str, s: S, model=Model) -> str | None:
    """The progress verdict of `s` if nobody can step there, else None."""
    m = model(program, variant)
    if any(m.choices(s, a) for a in range(len(m.names))):
        return None
    return m.end_verdict(s)


# -- the search ----------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    verdict: str  # holds | violated | blocked-by-design | too-big
    length: int | None = None  # steps of a shortest schedule reaching it
    schedule: tuple[str, ...] | None = None  # one such schedule (actor names)


def explore(
    program: Program, variant: str, max_states: int = 200_000, model=Model
) -> dict[str, Found]:
    """Every interleaving, breadth-first, no reduction; per property a verdict."""
    m = model(program, variant)
    root = initial(program)
    parent: dict[S, tuple[S, int] | None] = {root: None}
    # property -> (state, actor) of its first violating step, or (state, None)
    first: dict[str, tuple[S, int | None]] = {}
    ends: dict[str, S] = {}  # end verdict -> first end state with it
    for prop in m.state_violations(root):
        first.setdefault(prop, (root, None))
    queue = deque([root])
    while queue:
        s = queue.popleft()
        stepped = False
        for a in range(len(m.names)):
            for step in m.choices(s, a):
                stepped = True
                s2, bad = step(s, a)
                for prop in bad:
                    first.setdefault(prop, (s, a))
                if s2 in parent:
                    continue
                if len(parent) >= max_states:
                    return {p: Found(TOO_BIG) for p in PROPERTIES}
                parent[s2] = (s, a)
                for prop in m.state_violations(s2):
                    first.setdefault(prop, (s2, None))
                queue.append(s2)
        if not stepped:
            ends.setdefault(m.end_verdict(s), s)

    def path(s: S) -> tuple[str, ...]:
        out = []
        while parent[s] is not None:
            s, a = parent[s]
            out.append(m.names[a])
        return tuple(reversed(out))

    result = {}
    for prop in PROPERTIES[:-1]:
        if prop not in first:
            result[prop] = Found(HOLDS)
            continue
        s, a = first[prop]
        schedule = path(s) + ((m.names[a],) if a is not None else ())
        result[prop] = Found(VIOLATED, len(schedule), schedule)
    for verdict in (VIOLATED, BLOCKED_BY_DESIGN):
        if verdict in ends:
            schedule = path(ends[verdict])
            result[PROGRESS] = Found(verdict, len(schedule), schedule)
            break
    else:
        result[PROGRESS] = Found(HOLDS)
    return result
