"""The atomic steps: who may step next, why the others wait, and what a step does.

Every step is one line of the kernel code in the review thread
(shared/seeds/000_ffe7fd73c7bc1307.txt) or one loop iteration; the comment
on each names the line it models. An actor's next step is a pure function
of the state, so a schedule is just a list of actor names.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model import (
    BLOCKED,
    GUEST,
    KERNEL,
    KVM_RUN,
    USER,
    Exit,
    Flush,
    Program,
    Run,
    SetInhibit,
    State,
    Thread,
    Vcpu,
    Vec,
)
from hvtui.variants import Variant

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


# Fields a person sees change; the thread's position (op, pc, k) is not one.
_SHOWN = tuple(f for f in Vcpu._fields if f not in ("op", "pc", "k"))


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

    # -- the initial state ---------------------------------------------------

    def initial(self) -> State:
        modes = dict(self.program.initial_mode)
        vcpus = []
        for c in range(self.n):
            mode = modes.get(c, GUEST)
            vcpus.append(
                Vcpu(
                    inhibit=c in self.program.initial_inhibit,
                    mode=mode,
                    mutex="" if mode == USER else KVM_RUN,
                )
            )
        windows = sum(1 << c for c in self.program.initial_inhibit)
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
            if v.pc in ("check", "request"):
                return Status(f"{v.pc} {self.ops[c][v.op].targets[v.k]}", True)
            return Status(v.pc, True)
        has_op = v.op < len(self.ops[c])
        if mode == GUEST:
            # vcpu_run(): after a VM exit a pending signal returns to userspace
            # before vcpu_enter_guest() processes requests, so an exit wins
            # over a pending flush (which then waits for the next KVM_RUN);
            # requests are processed before the guest's next instruction.
            if v.exit_pending:
                return Status("leave", True)
            if v.pending_flush:
                return Status("service", True)
            if has_op:
                return Status("enter", True)
            return Status("", False, DONE)
        if mode == BLOCKED:
            if v.exit_pending:
                return Status("leave", True)
            if not self.suspended(v):
                return Status("resume", True)
            return Status("resume", False, f"suspended on vcpu{v.waiting_on} (kvm_vcpu_block)")
        if has_op:
            return Status("enter", False, "outside KVM_RUN: waits for a VMM `run`")
        if v.pending_flush:
            return Status("service", False, "outside KVM_RUN: the flush request waits for `run`")
        return Status("", False, DONE)

    def _thread_status(self, s: State, i: int) -> Status:
        th = s.threads[i]
        ops = self.program.threads[i][1]
        if th.op >= len(ops):
            return Status("", False, DONE)
        op = ops[th.op]
        if isinstance(op, Exit):
            return Status("exit", True)
        v = s.vcpus[op.vcpu]
        if isinstance(op, Run):
            return self._mutex_status("run", op.vcpu, v)
        pc = th.pc or "lock"
        if pc == "lock":
            return self._mutex_status("lock", op.vcpu, v)
        if pc == "synced":
            for c, gen in th.readers:
                r = s.vcpus[c]
                if r.srcu_reader and r.srcu_gen == gen:
                    return Status("synced", False, f"synchronize_srcu waits for reader vcpu{c}")
            return Status("synced", True)
        if pc in ("unsuspend", "wake"):
            return Status(f"{pc} {th.w}", True)
        return Status(pc, True)

    @staticmethod
    def _mutex_status(step: str, x: int, v: Vcpu) -> Status:
        if v.mode != USER:
            return Status(step, False, f"vcpu{x} is in KVM_RUN ({v.mode}), which holds vcpu->mutex")
        if v.mutex:
            return Status(step, False, f"vcpu{x}->mutex is held by {v.mutex}")
        return Status(step, True)

    # -- taking a step -------------------------------------------------------

    def step(self, s: State, a: int, time: int = 0) -> tuple[State, Event]:
        """Actor `a` takes its next step; raises ValueError if it cannot."""
        st = self.status(s, a)
        if not st.enabled:
            raise ValueError(f"{self.names[a]} cannot step: {st.why}")
        if a < self.n:
            s2, text = self._vcpu_step(s, a, st.step.split(" ", 1)[0])
            op = self.ops[a][s.vcpus[a].op].id if st.step not in _ANYTIME else ""
        else:
            th = s.threads[a - self.n]
            op = self.ops[a][th.op].id
            s2, text = self._thread_step(s, a - self.n, st.step.split(" ", 1)[0])
        return s2, Event(time, self.names[a], op, st.step, text, _changes(s, s2))

    def _vcpu_step(self, s: State, c: int, step: str) -> tuple[State, str]:
        vcpus = s.vcpus
        v = vcpus[c]
        if step == "service":
            # vcpu_enter_guest(): KVM_REQ_HV_TLB_FLUSH -> kvm_hv_vcpu_flush_tlb()
            v = v._replace(pending_flush=False, flushes=v.flushes + 1)
            return s._replace(vcpus=vcpus.set(c, v)), f"kvm_hv_vcpu_flush_tlb: vcpu {c}"
        if step == "resume":
            # kvm_vcpu_running() is true again: the hypercall instruction re-executes
            v = v._replace(mode=GUEST)
            return s._replace(vcpus=vcpus.set(c, v)), f"kvm_vcpu_block: vcpu {c} runnable again"
        if step == "leave":
            # signal pending: KVM_RUN returns to userspace and drops vcpu->mutex
            v = v._replace(mode=USER, exit_pending=False, mutex="")
            return s._replace(vcpus=vcpus.set(c, v)), f"kvm_arch_vcpu_ioctl_run: vcpu {c} exits"

        flush: Flush = self.ops[c][v.op]
        targets = flush.targets
        var = self.variant
        if step == "enter":
            # kvm_hv_hypercall() -> kvm_hv_flush_tlb(), under srcu_read_lock()
            first = "complete" if not targets else ("request" if var.request_first else "check")
            v = v._replace(
                mode=KERNEL, srcu_reader=True, srcu_gen=v.srcu_gen + 1, pc=first, k=0
            )
            text = f"kvm_hv_flush_tlb: vcpu {c} targets {format_targets(targets)}"
            return s._replace(vcpus=vcpus.set(c, v)), text
        if step == "check":
            # if (READ_ONCE(v->arch.hyperv->tlb_flush_inhibit)) goto ret_suspend;
            t = targets[v.k]
            if vcpus[t].inhibit:
                v = v._replace(pc="s1")
                text = f"READ_ONCE(tlb_flush_inhibit): vcpu {t} is inhibited, goto ret_suspend"
            else:
                v = self._advance(v, len(targets), "complete" if var.request_first else "request")
                text = f"READ_ONCE(tlb_flush_inhibit): vcpu {t} is not inhibited"
            return s._replace(vcpus=vcpus.set(c, v)), text
        if step == "request":
            # kvm_make_vcpus_request_mask(kvm, KVM_REQ_HV_TLB_FLUSH, vcpu_mask)
            t = targets[v.k]
            vcpus = vcpus.set(t, vcpus[t]._replace(pending_flush=True))
            v = self._advance(vcpus[c], len(targets), "check" if var.request_first else "complete")
            text = f"kvm_make_vcpus_request_mask: KVM_REQ_HV_TLB_FLUSH to vcpu {t}"
            return s._replace(vcpus=vcpus.set(c, v)), text
        if step == "complete":
            # return HV_STATUS_SUCCESS: the instruction is skipped; srcu_read_unlock()
            v = v._replace(mode=GUEST, srcu_reader=False, op=v.op + 1, pc="enter", k=0)
            text = f"kvm_hv_hypercall_complete: vcpu {c} HV_STATUS_SUCCESS"
            return s._replace(vcpus=vcpus.set(c, v)), text
        t = targets[v.k]
        if step == "s1":
            # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(waiting_on, vcpu_id)
            v = v._replace(waiting_on=t, pc="s3" if var.merged_state else "s2")
            if var.merged_state:
                text = f"kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu {c} waiting on {t}"
            else:
                text = f"WRITE_ONCE(waiting_on): vcpu {c} waiting_on = {t}"
            return s._replace(vcpus=vcpus.set(c, v)), text
        if step == "s2":
            # kvm_hv_vcpu_suspend_tlb_flush(): WRITE_ONCE(suspended, true)
            v = v._replace(suspended=True, pc="s3")
            text = f"kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu {c} waiting on {v.waiting_on}"
            return s._replace(vcpus=vcpus.set(c, v)), text
        # s3: kvm_hv_hypercall_complete(): if (kvm_hv_vcpu_suspended(vcpu)) return 1;
        # the instruction is not skipped, so the op restarts at `enter`.
        v = v._replace(mode=BLOCKED, srcu_reader=False, pc="enter", k=0)
        text = f"kvm_hv_hypercall_complete: vcpu {c} suspended, instruction not skipped"
        return s._replace(vcpus=vcpus.set(c, v)), text

    @staticmethod
    def _advance(v: Vcpu, count: int, then: str) -> Vcpu:
        """On to the next target, or to `then` after the last one."""
        if v.k + 1 < count:
            return v._replace(k=v.k + 1)
        return v._replace(pc=then, k=0)

    def _thread_step(self, s: State, i: int, step: str) -> tuple[State, str]:
        name, ops = self.program.threads[i]
        th = s.threads[i]
        op = ops[th.op]
        vcpus = s.vcpus

        def done(new_vcpus: Vec = vcpus, windows: int = s.windows) -> State:
            threads = s.threads[:i] + (Thread(op=th.op + 1),) + s.threads[i + 1 :]
            return State(new_vcpus, threads, windows)

        if step == "exit":
            # the VMM kicks the thread out of KVM_RUN (signal / immediate_exit)
            v = vcpus[op.vcpu]
            if v.mode == USER:
                return done(), f"kvm_vcpu_kick: vcpu {op.vcpu} is outside KVM_RUN already"
            vcpus = vcpus.set(op.vcpu, v._replace(exit_pending=True))
            return done(vcpus), f"kvm_vcpu_kick: vcpu {op.vcpu} exit requested"
        if step == "run":
            # KVM_RUN: mutex_lock(&vcpu->mutex); a suspended vCPU blocks at once
            v = vcpus[op.vcpu]
            mode = BLOCKED if self.suspended(v) else GUEST
            vcpus = vcpus.set(op.vcpu, v._replace(mode=mode, mutex=KVM_RUN))
            return done(vcpus), f"kvm_arch_vcpu_ioctl_run: vcpu {op.vcpu} enters ({mode})"

        assert isinstance(op, SetInhibit)
        x, b = op.vcpu, op.value
        var = self.variant
        windows = s.windows

        def goto(pc: str, new_vcpus: Vec = vcpus, **kw) -> State:
            threads = s.threads[:i] + (th._replace(pc=pc, **kw),) + s.threads[i + 1 :]
            return State(new_vcpus, threads, windows)

        after_write = "sync" if var.sync else ("return" if b else "unsuspend")
        if step == "lock":
            # kvm_vcpu_ioctl(): mutex_lock(&vcpu->mutex) -- vCPU ioctls are serialized
            if not b:
                windows &= ~(1 << x)
            vcpus = vcpus.set(x, vcpus[x]._replace(mutex=name))
            return goto("compare", vcpus), f"mutex_lock: vcpu {x}->mutex for SET_TLB_FLUSH_INHIBIT"
        if step == "compare":
            # if (set->inhibit == READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit)) return 0;
            if vcpus[x].inhibit == b:
                return goto("return"), f"READ_ONCE(tlb_flush_inhibit): vcpu {x} is {int(b)} already"
            return goto("write"), f"READ_ONCE(tlb_flush_inhibit): vcpu {x} is {int(not b)}"
        if step == "write":
            # WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, set->inhibit);
            vcpus = vcpus.set(x, vcpus[x]._replace(inhibit=b))
            state = goto(after_write, vcpus, w=0)
            return state, f"WRITE_ONCE(tlb_flush_inhibit): vcpu {x} = {int(b)}"
        if step == "sync":
            # synchronize_srcu(&vcpu->kvm->srcu) begins: it waits for the readers inside now
            readers = tuple((c, v.srcu_gen) for c, v in enumerate(vcpus) if v.srcu_reader)
            who = " ".join(f"vcpu{c}" for c, _ in readers) or "nobody"
            return goto("synced", readers=readers), f"synchronize_srcu: waits for {who}"
        if step == "synced":
            state = goto("return" if b else "unsuspend", readers=(), w=0)
            return state, "synchronize_srcu: returns"
        w = th.w
        nxt = "unsuspend" if w + 1 < self.n else "return"
        if step == "unsuspend":
            # kvm_hv_vcpu_unsuspend_tlb_flush(): one kvm_for_each_vcpu() iteration
            v = vcpus[w]
            if not (self.suspended(v) and (var.wake_all or v.waiting_on == x)):
                return goto(nxt, w=w + 1), f"kvm_hv_vcpu_unsuspend_tlb_flush: vcpu {w} stays"
            if var.merged_state:
                vcpus = vcpus.set(w, v._replace(waiting_on=-1))
                return goto(nxt, vcpus, w=w + 1), _unsuspending(w)
            if var.unsuspend_swapped:
                vcpus = vcpus.set(w, v._replace(suspended=False))
                return goto("wake", vcpus), _unsuspending(w)
            # "waiting_on's store should happen before suspended's"
            vcpus = vcpus.set(w, v._replace(waiting_on=-1))
            return goto("wake", vcpus), f"WRITE_ONCE(waiting_on): vcpu {w} waiting_on = -1"
        if step == "wake":
            v = vcpus[w]
            if var.unsuspend_swapped:
                vcpus = vcpus.set(w, v._replace(waiting_on=-1))
                text = f"WRITE_ONCE(waiting_on): vcpu {w} waiting_on = -1"
            else:
                vcpus = vcpus.set(w, v._replace(suspended=False))
                text = _unsuspending(w)
            return goto(nxt, vcpus, w=w + 1), text
        # return: the ioctl returns 0 and kvm_vcpu_ioctl() drops vcpu->mutex
        if b:
            windows |= 1 << x
        vcpus = vcpus.set(x, vcpus[x]._replace(mutex=""))
        return done(vcpus, windows), f"KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu {x} returns 0"


_ANYTIME = ("service", "resume", "leave")


def _unsuspending(w: int) -> str:
    return f"kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu {w}"


def _changes(before: State, after: State) -> tuple[tuple[str, object], ...]:
    """The user-visible fields a step changed, in vCPU order."""
    return tuple(
        (f"vcpu{c}.{f}", getattr(vb, f))
        for c, va, vb in before.vcpus.diff(after.vcpus)
        for f in _SHOWN
        if getattr(va, f) != getattr(vb, f)
    )
