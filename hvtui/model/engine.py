"""The atomic steps: who may step next, why the others wait, and what a step does.

Every step is one line of the kernel code in the review thread of [PATCH 5/7]
"KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT" (or of 2/7's helpers it
calls), or one loop iteration; the comment on each names the line it models.
An actor's next step is a pure function of the state, so a schedule is just
a list of actor names.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.state import (
    BLOCKED,
    GUEST,
    KERNEL,
    KVM_RUN,
    USER,
    Exit,
    HypervInit,
    KernelWork,
    Program,
    Run,
    SetInhibit,
    State,
    Thread,
    Vcpu,
    Vec,
)
from hvtui.model.variants import Variant

DONE = "done"  # Status.why of an actor that has finished its ops and has nothing to do


class Status(NamedTuple):
    """An actor's next step, and whether it may take it now."""

    step: str  # e.g. "check 2", "synced"; "" when the actor is done
    enabled: bool
    why: str = ""  # why it waits (or DONE)


class Event(NamedTuple):
    """One atomic step, as the event log shows it."""

    time: int  # step number, from 1
    actor: str
    op: str  # the op's id; "" for a vCPU's always-available steps
    step: str  # e.g. "check 2"
    text: str  # tracepoint-style line
    changes: tuple[tuple[str, object], ...]  # ("vcpu0.mode", "kernel"), ...


# Fields a person sees change; the thread's position (op, pc, k) is not one,
# nor the history bit `ran`.
_SHOWN = tuple(f for f in Vcpu._fields if f not in ("ran", "op", "pc", "k"))


def format_targets(targets: tuple[int, ...]) -> str:
    """0x6 for a set that fits a 64-bit processor mask, else ranges: 0-63,100."""
    if not targets:
        return "none"
    if targets[-1] < 64:
        return hex(sum(1 << t for t in targets))
    runs: list[str] = []
    start = prev = targets[0]
    for t in targets[1:] + (-2,):
        if t != prev + 1:
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            start = t
        prev = t
    return ",".join(runs)


class Engine:
    """The step semantics of one program under one variant."""

    def __init__(self, program: Program, variant: Variant):
        self.program = program
        self.variant = variant
        self.n = program.vcpus
        self.names = program.actor_names()
        self.ops = [program.ops_of(a) for a in range(len(self.names))]
        self.index = {name: i for i, name in enumerate(self.names)}
        # caches for the hot path (see "taking a step")
        self._request_first = variant.request_first
        # The SRCU domain the ioctl's synchronize_srcu() waits on: kvm->srcu,
        # or (own-srcu) the flush path's own one; as Vcpu field positions.
        self._own_srcu = variant.own_srcu
        self._domain = (_FREADER, _FGEN) if variant.own_srcu else (_READER, _GEN)
        # Each op's first step: `enter` for a flush, `vmexit` for kernel work.
        self._starts = [
            tuple(_VMEXIT if isinstance(op, KernelWork) else _ENTER for op in ops)
            for ops in program.vcpu_ops
        ]
        self._ready = _Cache(_ready_status)  # Status(step, True) by step
        self._kind = _Cache(lambda step: step.partition(" ")[0])  # "check 3" -> "check"
        self._keys = _Cache(lambda c: tuple(f"vcpu{c}.{f}" for f in _SHOWN))
        self._lines = _Lines(self)
        self._vcpu_steps = {
            "service": self._service,
            "resume": self._resume,
            "leave": self._leave,
            "enter": self._enter,
            "check": self._check,
            "request": self._request,
            "complete": self._complete,
            "s1": self._s1,
            "s2": self._s2,
            "s3": self._s3,
            "vmexit": self._vmexit,
            "vmentry": self._vmentry,
        }

    # -- the initial state ---------------------------------------------------

    def initial(self) -> State:
        program = self.program
        modes = dict(program.initial_mode)
        # A vCPU without a Hyper-V context has never run and has no flag to set.
        no_hyperv = program.initial_no_hyperv
        inhibit = program.initial_inhibit - no_hyperv
        vcpus = []
        for c in range(self.n):
            mode = USER if c in no_hyperv else modes.get(c, GUEST)
            vcpus.append(
                Vcpu(
                    inhibit=c in inhibit,
                    mode=mode,
                    mutex="" if mode == USER else KVM_RUN,
                    hyperv=c not in no_hyperv,
                    ran=mode != USER,
                )
            )
        windows = sum(1 << c for c in inhibit)
        return State(Vec.of(vcpus), tuple(Thread() for _ in self.program.threads), windows)

    # -- derived views -------------------------------------------------------

    def suspended(self, v: Vcpu) -> bool:
        """merged-state has no `suspended` field: waiting_on != -1 is the flag."""
        return v.waiting_on != -1 if self.variant.merged_state else v.suspended

    def finished(self, s: State, a: int) -> bool:
        """The actor has run every op of its program."""
        pos = s.vcpus[a].op if a < self.n else s.threads[a - self.n].op
        return pos >= len(self.ops[a])

    def current_op(self, s: State, a: int):
        pos = s.vcpus[a].op if a < self.n else s.threads[a - self.n].op
        ops = self.ops[a]
        return ops[pos] if pos < len(ops) else None

    # -- who may step --------------------------------------------------------

    def status(self, s: State, a: int) -> Status:
        return self._vcpu_status(s, a) if a < self.n else self._thread_status(s, a - self.n)

    def can_step(self, s: State, a: int) -> bool:
        return self.status(s, a).enabled

    def enabled(self, s: State) -> list[int]:
        return [a for a in range(len(self.names)) if self.status(s, a).enabled]

    def _vcpu_status(self, s: State, c: int) -> Status:
        v = s.vcpus[c]
        mode = v.mode
        if mode == KERNEL:
            pc = v.pc
            if pc == "check" or pc == "request":
                return self._ready[pc, self.ops[c][v.op].targets[v.k]]
            return self._ready[pc]
        has_op = v.op < len(self.ops[c])
        if mode == GUEST:
            # vcpu_run(): after a VM exit a pending signal returns to userspace
            # before vcpu_enter_guest() processes requests, so an exit wins
            # over a pending flush (which then waits for the next KVM_RUN);
            # requests are processed before the guest's next instruction.
            if v.exit_pending:
                return _LEAVE
            if v.pending_flush:
                return _SERVICE
            if has_op:
                start = self._starts[c][v.op]
                if start is _ENTER and not v.hyperv:
                    return Status("enter", False, f"vcpu{c} has no Hyper-V context: no hypercall")
                return start
            return _FINISHED
        if mode == BLOCKED:
            if v.exit_pending:
                return _LEAVE
            if not self.suspended(v):
                return _RESUME
            on = f"vcpu{v.waiting_on}" if v.waiting_on != -1 else "nobody (waiting_on = -1)"
            return Status("resume", False, f"suspended on {on} (kvm_vcpu_block)")
        if has_op:
            step = self._starts[c][v.op].step
            return Status(step, False, "outside KVM_RUN: waits for a VMM `run`")
        if v.pending_flush:
            return Status("service", False, "outside KVM_RUN: the flush request waits for `run`")
        return _FINISHED

    def _thread_status(self, s: State, i: int) -> Status:
        th = s.threads[i]
        ops = self.program.threads[i][1]
        if th.op >= len(ops):
            return _FINISHED
        op = ops[th.op]
        if isinstance(op, Exit):
            return _EXIT
        v = s.vcpus[op.vcpu]
        if isinstance(op, Run):
            return self._mutex_status("run", op.vcpu, v)
        if isinstance(op, HypervInit):
            return self._mutex_status("hyperv_init", op.vcpu, v)
        pc = th.pc or "lock"
        if pc == "lock":
            return self._mutex_status("lock", op.vcpu, v)
        if pc == "synced":
            reader, generation = self._domain
            for c, gen in th.readers:
                r = s.vcpus[c]
                if r[reader] and r[generation] == gen:
                    return Status("synced", False, f"synchronize_srcu waits for reader vcpu{c}")
            return self._ready["synced"]
        if pc == "unsuspend" or pc == "wake":
            return self._ready[pc, th.w]
        return self._ready[pc]

    def _mutex_status(self, step: str, x: int, v: Vcpu) -> Status:
        if v.mode != USER:
            return Status(step, False, f"vcpu{x} is in KVM_RUN ({v.mode}), which holds vcpu->mutex")
        if v.mutex:
            return Status(step, False, f"vcpu{x}->mutex is held by {v.mutex}")
        return self._ready[step]

    # -- taking a step -------------------------------------------------------
    #
    # The hot path of every replay and of the checker, so it avoids
    # NamedTuple._replace (keyword parsing, ~10x the cost of building the
    # tuple): a vCPU is unpacked into its fields in Vcpu's order,
    #   inhibit, suspended, waiting_on, mode, pending, flushes, mutex,
    #   exiting, reader, gen, hyperv, freader, fgen, ran, op, pc, k
    # and rebuilt with the fields the kernel line writes. Event texts come
    # from per-engine caches, so events share their strings.

    def step(self, s: State, a: int, time: int = 0) -> tuple[State, Event]:
        """Actor `a` takes its next step; raises ValueError if it cannot."""
        return self.step_with(s, a, self.status(s, a), time)

    def step_with(self, s: State, a: int, st: Status, time: int = 0) -> tuple[State, Event]:
        """`step`, given `st` = status(s, a) already computed (a Session caches it)."""
        if not st.enabled:
            raise ValueError(f"{self.names[a]} cannot step: {st.why}")
        step = st.step
        kind = self._kind[step]
        if a < self.n:
            v = s.vcpus[a]
            op = "" if kind in _ANYTIME else self.ops[a][v.op].id
            after, text = self._vcpu_steps[kind](s, a, v)
        else:
            i = a - self.n
            op = self.ops[a][s.threads[i].op].id
            after, text = self._thread_step(s, i, kind)
        changes = self._changes(s.vcpus, after.vcpus)
        return after, _new(Event, (time, self.names[a], op, step, text, changes))

    def _changes(self, before: Vec, after: Vec) -> tuple[tuple[str, object], ...]:
        """The user-visible fields a step changed, in vCPU order."""
        touched = after.touched(before)
        if touched is None:
            touched = [c for c, _, _ in before.diff(after)]
        out = []
        for c in touched:
            va, vb = before[c], after[c]
            if va is not vb:
                # _SHOWN is a prefix of Vcpu's fields: zip stops after it
                for key, x, y in zip(self._keys[c], va, vb, strict=False):
                    if x != y:
                        out.append((key, y))
        return tuple(out)

    # vCPU steps: (state, c, vcpus[c]) -> (state after, kernel line).
    # Each rebuilt Vcpu lists its 17 fields in order on three lines, so the
    # fields a step writes stand out; ruff format would split them one a line.
    # fmt: off

    def _service(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # vcpu_enter_guest(): KVM_REQ_HV_TLB_FLUSH -> kvm_hv_vcpu_flush_tlb()
        # (which returns early on !hv_vcpu; the caller then flushes the whole TLB)
        (inhibit, suspended, waiting_on, mode, _, flushes, mutex, exiting, reader, gen,
         hyperv, freader, fgen, ran, op, pc, k) = v
        v = _new(Vcpu, (inhibit, suspended, waiting_on, mode, False, flushes + 1, mutex, exiting,
                        reader, gen, hyperv, freader, fgen, ran, op, pc, k))
        return _put(s, c, v), self._lines.service[c]

    def _resume(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_vcpu_running() is true again: the hypercall instruction re-executes
        return _put(s, c, _vset(v, _MODE, GUEST)), self._lines.resume[c]

    def _leave(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # signal pending: KVM_RUN returns to userspace and drops vcpu->mutex
        (inhibit, suspended, waiting_on, _, pending, flushes, _, _, reader, gen,
         hyperv, freader, fgen, ran, op, pc, k) = v
        v = _new(Vcpu, (inhibit, suspended, waiting_on, USER, pending, flushes, "", False,
                        reader, gen, hyperv, freader, fgen, ran, op, pc, k))
        return _put(s, c, v), self._lines.leave[c]

    def _enter(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_hv_hypercall() -> kvm_hv_flush_tlb(), under srcu_read_lock()
        (inhibit, suspended, waiting_on, _, pending, flushes, mutex, exiting, _, gen,
         hyperv, freader, fgen, ran, op, _, _) = v
        targets = self.ops[c][op].targets
        first = "complete" if not targets else ("request" if self._request_first else "check")
        if self._own_srcu:  # the flush path's own srcu_read_lock(), around the whole hypercall
            freader, fgen = True, fgen + 1
        v = _new(Vcpu, (inhibit, suspended, waiting_on, KERNEL, pending, flushes, mutex, exiting,
                        True, gen + 1, hyperv, freader, fgen, ran, op, first, 0))
        return _put(s, c, v), self._lines.enter[c, op]

    def _check(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # if (READ_ONCE(v->arch.hyperv->tlb_flush_inhibit)) goto ret_suspend;
        targets = self.ops[c][v.op].targets
        t = targets[v.k]
        target = s.vcpus[t]
        if target.inhibit:
            return _put(s, c, _vset(v, _PC, "s1")), self._lines.inhibited[t]
        v = _advance(v, len(targets), "complete" if self._request_first else "request")
        # 5/7 has no NULL check here: without a Hyper-V context the read is a
        # NULL dereference (no-null-deref); the model reads 0 and goes on.
        lines = self._lines.not_inhibited if target.hyperv else self._lines.null_check
        return _put(s, c, v), lines[t]

    def _request(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_make_vcpus_request_mask(kvm, KVM_REQ_HV_TLB_FLUSH, vcpu_mask)
        # (3/7's hv_tlb_flush_enqueue() returns on !hv_vcpu: safe without a context)
        targets = self.ops[c][v.op].targets
        t = targets[v.k]
        then = "check" if self._request_first else "complete"
        vcpus = s.vcpus
        if t == c:
            vcpus = vcpus.set(c, _advance(_vset(v, _PENDING, True), len(targets), then))
        else:
            target = _vset(vcpus[t], _PENDING, True)
            vcpus = vcpus.set_both(t, target, c, _advance(v, len(targets), then))
        return _new(State, (vcpus, s.threads, s.windows)), self._lines.request[t]

    def _complete(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # return HV_STATUS_SUCCESS: the instruction is skipped; srcu_read_unlock()
        (inhibit, suspended, waiting_on, _, pending, flushes, mutex, exiting, _, gen,
         hyperv, _, fgen, ran, op, _, _) = v
        v = _new(Vcpu, (inhibit, suspended, waiting_on, GUEST, pending, flushes, mutex, exiting,
                        False, gen, hyperv, False, fgen, ran, op + 1, "enter", 0))
        return _put(s, c, v), self._lines.complete[c]

    def _s1(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(waiting_on, vcpu_id)
        t = self.ops[c][v.op].targets[v.k]
        (inhibit, suspended, _, mode, pending, flushes, mutex, exiting, reader, gen,
         hyperv, freader, fgen, ran, op, _, k) = v
        merged = self.variant.merged_state
        v = _new(Vcpu, (inhibit, suspended, t, mode, pending, flushes, mutex, exiting,
                        reader, gen, hyperv, freader, fgen, ran, op, "s3" if merged else "s2", k))
        lines = self._lines.suspending if merged else self._lines.waiting_on
        return _put(s, c, v), lines[c, t]

    def _s2(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(suspended, true)
        (inhibit, _, waiting_on, mode, pending, flushes, mutex, exiting, reader, gen,
         hyperv, freader, fgen, ran, op, _, k) = v
        v = _new(Vcpu, (inhibit, True, waiting_on, mode, pending, flushes, mutex, exiting,
                        reader, gen, hyperv, freader, fgen, ran, op, "s3", k))
        return _put(s, c, v), self._lines.suspending[c, waiting_on]

    def _s3(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_hv_hypercall_complete(): if (kvm_hv_vcpu_suspended(vcpu)) return 1;
        # the instruction is not skipped, so the op restarts at `enter`.
        (inhibit, suspended, waiting_on, _, pending, flushes, mutex, exiting, _, gen,
         hyperv, _, fgen, ran, op, _, _) = v
        if self.suspended(v):
            v = _new(Vcpu, (inhibit, suspended, waiting_on, BLOCKED, pending, flushes, mutex,
                            exiting, False, gen, hyperv, False, fgen, ran, op, "enter", 0))
            return _put(s, c, v), self._lines.not_skipped[c]
        if self.variant.retry:
            # wake-all-retry: return 1 whatever happened; woken already, the
            # vCPU is runnable and re-executes the hypercall at once.
            v = _new(Vcpu, (inhibit, suspended, waiting_on, GUEST, pending, flushes, mutex,
                            exiting, False, gen, hyperv, False, fgen, ran, op, "enter", 0))
            return _put(s, c, v), self._lines.retries[c]
        # Unsuspended between s2 and here (only a scan that did not wait for
        # this reader can do that): the seed falls through to the normal
        # completion with result = -EBUSY, skipping the instruction. The guest
        # gets a bogus status and its flush is never done (no-bogus-status).
        v = _new(Vcpu, (inhibit, suspended, waiting_on, GUEST, pending, flushes, mutex, exiting,
                        False, gen, hyperv, False, fgen, ran, op + 1, "enter", 0))
        return _put(s, c, v), self._lines.ebusy[c]

    def _vmexit(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # vcpu_enter_guest() after a VM exit handled in the kernel (MMIO, page
        # fault): kvm_vcpu_srcu_read_lock() -- a reader of kvm->srcu only
        (inhibit, suspended, waiting_on, _, pending, flushes, mutex, exiting, _, gen,
         hyperv, freader, fgen, ran, op, _, _) = v
        v = _new(Vcpu, (inhibit, suspended, waiting_on, KERNEL, pending, flushes, mutex, exiting,
                        True, gen + 1, hyperv, freader, fgen, ran, op, "vmentry", 0))
        return _put(s, c, v), self._lines.vmexit[c]

    def _vmentry(self, s: State, c: int, v: Vcpu) -> tuple[State, str]:
        # kvm_vcpu_srcu_read_unlock(), then back into the guest: the op is done
        (inhibit, suspended, waiting_on, _, pending, flushes, mutex, exiting, _, gen,
         hyperv, freader, fgen, ran, op, _, _) = v
        v = _new(Vcpu, (inhibit, suspended, waiting_on, GUEST, pending, flushes, mutex, exiting,
                        False, gen, hyperv, freader, fgen, ran, op + 1, "enter", 0))
        return _put(s, c, v), self._lines.vmentry[c]

    # fmt: on

    # VMM thread steps

    def _thread_step(self, s: State, i: int, step: str) -> tuple[State, str]:
        name, ops = self.program.threads[i]
        th = s.threads[i]
        op = ops[th.op]
        vcpus = s.vcpus
        lines = self._lines

        if step == "exit":
            # the VMM kicks the thread out of KVM_RUN (signal / immediate_exit)
            x = op.vcpu
            v = vcpus[x]
            if v.mode == USER:
                return _done(s, i, th, vcpus, s.windows), lines.kicked_outside[x]
            vcpus = vcpus.set(x, _vset(v, _EXITING, True))
            return _done(s, i, th, vcpus, s.windows), lines.kicked[x]
        if step == "run":
            # KVM_RUN: mutex_lock(&vcpu->mutex); a suspended vCPU blocks at once
            x = op.vcpu
            v = vcpus[x]
            mode = BLOCKED if self.suspended(v) else GUEST
            v = _vset(_vset(_vset(v, _MODE, mode), _MUTEX, KVM_RUN), _RAN, True)
            return _done(s, i, th, vcpus.set(x, v), s.windows), lines.enters[x, mode]
        if step == "hyperv_init":
            # KVM_SET_CPUID2 -> kvm_hv_vcpu_init(), under vcpu->mutex (taken and
            # dropped in this one step): only a vCPU that has never been in
            # KVM_RUN gets its context; later calls change nothing.
            x = op.vcpu
            v = vcpus[x]
            if v.hyperv:
                return _done(s, i, th, vcpus, s.windows), lines.has_context[x]
            if v.ran:
                return _done(s, i, th, vcpus, s.windows), lines.ran_without[x]
            v = _new(Vcpu, (False, False, -1) + v[_MODE:_HYPERV] + (True,) + v[_HYPERV + 1 :])
            return _done(s, i, th, vcpus.set(x, v), s.windows), lines.hyperv_init[x]

        assert isinstance(op, SetInhibit)
        x, b = op.vcpu, op.value
        var = self.variant
        windows = s.windows
        after_write = "sync" if var.sync else ("return" if b else "unsuspend")
        if step == "lock":
            # kvm_vcpu_ioctl(): mutex_lock(&vcpu->mutex) -- vCPU ioctls are serialized
            if not b:
                windows &= ~(1 << x)
            vcpus = vcpus.set(x, _vset(vcpus[x], _MUTEX, name))
            return _goto(s, i, th._replace(pc="compare"), vcpus, windows), lines.lock[x]
        if step == "compare":
            # if (set->inhibit == READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit)) return 0;
            # No NULL check: without a context this reads NULL->...; the model reads 0.
            v = vcpus[x]
            pc = "return" if v.inhibit == b else "write"
            if not v.hyperv:
                text = lines.null_compare[x]
            elif pc == "return":
                text = lines.already[x, int(b)]
            else:
                text = lines.flag_is[x, int(not b)]
            return _goto(s, i, th._replace(pc=pc), vcpus, windows), text
        if step == "write":
            # WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, set->inhibit);
            # without a context the write goes nowhere: the model drops it.
            v = vcpus[x]
            if v.hyperv:
                vcpus = vcpus.set(x, _vset(v, _INHIBIT, b))
                text = lines.write[x, int(b)]
            else:
                text = lines.null_write[x, int(b)]
            state = _goto(s, i, th._replace(pc=after_write, w=0), vcpus, windows)
            return state, text
        if step == "sync":
            # synchronize_srcu(&vcpu->kvm->srcu) begins: it waits for the readers inside now
            # (own-srcu: the flush path's own domain, whose readers are flushes only)
            reader, generation = self._domain
            readers = tuple((c, v[generation]) for c, v in enumerate(vcpus) if v[reader])
            who = " ".join(f"vcpu{c}" for c, _ in readers) or "nobody"
            state = _goto(s, i, th._replace(pc="synced", readers=readers), vcpus, windows)
            return state, self._lines.sync[who]
        if step == "synced":
            th = th._replace(pc="return" if b else "unsuspend", readers=(), w=0)
            return _goto(s, i, th, vcpus, windows), "synchronize_srcu: returns"
        w = th.w
        nxt = "unsuspend" if w + 1 < self.n else "return"
        if step == "unsuspend":
            # kvm_hv_vcpu_unsuspend_tlb_flush(): one kvm_for_each_vcpu() iteration
            v = vcpus[w]
            if not (self.suspended(v) and (var.wake_all or v.waiting_on == x)):
                state = _goto(s, i, _new(Thread, (th.op, nxt, w + 1, th.readers)), vcpus, windows)
                return state, lines.stays[w]
            if var.merged_state:
                vcpus = vcpus.set(w, _vset(v, _WAITING_ON, -1))
                state = _goto(s, i, _new(Thread, (th.op, nxt, w + 1, th.readers)), vcpus, windows)
                return state, lines.unsuspending[w]
            if var.unsuspend_swapped:
                vcpus = vcpus.set(w, _vset(v, _SUSPENDED, False))
                return _goto(s, i, th._replace(pc="wake"), vcpus, windows), lines.unsuspending[w]
            # "waiting_on's store should happen before suspended's"
            vcpus = vcpus.set(w, _vset(v, _WAITING_ON, -1))
            return _goto(s, i, th._replace(pc="wake"), vcpus, windows), lines.reset_waiting_on[w]
        if step == "wake":
            v = vcpus[w]
            if var.unsuspend_swapped:
                vcpus = vcpus.set(w, _vset(v, _WAITING_ON, -1))
                text = lines.reset_waiting_on[w]
            else:
                vcpus = vcpus.set(w, _vset(v, _SUSPENDED, False))
                text = lines.unsuspending[w]
            th = _new(Thread, (th.op, nxt, w + 1, th.readers))
            return _goto(s, i, th, vcpus, windows), text
        # return: the ioctl returns 0 and kvm_vcpu_ioctl() drops vcpu->mutex.
        # A write that went nowhere (no context) inhibits nothing: no window.
        if b and vcpus[x].hyperv:
            windows |= 1 << x
        vcpus = vcpus.set(x, _vset(vcpus[x], _MUTEX, ""))
        return _done(s, i, th, vcpus, windows), lines.returns[x]


_new = tuple.__new__  # builds a NamedTuple from a tuple, without keyword parsing

_ANYTIME = ("service", "resume", "leave")

# Vcpu field positions, for _vset
_INHIBIT, _SUSPENDED, _WAITING_ON, _MODE, _PENDING, _FLUSHES, _MUTEX, _EXITING = range(8)
_READER, _GEN, _HYPERV, _FREADER, _FGEN, _RAN = range(8, 14)
_PC = Vcpu._fields.index("pc")
assert _SHOWN == Vcpu._fields[: len(_SHOWN)], "Engine._changes zips the shown prefix"
assert Vcpu._fields[_EXITING] == "exit_pending" and Vcpu._fields[_PC + 1] == "k"
assert Vcpu._fields[_READER : _RAN + 1] == (
    "srcu_reader",
    "srcu_gen",
    "hyperv",
    "flush_srcu_reader",
    "flush_srcu_gen",
    "ran",
)

_LEAVE = Status("leave", True)
_SERVICE = Status("service", True)
_ENTER = Status("enter", True)
_VMEXIT = Status("vmexit", True)
_RESUME = Status("resume", True)
_EXIT = Status("exit", True)
_FINISHED = Status("", False, DONE)


def _vset(v: Vcpu, i: int, value: object) -> Vcpu:
    """v with field number i replaced (NamedTuple._replace without its cost)."""
    return _new(Vcpu, v[:i] + (value,) + v[i + 1 :])


def _advance(v: Vcpu, count: int, then: str) -> Vcpu:
    """On to the next target, or to `then` after the last one."""
    if v[-1] + 1 < count:
        return _new(Vcpu, v[:-1] + (v[-1] + 1,))
    return _new(Vcpu, v[:_PC] + (then, 0))


def _put(s: State, c: int, v: Vcpu) -> State:
    return _new(State, (s.vcpus.set(c, v), s.threads, s.windows))


def _goto(s: State, i: int, th: Thread, vcpus: Vec, windows: int) -> State:
    """Thread i moves on to th (same op)."""
    threads = s.threads
    return _new(State, (vcpus, threads[:i] + (th,) + threads[i + 1 :], windows))


def _done(s: State, i: int, th: Thread, vcpus: Vec, windows: int) -> State:
    """Thread i has finished its op: on to the next one, from its first step."""
    return _goto(s, i, Thread(op=th.op + 1), vcpus, windows)


class _Cache(dict):
    """Values built once per key and then shared: make(key) on a miss."""

    __slots__ = ("make",)

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


def _ready_status(key) -> Status:
    """Status("check 3", True) for ("check", 3); Status("s1", True) for "s1"."""
    return Status(f"{key[0]} {key[1]}" if isinstance(key, tuple) else key, True)


# The kernel lines of the event log, by cache name; "{}" are vCPU ids (and values).
_LINE_TEMPLATES = {
    "service": "kvm_hv_vcpu_flush_tlb: vcpu {}",
    "resume": "kvm_vcpu_block: vcpu {} runnable again",
    "leave": "kvm_arch_vcpu_ioctl_run: vcpu {} exits",
    "inhibited": "READ_ONCE(tlb_flush_inhibit): vcpu {} is inhibited, goto ret_suspend",
    "not_inhibited": "READ_ONCE(tlb_flush_inhibit): vcpu {} is not inhibited",
    "request": "kvm_make_vcpus_request_mask: KVM_REQ_HV_TLB_FLUSH to vcpu {}",
    "complete": "kvm_hv_hypercall_complete: vcpu {} HV_STATUS_SUCCESS",
    "waiting_on": "WRITE_ONCE(waiting_on): vcpu {} waiting_on = {}",
    "suspending": "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu {} waiting on {}",
    "not_skipped": "kvm_hv_hypercall_complete: vcpu {} suspended, instruction not skipped",
    "ebusy": "kvm_hv_hypercall_complete: vcpu {} no longer suspended: guest gets -EBUSY, "
    "instruction skipped, nothing flushed",
    "retries": "kvm_hv_hypercall_complete: vcpu {} returns 1, instruction not skipped: "
    "woken already, it retries",
    "null_check": "READ_ONCE(v->arch.hyperv->tlb_flush_inhibit): vcpu {} has no Hyper-V "
    "context (NULL dereference)",
    "vmexit": "vcpu_enter_guest: vcpu {} VM exit handled in the kernel, "
    "kvm_vcpu_srcu_read_lock(&kvm->srcu)",
    "vmentry": "vcpu_enter_guest: vcpu {} kvm_vcpu_srcu_read_unlock(&kvm->srcu), VM entry",
    "has_context": "KVM_SET_CPUID2: vcpu {} has a Hyper-V context already",
    "ran_without": "KVM_SET_CPUID2: vcpu {} has been in KVM_RUN: returns before kvm_hv_vcpu_init()",
    "hyperv_init": "kvm_hv_vcpu_init: vcpu {} gets its Hyper-V context",
    "kicked_outside": "kvm_vcpu_kick: vcpu {} is outside KVM_RUN already",
    "kicked": "kvm_vcpu_kick: vcpu {} exit requested",
    "enters": "kvm_arch_vcpu_ioctl_run: vcpu {} enters ({})",
    "lock": "mutex_lock: vcpu {}->mutex for SET_TLB_FLUSH_INHIBIT",
    "already": "READ_ONCE(tlb_flush_inhibit): vcpu {} is {} already",
    "flag_is": "READ_ONCE(tlb_flush_inhibit): vcpu {} is {}",
    "write": "WRITE_ONCE(tlb_flush_inhibit): vcpu {} = {}",
    "null_compare": "READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit): vcpu {} has no Hyper-V "
    "context (NULL dereference)",
    "null_write": "WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, {1}): vcpu {0} has no "
    "Hyper-V context (NULL dereference), nothing written",
    "stays": "kvm_hv_vcpu_unsuspend_tlb_flush: vcpu {} stays",
    "unsuspending": "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu {}",
    "reset_waiting_on": "WRITE_ONCE(waiting_on): vcpu {} waiting_on = -1",
    "returns": "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu {} returns 0",
}


def _formatter(template: str):
    """key -> line: an int key fills one "{}", a tuple key fills them in order."""
    return lambda key: template.format(*key) if isinstance(key, tuple) else template.format(key)


class _Lines:
    """The kernel lines the event log prints, one cache per line, by vCPU id.

    Building each string once keeps a 100k-step log from holding 100k
    copies of "kvm_hv_flush_tlb: vcpu 0 ..." and saves the formatting.
    Attributes: one _Cache per _LINE_TEMPLATES entry, plus `enter` by (vcpu, op)
    and `sync` by the readers it names.
    """

    def __init__(self, engine: Engine):
        for name, template in _LINE_TEMPLATES.items():
            setattr(self, name, _Cache(_formatter(template)))

        def enter(key: tuple[int, int]) -> str:
            c, op = key
            return f"kvm_hv_flush_tlb: vcpu {c} targets {format_targets(engine.ops[c][op].targets)}"

        self.enter = _Cache(enter)
        domain = " (the flush path's own domain)" if engine.variant.own_srcu else ""
        self.sync = _Cache(f"synchronize_srcu{domain}: waits for {{}}".format)
