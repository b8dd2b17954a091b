"""Partial-order reduction: persistent sets built from each step's footprint.

From a state, the checker need not try every enabled actor: it may take
only the actors of a *persistent set* P -- a set such that nothing the
other actors can do, in any order, before P's actors move, depends on P's
next steps. Every state the full graph can end in (every deadlock and
every blocked-by-design state) is still reached, and with two more rules
so is every property violation:

- visibility: unless P is every enabled actor, no step in P can change a
  property's outcome (`visible` below: the steps that write an inhibit
  flag, a window, the in-ioctl condition or `suspended`/`waiting_on` --
  except a suspension on a flag set for good -- and the steps a property
  judges that could fail from here). What a judged step's verdict reads
  besides windows -- a target's Hyper-V context, `suspended` at `s3`, who
  is an SRCU reader at `sync` -- is in its footprint, so a step left out
  cannot change it either;
- no ignoring: the state graph is acyclic and finite (test_checker_graph
  checks it), so an actor left out now is not left out forever.

Sketch: take a shortest path to a violation. If it uses an actor of P,
that actor's step commutes to the front (nothing before it touches what
it touches) and the path keeps its end; if not, P's step commutes with the
whole path and, being invisible, keeps the violation. Either way a
reduced successor has a path to the violation, and the graph being a DAG
the induction ends. Lengths are not kept (the second case adds a step),
which is why the checker shortens counterexamples in a second, unreduced
pass (hvtui.check.search).

Footprints are sets of *tokens*, one per (field, vCPU): a step's reads and
writes, and for every actor the union over everything it may still do
(static, per op and phase). Two steps are dependent when one writes what
the other reads or writes. The footprints restate what hvtui.model.engine's steps
touch; test_checker_reductions checks, state by state, that the steps POR
keeps commute with the ones it leaves out, so an engine change that a
footprint misses fails there.
"""

from __future__ import annotations

from hvtui.check.symmetry import flush_targets, may_be_inhibited
from hvtui.model.engine import Engine, Status
from hvtui.model.state import KERNEL, Exit, Flush, HypervInit, Run, SetInhibit, State

# token kinds: which field of which vCPU a step touches. SRCU is the reader
# record of the domain the ioctl's synchronize_srcu() waits on; CTX is
# `hyperv` and `ran`, which change only for the vCPUs created without a
# Hyper-V context (for the others they are constants and need no token).
INH, SUSP, MODE, PEND, MUTEX, EXIT, SRCU, CTX = range(8)

# a set_inhibit's steps in order; the scan is one phase
_PHASE = {
    "": 0,
    "lock": 0,
    "compare": 1,
    "write": 2,
    "sync": 3,
    "synced": 4,
    "unsuspend": 5,
    "wake": 5,
    "return": 6,
}
_STEADY = (MODE, PEND, EXIT, SUSP)  # what a vCPU outside a hypercall looks at to pick its step


class PartialOrder:
    """Persistent sets for one program under one variant."""

    def __init__(self, engine: Engine, live: list[int]):
        self.engine = engine
        self.live = live
        self.n = engine.n
        program = engine.program
        inhibitable = may_be_inhibited(program)
        self.suspendable = {
            c for c, ops in enumerate(program.vcpu_ops) if flush_targets(ops) & inhibitable
        }
        self.no_hyperv = program.initial_no_hyperv
        # kernel work reads kvm->srcu: a reader of the synced domain unless own-srcu
        self.work_reads = not engine.variant.own_srcu
        readers = [
            c
            for c, ops in enumerate(program.vcpu_ops)
            if any(isinstance(op, Flush) or self.work_reads for op in ops)
        ]
        self.srcu_all = self.bits(SRCU, readers)  # only these ever enter the synced domain
        self.susp_all = self.bits(SUSP, sorted(self.suspendable))

        # vcpu_future[c][j]: (reads, writes) of everything vcpu c may do from op j on
        self.vcpu_future = []
        for c, ops in enumerate(program.vcpu_ops):
            acc = (
                self.steady(c),
                self.tok(PEND, c) | self.tok(MODE, c) | self.tok(EXIT, c) | self.tok(MUTEX, c),
            )
            table = [acc]
            for op in reversed(ops):
                r = self.tok(MODE, c)
                w = self.tok(MODE, c) | self.srcu(c, op)
                if isinstance(op, Flush):
                    r |= self.bits(INH, op.targets) | self.ctx(*op.targets)
                    w |= self.bits(PEND, op.targets)
                    if c in self.suspendable:
                        w |= self.tok(SUSP, c)
                acc = (acc[0] | r, acc[1] | w)
                table.append(acc)
            self.vcpu_future.append(table[::-1])

        # thread_future[i][j][phase]: the rest of op j from `phase`, then every later op
        # opens_from[i][j]: windows that ops j.. of thread i may open
        self.thread_future = []
        self.opens_from = []  # [thread][op]: windows ops op.. may open
        self.clears_from = []  # [thread][op]: flags ops op.. may clear
        self.phases = [[self._op_phases(op) for op in ops] for _, ops in program.threads]
        for (_, ops), op_phases in zip(program.threads, self.phases, strict=True):
            later = (0, 0)
            opens = clears = 0
            table: list[list[tuple[int, int]]] = []
            opens_table, clears_table = [0], [0]
            for op, phases in zip(reversed(ops), reversed(op_phases), strict=True):
                rows = []
                acc = later
                for r, w in reversed(phases):
                    acc = (acc[0] | r, acc[1] | w)
                    rows.append(acc)
                rows.reverse()
                table.append(rows)
                later = rows[0]
                if isinstance(op, SetInhibit):
                    if op.value:
                        opens |= 1 << op.vcpu
                    else:
                        clears |= 1 << op.vcpu
                opens_table.append(opens)
                clears_table.append(clears)
            table.reverse()
            self.thread_future.append(table)
            self.opens_from.append(opens_table[::-1])
            self.clears_from.append(clears_table[::-1])

    # -- tokens --------------------------------------------------------------

    def tok(self, kind: int, c: int) -> int:
        return 1 << (kind * self.n + c)

    def bits(self, kind: int, ids) -> int:
        base = kind * self.n
        out = 0
        for c in ids:
            out |= 1 << (base + c)
        return out

    def ctx(self, *ids: int) -> int:
        """The CTX tokens of those of `ids` that may lack a Hyper-V context."""
        return self.bits(CTX, [c for c in ids if c in self.no_hyperv])

    def steady(self, c: int) -> int:
        """What vcpu c outside a hypercall reads to pick its step (a flush's
        `enter` also needs a Hyper-V context)."""
        return sum(self.tok(k, c) for k in _STEADY) | self.ctx(c)

    def srcu(self, c: int, op) -> int:
        """The SRCU token op's read-side section writes: kernel work holds kvm->srcu only."""
        return self.tok(SRCU, c) if isinstance(op, Flush) or self.work_reads else 0

    def _op_phases(self, op) -> list[tuple[int, int]]:
        """(reads, writes) of each phase of a VMM op."""
        x = op.vcpu
        ctx = self.ctx(x)  # run records that x has been in KVM_RUN
        if isinstance(op, Run):
            return [
                (
                    self.tok(MODE, x) | self.tok(MUTEX, x) | self.tok(SUSP, x),
                    self.tok(MODE, x) | self.tok(MUTEX, x) | ctx,
                )
            ]
        if isinstance(op, Exit):
            return [(self.tok(MODE, x), self.tok(EXIT, x))]
        if isinstance(op, HypervInit):
            # A vCPU without a context has inhibit 0, suspended false and
            # waiting_on -1 already: creating it writes only `hyperv`.
            return [(self.tok(MODE, x) | self.tok(MUTEX, x) | ctx, ctx)]
        sync = self.srcu_all if self.engine.variant.sync else 0
        scan = 0 if op.value else self.susp_all
        return [
            (self.tok(MODE, x) | self.tok(MUTEX, x), self.tok(MUTEX, x)),  # lock
            (self.tok(INH, x) | ctx, 0),  # compare
            (ctx, self.tok(INH, x)),  # write
            (sync, 0),  # sync
            (sync, 0),  # synced
            (scan, scan),  # unsuspend / wake
            (ctx, self.tok(MUTEX, x)),  # return: a window opens only with a context
        ]

    # -- per state -----------------------------------------------------------

    def future(self, s: State, a: int) -> tuple[int, int]:
        """(reads, writes) of everything actor `a` may still do, this step included."""
        n = self.n
        if a < n:
            return self.vcpu_future[a][s.vcpus[a].op]
        i = a - n
        th = s.threads[i]
        table = self.thread_future[i]
        if th.op >= len(table):
            return (0, 0)
        return table[th.op][_PHASE[th.pc]]

    def may_open(self, s: State) -> int:
        """Windows open now or that a remaining set_inhibit(true) may open."""
        return s.windows | self._ahead(s, self.opens_from)

    def may_clear(self, s: State) -> int:
        """Flags a remaining set_inhibit(false) may clear."""
        return self._ahead(s, self.clears_from)

    @staticmethod
    def _ahead(s: State, tables: list[list[int]]) -> int:
        out = 0
        for th, table in zip(s.threads, tables, strict=True):
            out |= table[min(th.op, len(table) - 1)]
        return out

    def footprint(self, s: State, a: int, step: str) -> tuple[int, int]:
        """(reads, writes) of actor `a`'s enabled next step `step`."""
        kind, _, arg = step.partition(" ")
        tok = self.tok
        if a < self.n:
            c = a
            v = s.vcpus[c]
            if v.mode == KERNEL:
                reads = tok(MODE, c)
                if kind == "check":
                    t = int(arg)
                    return reads | tok(INH, t) | self.ctx(t), 0
                if kind == "request":
                    return reads, tok(PEND, int(arg))
                if kind in ("s1", "s2"):
                    return reads, tok(SUSP, c)
                if kind == "s3":
                    # kvm_hv_hypercall_complete() asks kvm_hv_vcpu_suspended()
                    reads |= tok(SUSP, c)
                op = self.engine.ops[c][v.op]
                return reads, tok(MODE, c) | self.srcu(c, op)  # complete, s3, vmentry
            reads = self.steady(c)
            if kind == "service":
                return reads, tok(PEND, c)
            if kind == "resume":
                return reads, tok(MODE, c)
            if kind == "leave":
                return reads, tok(MODE, c) | tok(EXIT, c) | tok(MUTEX, c)
            return reads, tok(MODE, c) | self.srcu(c, self.engine.ops[c][v.op])  # enter, vmexit
        i = a - self.n
        if kind in ("synced", "sync"):
            return self._readers(s, i) if kind == "synced" else self.srcu_all, 0
        if kind in ("unsuspend", "wake"):
            w = int(arg)
            t = tok(SUSP, w) if w in self.suspendable else 0
            return t, t
        return self.phases[i][s.threads[i].op][_PHASE.get(kind, 0)]  # run, exit: one phase

    def _readers(self, s: State, i: int) -> int:
        return self.bits(SRCU, [c for c, _ in s.threads[i].readers])

    def guard(self, s: State, a: int, status: Status) -> int:
        """What a disabled actor's enabling condition reads."""
        if a < self.n:
            return self.steady(a)
        if status.step == "synced":
            return self._readers(s, a - self.n)
        if status.step in ("lock", "run", "hyperv_init"):
            i = a - self.n
            x = self.engine.program.threads[i][1][s.threads[i].op].vcpu
            return self.tok(MODE, x) | self.tok(MUTEX, x)
        return 0  # finished: nothing enables it again

    def visible(self, s: State, a: int, step: str, opens: int, clears: int) -> bool:
        """Can this step change whether some property holds (see the module doc)?
        `opens`, `clears`: may_open(s), may_clear(s)."""
        kind, _, arg = step.partition(" ")
        engine = self.engine
        if a < self.n:
            v = s.vcpus[a]
            if kind == "check":  # no-null-deref: a target without a context
                return not s.vcpus[int(arg)].hyperv
            if kind == "s3":  # no-bogus-status: the -EBUSY fall-through
                return not engine.variant.retry and not engine.suspended(v)
            if kind in ("s1", "s2"):
                # Suspending on a vCPU whose flag is set for good can never be
                # a lost wake-up; any other suspension might be.
                t = engine.ops[a][v.op].targets[v.k]
                settled = s.vcpus[t].inhibit and not clears >> t & 1
                return not (settled and (kind == "s1" or v.waiting_on == t))
            if kind == "request":
                return bool(opens >> int(arg) & 1)
            if kind == "service":
                return bool(opens >> a & 1)
            if kind == "complete":
                return bool(engine.ops[a][v.op].mask & opens) or engine.suspended(v)
            if kind in ("enter", "leave", "vmexit", "vmentry"):
                # guest <-> not guest matters to suspended-stays-put only for a
                # suspended vCPU, and only the vCPU itself can become suspended.
                return engine.suspended(v)
            return False  # resume
        if kind in ("lock", "write", "wake", "return"):
            return True
        i = a - self.n
        if kind == "compare":  # no-null-deref
            return not s.vcpus[engine.program.threads[i][1][s.threads[i].op].vcpu].hyperv
        if kind == "sync":  # sync-waits-for-flushes-only: a reader in kernel work
            return self.work_reads and any(v.srcu_reader and v.pc == "vmentry" for v in s.vcpus)
        if kind == "unsuspend":
            x = engine.program.threads[i][1][s.threads[i].op].vcpu
            w = s.vcpus[int(arg)]
            return engine.suspended(w) and (engine.variant.wake_all or w.waiting_on == x)
        return False  # synced, run, exit, hyperv_init

    def ample(self, s: State, statuses: list[Status], enabled: list[int]) -> list[int]:
        """The smallest persistent set found, as the enabled actors to take; all of
        `enabled` when no proper one exists. Deterministic: ties go to the lowest actor."""
        if len(enabled) > MAX_ENABLED:
            return enabled
        here = _Here(self, s, statuses)
        best = enabled
        for seed in enabled:
            if here.visible(seed):
                continue
            chosen = here.closure(seed, len(best))
            if chosen is not None:
                best = chosen
                if len(best) == 1:
                    break
        return best


# Finding a persistent set costs about (enabled actors) x (live actors) footprint
# tests per state; past this many enabled actors (thousands of vCPUs flushing at
# once) that costs more than the states it saves, so every actor steps.
MAX_ENABLED = 64


class _Here:
    """One state's footprints, computed as the search for a persistent set needs them."""

    def __init__(self, po: PartialOrder, s: State, statuses: list[Status]):
        self.po = po
        self.s = s
        self.statuses = statuses
        self.opens = po.may_open(s)
        self.clears = po.may_clear(s)
        self._visible: dict[int, bool] = {}
        self._futures: dict[int, tuple[int, int]] = {}
        self._needs: dict[int, list[int]] = {}

    def visible(self, a: int) -> bool:
        seen = self._visible.get(a)
        if seen is None:
            seen = self._visible[a] = self.po.visible(
                self.s, a, self.statuses[a].step, self.opens, self.clears
            )
        return seen

    def future(self, y: int) -> tuple[int, int]:
        fut = self._futures.get(y)
        if fut is None:
            fut = self._futures[y] = self.po.future(self.s, y)
        return fut

    def needs(self, x: int) -> list[int]:
        """The actors that must join a persistent set once x is in it."""
        out = self._needs.get(x)
        if out is not None:
            return out
        po, st, out = self.po, self.statuses[x], []
        if st.enabled:
            # y's future conflicts with x's step: it could change it, or be changed
            reads, writes = po.footprint(self.s, x, st.step)
            touched = reads | writes
            for y in po.live:
                if y != x:
                    fr, fw = self.future(y)
                    if writes & (fr | fw) or fw & touched:
                        out.append(y)
        else:
            # y could enable x
            guard = po.guard(self.s, x, st)
            if guard:
                out = [y for y in po.live if y != x and self.future(y)[1] & guard]
        self._needs[x] = out
        return out

    def closure(self, seed: int, limit: int) -> list[int] | None:
        """The enabled actors of the persistent set grown from `seed`; None if it
        needs a visible step or has `limit` or more enabled actors."""
        members = {seed}
        work = [seed]
        enabled = 0
        statuses = self.statuses
        while work:
            x = work.pop()
            if statuses[x].enabled:
                if self.visible(x):
                    return None
                enabled += 1
                if enabled >= limit:
                    return None
            for y in self.needs(x):
                if y not in members:
                    members.add(y)
                    work.append(y)
        return [a for a in sorted(members) if statuses[a].enabled]
