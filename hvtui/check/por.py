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
  judges that could fail from here);
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

Except for a path to an end state (where nothing can step: progress's
verdict), whose shortest length is kept. Such a path must use an actor of
P -- one left out all the way would still be enabled at its end, as no
step outside P disables a step of P -- and that step commutes to the
front: the reduced path is the same steps in another order, as long. So
the breadth-first main pass finds a shortest one (test_checker_reductions
holds it to the unreduced search's length).

Footprints are sets of *tokens*, one per (field, vCPU): a step's reads and
writes, and for every actor the union over everything it may still do
(static, per op and phase). Two steps are dependent when one writes what
the other reads or writes. Nothing here says what a step touches: the
tokens are the step table's declared locations (hvtui.model.steps), bound
to vCPU ids, and visibility is the properties' (hvtui.model.properties)
judgement of the locations a step's outcome writes. Fields only an actor's
own steps touch (its position, `flushes`, the sync record) get no token.
test_steps_footprints holds the declarations to the effects;
test_checker_reductions checks, state by state, that the steps POR keeps
commute with the ones it leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from itertools import compress
from operator import is_, itemgetter
from typing import NamedTuple

from hvtui.check.symmetry import flush_targets, may_be_inhibited
from hvtui.model import properties as props
from hvtui.model.engine import Engine, PerVcpu, Status
from hvtui.model.state import KERNEL, USER, State
from hvtui.model.steps import (
    ALL,
    ANYTIME,
    BY_KIND,
    OP_PHASES,
    RECORDED,
    STEPS,
    THREAD,
    C,
    Loc,
    T,
    W,
    X,
    bind,
)
from hvtui.model.variants import VARIANTS

_OWN = (C, THREAD)
# Every location the table names, under any variant.
_NAMED = [
    loc
    for d in STEPS
    for loc in d.all_writes() + tuple({r for v in VARIANTS.values() for r in d.reads_under(v)})
]
# Fields that only the stepping actor's own steps ever name: no other actor
# can depend on them, so they get no token.
OWNED = frozenset(
    f
    for f in {loc.field for loc in _NAMED}
    if all(loc.who in _OWN for loc in _NAMED if loc.field == f)
)
TOKEN_FIELDS = tuple(sorted({loc.field for loc in _NAMED} - OWNED))

# Writes that only ever store True into a flag: `request` sets the target's
# pending_flush (kvm_make_vcpus_request_mask() only raises a request), so two
# of them commute with each other -- in either order the flag ends set -- while
# each still conflicts with a read or any other write of it (service clears
# it). test_por_sets holds the declaration to the effect.
SETS = frozenset({("request", "pending_flush")})


def split_sets(d, declared=SETS) -> tuple[tuple[Loc, ...], tuple[Loc, ...]]:
    """Step d's written locations: (the others, the set-only ones of `declared`)."""
    writes, sets = [], []
    for loc in d.all_writes():
        (sets if (d.kind, loc.field) in declared else writes).append(loc)
    return tuple(writes), tuple(sets)


KIND = {f: k for k, f in enumerate(TOKEN_FIELDS)}


class PartialOrder:
    """Persistent sets for one program under one variant."""

    def __init__(self, engine: Engine, live: list[int], commuting: bool = True):
        self.engine = engine
        self.sets = SETS if commuting else frozenset()
        self.live = live
        self.n = engine.n
        program = engine.program
        variant = engine.variant
        inhibitable = may_be_inhibited(program)
        # Only a vCPU that may meet an inhibited target ever suspends, and a
        # scan writes only suspended vCPUs: elsewhere the suspension fields
        # never change, and reading them conflicts with nothing.
        suspendable = {
            c for c, ops in enumerate(program.vcpu_ops) if flush_targets(ops) & inhibitable
        }
        self.suspendable = suspendable
        # Where a field can change at all; elsewhere it is a constant, and
        # reading it conflicts with nothing. Only a vCPU that may meet an
        # inhibited target ever suspends, and a scan writes only suspended
        # vCPUs; only a vCPU created without a Hyper-V context gets one (and
        # `ran` is read only for those).
        self.changing = {
            "suspended": suspendable,
            "waiting_on": suspendable,
            "hyperv": program.initial_no_hyperv,
            "ran": program.initial_no_hyperv,
        }
        every = range(self.n)

        def static(a: int, op, defs) -> tuple[int, int, int]:
            """(reads, writes, sets) of these steps of actor a's op, wherever they may bind."""
            binding = {C: (a,), ALL: every, RECORDED: every, W: sorted(self.suspendable)}
            if op is not None:
                binding[T] = getattr(op, "targets", ())
                binding[X] = (getattr(op, "vcpu", -1),)
            r = w = z = 0
            for d in defs:
                if d.applies(variant, op):
                    r |= self.tokens(d.reads_under(variant), binding)
                    writes, sets = split_sets(d, self.sets)
                    w |= self.tokens(writes, binding)
                    z |= self.tokens(sets, binding)
            return r, w, z

        # vcpu_future[c][j]: (reads, writes, sets) of everything vcpu c may do from op j on
        self.vcpu_future = []
        for c, ops in enumerate(program.vcpu_ops):
            acc = static(c, None, ANYTIME)
            table = [acc]
            for op in reversed(ops):
                defs = [BY_KIND[k] for phase in OP_PHASES[op.op] for k in phase]
                r, w, z = static(c, op, defs)
                acc = (acc[0] | r, acc[1] | w, acc[2] | z)
                table.append(acc)
            self.vcpu_future.append(table[::-1])
        # Reads of a token no step can ever write conflict with nothing.
        self.writable = 0
        for table in self.vcpu_future:
            self.writable |= table[0][1] | table[0][2]

        # thread_future[i][j][phase]: the rest of op j from `phase`, then every later op
        self.thread_future = []
        self.opens_from = []  # [thread][op]: windows ops op.. may open
        self.clears_from = []  # [thread][op]: flags ops op.. may clear
        a0 = self.n
        for i, (_, ops) in enumerate(program.threads):
            phases_of = [
                [static(a0 + i, op, [BY_KIND[k] for k in phase]) for phase in OP_PHASES[op.op]]
                for op in ops
            ]
            for rows in phases_of:
                for _, w, z in rows:
                    self.writable |= w | z
            later = (0, 0, 0)
            opens = clears = 0
            table: list[list[tuple[int, int, int]]] = []
            opens_table, clears_table = [0], [0]
            for op, phases in zip(reversed(ops), reversed(phases_of), strict=True):
                rows = []
                acc = later
                for r, w, z in reversed(phases):
                    acc = (acc[0] | r, acc[1] | w, acc[2] | z)
                    rows.append(acc)
                rows.reverse()
                table.append(rows)
                later = rows[0]
                if op.op == "set_inhibit":
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
        # _touchers[token]: the live actors whose whole program (their future
        # from the initial state) touches it, as a bitmask of actor ids
        self._touchers: dict[int, int] = {}
        for a in live:
            if a < self.n:
                r, w, z = self.vcpu_future[a][0]
            else:
                table = self.thread_future[a - self.n]
                r, w, z = table[0][0] if table else (0, 0, 0)
            for bit in bits(r | w | z):
                self._touchers[bit] = self._touchers.get(bit, 0) | 1 << a
        # least[a]: the least future actor a can have anywhere (a vCPU past its
        # last op, a thread that has finished): what it will touch whatever it does
        self.least = [(0, 0, 0)] * len(engine.names)
        for c, table in enumerate(self.vcpu_future):
            self.least[c] = table[-1]
        self._hopeless: dict[tuple, bool] = {}
        self._touching: dict[tuple[int, int], tuple[int, ...]] = {}
        # footprint() and guard() by (actor, step, _where): tokens bound once
        self._footprints: dict[tuple, tuple[int, int, int]] = {}
        self._guards: dict[tuple, int] = {}
        self._phase = {
            kind: p for phases in OP_PHASES.values() for p, ks in enumerate(phases) for kind in ks
        }
        # With few actors, who needs whom is asked of their parts (part): few
        # differ, so each pair of parts is judged once (rows), and ample()'s
        # candidates are found once per tuple of parts (plan), not once a state.
        self.few = len(live) <= FEW
        self._vcpu_parts = PerVcpu(self.n)
        self._thread_parts = PerVcpu(len(program.threads))
        self._by_parts: dict[tuple[int, ...], tuple] = {}  # plan() by the parts
        self._plans: dict[tuple, tuple] = {}  # plan() by (enabled, needs masks)
        self._part_ids: dict[tuple, int] = {}
        self.parts_of: list[tuple[bool, object, tuple[int, int, int]]] = []  # by part id
        # rows[x][y]: 1 if an actor of part x needs one of part y, else 0 (a
        # byte each: _needs gathers a row's bytes at a state's parts in one call)
        self.rows: list[bytearray] = []
        self._columns: list[bytearray] = []  # columns[y][x] = rows[x][y]
        self._weights = tuple(1 << a for a in live)  # by live position: its actor's bit
        # part id -> its kind (_regroup), None until asked since a part was
        # interned; plan() by the live actors' kinds
        self._kinds: list[int] | None = None
        self._by_kinds: dict[tuple[int, ...], tuple] = {}
        # (actor, status, _where) -> the last actor found to need it, and that
        # actor's future then (_Here.alone)
        self.witness: dict[tuple, tuple] = {}
        # the same key -> the actors it may need, and when each does (_Here._rows)
        self.company: dict[tuple, tuple] = {}
        # component[a]: the vCPUs a's closure can ever reach, as a tuple, or None
        # where a VMM thread is among them (its status and steps read any vCPU)
        self.component = _components(self._touchers, live, self.n)
        # pick[a]: all vCPUs' values -> those of a's component (C speed)
        self.pick = [_picker(comp) for comp in self.component]
        self.walks: dict[int, tuple] = {}  # seed -> (what it was walked from, _Walk)

    def touching(self, tokens: int, x: int) -> tuple[int, ...]:
        """The live actors but x, ascending, whose program touches one of `tokens`
        anywhere: a superset of those whose future from here does (futures only
        shrink), found per token instead of asking every actor; once per
        (tokens, x), as footprints repeat."""
        key = (tokens, x)
        out = self._touching.get(key)
        if out is None:
            mask = 0
            toucher = self._touchers
            for bit in bits(tokens):
                mask |= toucher.get(bit, 0)
            out = self._touching[key] = tuple(bits(mask & ~(1 << x)))
        return out

    # -- tokens --------------------------------------------------------------

    def tok(self, field: str, c: int) -> int:
        return 1 << (KIND[field] * self.n + c)

    def tokens(self, where: tuple[Loc, ...], binding) -> int:
        """The tokens of these locations, their whom bound to ids by `binding`."""
        out = 0
        n = self.n
        for field, who in where:
            kind = KIND.get(field)
            if kind is None:
                continue
            ids = binding[who]
            changing = self.changing.get(field)
            if changing is not None:
                ids = [c for c in ids if c in changing]
            base = kind * n
            for c in ids:
                out |= 1 << (base + c)
        return out

    # -- per state -----------------------------------------------------------

    def future(self, s: State, a: int) -> tuple[int, int, int]:
        """(reads, writes, sets) of everything actor `a` may still do, this step included."""
        n = self.n
        if a < n:
            return self.vcpu_future[a][s.vcpus[a].op]
        i = a - n
        th = s.threads[i]
        table = self.thread_future[i]
        if th.op >= len(table):
            return (0, 0, 0)
        return table[th.op][self._phase[th.pc] if th.pc else 0]

    def ahead(self, s) -> tuple[int, int]:
        """(may open, may clear): the windows open now or that a remaining
        set_inhibit(true) may open, and the flags a remaining set_inhibit(false)
        may clear."""
        opens, clears = s.windows, 0
        for th, o, c in zip(s.threads, self.opens_from, self.clears_from, strict=True):
            # th.op <= its op count, the tables' last index
            opens |= o[th.op]
            clears |= c[th.op]
        return opens, clears

    def _bound(self, s, a: int, where: tuple[Loc, ...]) -> int:
        return self.tokens(where, _Binding(self.engine, s, a))

    def _where(self, s, a: int) -> tuple:
        """What binds actor a's locations besides its step (steps.bind): a vCPU's op,
        target and whether it is in a hypercall; a thread's op, scan cursor and record."""
        if a < self.n:
            v = s.vcpus[a]
            return (v.op, v.k, v.mode == KERNEL)
        th = s.threads[a - self.n]
        return (th.op, th.w, th.readers)

    def footprint(self, s, a: int, step: str) -> tuple[int, int, int]:
        """(reads, writes, sets) of actor `a`'s enabled next step `step`: its declared
        locations, every outcome's writes included. Computed once per step and
        binding: the tokens are the same wherever the actor stands alike."""
        key = (a, step, self._where(s, a))
        out = self._footprints.get(key)
        if out is None:
            out = self._footprints[key] = self._footprint(s, a, step)
        return out

    def _footprint(self, s, a: int, step: str) -> tuple[int, int, int]:
        d = BY_KIND[step.kind]
        reads = self._bound(s, a, d.reads_under(self.engine.variant)) & self.writable
        if a < self.n and s.vcpus[a].mode != KERNEL:
            # its status chose this step by asking every guard of its choice
            reads |= self._guard(s, a, Status(step, True))
        writes, sets = split_sets(d, self.sets)
        return reads, self._bound(s, a, writes), self._bound(s, a, sets)

    def hopeless(self, s, a: int, status: Status) -> bool:
        """Actor a's enabled step conflicts with what another actor will do
        whatever it does yet (its least future), so it is never a persistent
        set alone while a stands where it stands (ample skips it as a seed).
        A function of the footprint's key, computed once per key."""
        key = (a, status.step, self._where(s, a))
        out = self._hopeless.get(key)
        if out is None:
            fp = self.footprint(s, a, status.step)
            out = next(self.clashing(fp, a, self.least.__getitem__), None) is not None
            self._hopeless[key] = out
        return out

    def clashing(self, step: tuple[int, int, int], x: int, future) -> Iterator[int]:
        """The actors but x whose `future(y)` conflicts with x's `step` (its footprint)."""
        return self.conflicts(x, True, step, future)

    def conflicts(self, x: int, enabled: bool, access, future) -> Iterator[int]:
        """The actors but x that must join a persistent set once x is in it
        (`dependents`): x's `access` is its step's footprint if it is enabled, its
        guard if not; `future(y)` is y's."""
        return dependents(enabled, access, self.candidates(x, enabled, access), future)

    def candidates(self, x: int, enabled: bool, access) -> tuple[int, ...]:
        """The actors conflicts() asks: those whose program touches x's `access`."""
        return self.touching(access if not enabled else access[0] | access[1] | access[2], x)

    def guard(self, s, a: int, status: Status) -> int:
        """What a disabled actor's enabling condition reads. A vCPU with nothing
        to do can still be given something (a request, an exit)."""
        key = (a, status.step, self._where(s, a))
        out = self._guards.get(key)
        if out is None:
            out = self._guards[key] = self._guard(s, a, status)
        return out

    def access(self, s, a: int, status: Status):
        """What conflicts() asks of actor a: its step's footprint, or its guard."""
        if status.enabled:
            return self.footprint(s, a, status.step)
        return self.guard(s, a, status)

    def _guard(self, s, a: int, status: Status) -> int:
        if a < self.n:
            v = s.vcpus[a]
            if v.mode == KERNEL:
                return 0
            if v.mode == USER:
                # Outside KVM_RUN every step of a vCPU needs guest or blocked mode
                # (steps._*_when): only a write of its mode -- a VMM `run` -- can
                # enable it, whatever else its choice reads.
                return self._bound(s, a, (Loc("mode", C),)) & self.writable
            ops = self.engine.ops[a]
            first = OP_PHASES[ops[v.op].op][0][0] if v.op < len(ops) else None
            variant = self.engine.variant
            where = tuple(loc for d in self.engine._choice[first] for loc in d.reads_under(variant))
            return self._bound(s, a, where) & self.writable
        if not status.step:
            return 0  # a thread that has finished its ops: nothing enables it again
        d = BY_KIND[status.step.kind]
        return self._bound(s, a, d.reads_under(self.engine.variant)) & self.writable

    def visible(
        self,
        s,
        a: int,
        status: Status,
        opens: int,
        clears: int,
        taken: dict | None = None,
        decided=(),
    ) -> bool:
        """Can this step change whether some property not in `decided` holds (see
        the module doc)? `opens`, `clears`: ahead(s); `taken`
        receives a -> the successor."""
        after, d, case, _ = self.engine.take(s, a, status)
        if taken is not None:
            taken[a] = after
        return props.visible(self.engine, s, a, d, case, after, opens, clears, decided)

    def ample(
        self,
        s: State,
        statuses: list[Status],
        enabled: Collection[int],
        taken: dict | None = None,
        decided=(),
        seeds: Iterable[int] | None = None,
    ) -> Collection[int]:
        """The smallest persistent set found, as the enabled actors to take; all of
        `enabled` (ascending) when no proper one exists. Deterministic: ties go to
        the lowest actor. `taken` (if given) receives actor -> successor for the
        steps it took to judge them, so the search need not take them again.
        `decided`: properties already found violated, whose steps need no longer
        be kept (see the module doc). `seeds`: the enabled actors but (some of)
        the hopeless ones, ascending, if the caller keeps them. An `enabled`
        with a `mask` (the wide search's view of a bitmask) is read as one."""
        here = _Here(self, s, statuses, {} if taken is None else taken, decided)
        if self.few and seeds is None:
            # the search of seeds below, its candidates found once (plan)
            return first_invisible(self.plan(s, statuses, enabled), here.visible, enabled)
        # An invisible step nothing else touches is a persistent set alone: the
        # cheap case, and the common one where thousands of vCPUs flush.
        for seed in enabled if seeds is None else seeds:
            if here.alone(seed) and not here.visible(seed):
                return [seed]
        many = len(enabled) > MAX_ENABLED
        best = enabled
        # the seeds left to try, as a bitmask: with many enabled, a seed inside
        # an earlier set is not tried, and thousands are dropped at once
        left = getattr(enabled, "mask", None)
        if left is None:
            left = sum(1 << a for a in enabled)
        while left:
            low = left & -left
            left ^= low
            seed = low.bit_length() - 1
            if here.visible(seed):
                continue
            chosen, took = here.closure(seed, len(best))
            if many:
                left &= ~took
            if chosen is not None:
                best = chosen
                if len(best) == 1:
                    break
        return best

    # -- few actors ------------------------------------------------------------

    def plan(self, s: State, statuses: list[Status], enabled: Collection[int]) -> tuple:
        """ample()'s candidates at s, as few actors have them: the persistent sets it
        would try, in the order it prefers them (each taken if none of its steps
        is visible). Found by each live actor's part (see planned)."""
        n, part = self.n, self.part
        vcpus, threads = tuple(s.vcpus), s.threads
        key = []
        for a in self.live:
            # a vCPU's part is a function of its value; a thread's, of its value
            # and its status (its guard may read any vCPU)
            if a < n:
                memo, i, value = self._vcpu_parts, a, vcpus[a]
            else:
                memo, i, value = self._thread_parts, a - n, (threads[a - n], statuses[a])
            of = memo.of[i]
            pid = of.get(value)
            if pid is None:
                memo.miss()
                pid = of[value] = part(s, a, statuses[a])
            key.append(pid)
        return self.planned(tuple(key), enabled)

    def planned(self, parts: tuple[int, ...], enabled: Collection[int]) -> tuple:
        """plan() given the live actors' parts (their ids, in live order), of which
        `enabled` is a function: kept by the tuple of them and by who needs whom,
        as few such tuples differ."""
        out = self._by_parts.get(parts)
        if out is None:
            if len(self._by_parts) >= PLANS:
                self._by_parts.clear()
            if self._kinds is None:
                self._regroup()
            kinds = tuple(map(self._kinds.__getitem__, parts))
            out = self._by_kinds.get(kinds)
            if out is None:
                graph = (tuple(enabled), self._needs(parts))
                out = self._plans.get(graph)
                if out is None:
                    out = self._plans[graph] = _plan(*graph)
                self._by_kinds[kinds] = out
            self._by_parts[parts] = out
        return out

    def _regroup(self) -> None:
        """Sort the parts known into kinds: parts alike in being enabled, in whom
        they need and in who needs them (their row and column of `rows`), which
        give a tuple of parts the same plan wherever they stand for each other.
        A part interned later may tell two of a kind apart: part() starts the
        kinds, and the plans kept by them, again."""
        rows = self.rows
        named: dict[tuple, int] = {}
        self._kinds = [
            named.setdefault((part[0], bytes(row), bytes(col)), len(named))
            for part, row, col in zip(self.parts_of, rows, self._columns, strict=True)
        ]
        self._by_kinds = {}

    def _needs(self, parts: tuple[int, ...]) -> tuple[int, ...]:
        """By actor id, the actors that must join a persistent set holding it, as a
        bitmask, when the live actors have these parts (others need none)."""
        out = [0] * len(self.engine.names)
        if len(parts) < 2:
            return tuple(out)  # one actor needs nobody but itself
        here = itemgetter(*parts)  # a row's bytes at these parts, by live position
        rows, weights = self.rows, self._weights
        for x, px in zip(self.live, parts, strict=True):
            out[x] = sum(compress(weights, here(rows[px]))) & ~(1 << x)
        return tuple(out)

    def part(self, s: State, a: int, status: Status) -> int:
        """The id of (enabled, access, future) of actor a at s -- all that decides
        whether a needs another actor or another needs a -- interned: few differ.
        A new part is judged against every part known (`rows`) as it comes."""
        part = (status.enabled, self.access(s, a, status), self.future(s, a))
        pid = self._part_ids.get(part)
        if pid is None:
            pid = self._part_ids[part] = len(self.parts_of)
            parts = self.parts_of
            parts.append(part)
            enabled, access, future = part
            row = bytearray(pid + 1)
            for y in dependents(enabled, access, range(pid + 1), lambda y: parts[y][2]):
                row[y] = 1
            column = bytearray(pid + 1)
            for x, (enabled_x, access_x, _) in enumerate(parts[:pid]):
                column[x] = _depends(enabled_x, access_x, lambda _: future, pid)
                self.rows[x].append(column[x])
                self._columns[x].append(row[x])
            column[pid] = row[pid]
            self.rows.append(row)
            self._columns.append(column)
            self._kinds = None
        return pid


def _plan(enabled: tuple[int, ...], needs: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """ample()'s candidates, given who is enabled and who needs whom (bitmasks by
    actor id), most preferred first: each enabled actor that needs nobody, alone;
    then the enabled actors of the closure of `needs` around each enabled seed,
    if fewer than all, shortest first and, among equals, by seed. The first of
    these with no visible step is the set ample()'s search of seeds ends on."""
    ready = 0
    for a in enabled:
        ready |= 1 << a
    out = [(a,) for a in enabled if not needs[a]]
    closures = []
    for seed in enabled:
        members = work = 1 << seed
        while work:
            low = work & -work
            work ^= low
            new = needs[low.bit_length() - 1] & ~members
            members |= new
            work |= new
        chosen = tuple(bits(members & ready))
        if len(chosen) < len(enabled):
            closures.append(chosen)
    closures.sort(key=len)  # stable: ties stay in seed order
    # a candidate met again has the same steps: it fails where it failed first
    return tuple(dict.fromkeys(out + closures))


def first_invisible(plan: tuple, visible: Callable[[int], bool], enabled: Collection[int]):
    """The first of plan()'s candidates none of whose actors' steps is `visible`,
    as a list; all of `enabled` if there is none."""
    for members in plan:
        if not any(map(visible, members)):
            return list(members)
    return enabled


def dependents(enabled: bool, access, ys: Iterable, future) -> Iterator:
    """The ys whose `future(y)` (reads, writes, sets) must join a persistent set
    holding an actor whose next step has footprint `access` (if `enabled`: y could
    change that step, or be changed by it; two sets of one flag commute, a set
    conflicts with any other access) or whose guard is `access` (if not: y could
    enable it)."""
    if not enabled:
        for y in ys:
            _, fw, fz = future(y)
            if (fw | fz) & access:
                yield y
        return
    reads, writes, sets = access
    stores, hard = writes | sets, reads | writes
    for y in ys:
        fr, fw, fz = future(y)
        if stores & (fr | fw) or (fw | fz) & hard:
            yield y


def _depends(enabled: bool, access, future, y: int) -> bool:
    """dependents() of this one y: does y's `future(y)` have to join?"""
    return next(dependents(enabled, access, (y,), future), None) is not None


def bits(mask: int) -> Iterator[int]:
    """The indices of the set bits of `mask`, ascending. A word at a time: on a
    mask of thousands of bits each operation costs its width, and a caller that
    stops at the first few bits should not pay it for every bit."""
    base = 0
    while mask:
        word = mask & _WORD
        if not word:  # skip to the next set bit
            skip = (mask & -mask).bit_length() - 1
            mask >>= skip
            base += skip
            continue
        while word:
            low = word & -word
            yield base + low.bit_length() - 1
            word ^= low
        mask >>= _WORD_BITS
        base += _WORD_BITS


_WORD_BITS = 64
_WORD = (1 << _WORD_BITS) - 1


class _Binding:
    """whom -> vCPU ids for actor `a`'s next step from `s` (steps.bind), on demand."""

    __slots__ = ("engine", "s", "a")

    def __init__(self, engine: Engine, s, a: int):
        self.engine, self.s, self.a = engine, s, a

    def __getitem__(self, who: str) -> tuple[int, ...]:
        return bind(self.engine, self.s, self.a, who)


# Growing a persistent set from every enabled actor costs (enabled actors) x
# (its size) per state; past this many enabled actors (thousands of vCPUs
# flushing at once) a seed already inside an earlier set is not tried again.
MAX_ENABLED = 64
# Up to this many live actors, ample() asks who needs whom by their parts
# (PartialOrder.plan); at most MAX_ENABLED, as the plan never skips a seed.
FEW = 16
PLANS = 1 << 15  # part tuples kept (PartialOrder.plan); past it they start again
COMPANY = 1 << 12  # conflict rows kept (_Here._rows); past it they start again


class _Here:
    """One state's footprints, computed as the search for a persistent set needs them."""

    def __init__(self, po: PartialOrder, s: State, statuses: list[Status], taken: dict, decided):
        self.po = po
        self.s = s
        self.statuses = statuses
        self.taken = taken
        self.decided = decided
        self.opens, self.clears = po.ahead(s)
        self._visible: dict[int, bool] = {}
        self._futures: dict[int, tuple[int, int, int]] = {}
        self._needs: dict[int, list[int]] = {}
        self._context: tuple | None = None  # what a kept walk must have been walked with
        self._values: tuple = ()  # every vCPU's value, once a walk asks

    def visible(self, a: int) -> bool:
        seen = self._visible.get(a)
        if seen is None:
            seen = self._visible[a] = self.po.visible(
                self.s, a, self.statuses[a], self.opens, self.clears, self.taken, self.decided
            )
        return seen

    def future(self, y: int) -> tuple[int, int, int]:
        fut = self._futures.get(y)
        if fut is None:
            fut = self._futures[y] = self.po.future(self.s, y)
        return fut

    def needs(self, x: int) -> list[int]:
        """The actors that must join a persistent set once x is in it."""
        out = self._needs.get(x)
        if out is None:
            rows, enabled, access = self._rows(x)
            vcpus, future = self.s.vcpus, self.future
            out = [
                y
                for y, row in rows
                if (row[vcpus[y].op] if row is not None else _depends(enabled, access, future, y))
            ]
            self._needs[x] = out
        return out

    def alone(self, x: int) -> bool:
        """needs(x) is empty (found at the first conflict, without listing them all).
        The actor that needed x last time x stood like this is asked first: the
        same actors tend to keep x company from state to state."""
        out = self._needs.get(x)
        if out is not None:
            return not out
        po, s, st = self.po, self.s, self.statuses[x]
        key = (x, st, po._where(s, x))
        last = po.witness.get(key)
        # the same future (one table entry, so the same object) conflicts again
        if last is not None and self.future(last[0]) is last[1]:
            return False
        rows, enabled, access = self._rows(x)
        vcpus, future = s.vcpus, self.future
        for y, row in rows:
            if row[vcpus[y].op] if row is not None else _depends(enabled, access, future, y):
                po.witness[key] = (y, future(y))
                return False
        return True

    def _rows(self, x: int) -> tuple[list, bool, object]:
        """([(y, row)] for each candidate y that may have to join x, x's status's
        `enabled`, x's access): row[j] says whether vCPU y's future from its op j
        on conflicts with x as x stands (None for a thread: its future is asked,
        with `_depends`).
        Kept by what x's access is a function of, so each comparison of x's
        access with a future (big integers, thousands of bits wide) is made
        once per such key, not once a state."""
        po, s, st = self.po, self.s, self.statuses[x]
        key = (x, st, po._where(s, x))
        out = po.company.get(key)
        if out is None:
            access = po.access(s, x, st)
            rows = []
            for y in po.candidates(x, st.enabled, access):
                row = None
                if y < po.n:
                    row = tuple(
                        _depends(st.enabled, access, lambda _, f=f: f, y) for f in po.vcpu_future[y]
                    )
                rows.append((y, row))
            if len(po.company) >= COMPANY:
                po.company.clear()
            out = po.company[key] = (rows, st.enabled, access)
        return out

    def closure(self, seed: int, limit: int) -> tuple[list[int] | None, int]:
        """The enabled actors of the persistent set grown from `seed` (None if it
        needs a visible step or has `limit` or more enabled actors), and every
        actor it took in by then, as a bitmask."""
        walk = self.walk(seed)
        stops = walk.stops
        if len(stops) >= limit:  # the limit-th enabled member ends it
            chosen, taken_in = None, stops[limit - 1]
        elif walk.chosen is None:  # a visible member ends it
            chosen, taken_in = None, stops[-1]
        else:
            chosen, taken_in = walk.chosen, len(walk.members)
        took = walk.took.get(taken_in)
        if took is None:
            took = walk.took[taken_in] = sum(1 << a for a in walk.members[:taken_in])
        return chosen, took

    def walk(self, seed: int) -> _Walk:
        """The growth of a persistent set from `seed`, unbounded (_Walk). Kept from
        the last state it was walked at while the seed's component is what it was
        there (its vCPUs' values the same objects) with the same threads, windows
        and decided properties: the walk reads nothing else (a component's steps
        bind only its own vCPUs, and what else they read never changes), so
        thousands of untouched vCPUs cost a comparison, not a walk, a state."""
        po, s = self.po, self.s
        comp = po.component[seed]
        if comp is None:
            return self._walk(seed)
        if self._context is None:
            # every vCPU's value at once: a C loop, where asking each of a
            # component's costs a method call per vCPU, and thousands per state
            self._values = tuple(s.vcpus)
            self._context = (s.threads, s.windows, frozenset(self.decided))
        values, context = po.pick[seed](self._values), self._context
        kept = po.walks.get(seed)
        if kept is not None and kept[1] == context and all(map(is_, values, kept[0])):
            return kept[2]
        out = po.walks[seed] = (values, context, self._walk(seed))
        return out[2]

    def _walk(self, seed: int) -> _Walk:
        members = [seed]
        inside = {seed}
        work = [seed]
        stops = []
        statuses = self.statuses
        while work:
            x = work.pop()
            if statuses[x].enabled:
                stops.append(len(members))
                if self.visible(x):
                    return _Walk(members, stops, None, {})
            for y in self.needs(x):
                if y not in inside:
                    inside.add(y)
                    members.append(y)
                    work.append(y)
        chosen = [a for a in sorted(members) if statuses[a].enabled]
        return _Walk(members, stops, chosen, {})


class _Walk(NamedTuple):
    """A persistent set grown from a seed as far as it goes: `members` in the
    order taken in (the seed first); `stops`, for each enabled member as it was
    reached, how many members were in by then (a bound of k enabled members
    ends the growth at the k-th stop); `chosen`, the enabled members, sorted,
    or None if the last stop is a visible step (which ends it whatever the bound)."""

    members: list[int]
    stops: list[int]
    chosen: list[int] | None
    took: dict[int, int]  # k -> the first k members as a bitmask, once asked


def _picker(comp: tuple[int, ...] | None):
    """A function from a tuple of every vCPU's value to the tuple of comp's."""
    if comp is None:
        return None
    if len(comp) == 1:  # itemgetter of one index gives the item, not a tuple
        c = comp[0]
        return lambda values: (values[c],)
    return itemgetter(*comp)


def _components(touchers: dict[int, int], live: list[int], n: int) -> list:
    """actor -> the vCPUs of its component (the actors linked to it through
    tokens their programs share, transitively), ascending; None where a VMM
    thread is among them. A persistent set grown from an actor stays inside
    its component: it takes in only actors that touch what a member touches."""
    root = {a: a for a in live}

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    for mask in touchers.values():
        first = None
        for a in bits(mask):
            if first is None:
                first = find(a)
            else:
                root[find(a)] = first
    members: dict[int, list[int]] = {}
    for a in live:
        members.setdefault(find(a), []).append(a)
    out: list = [None] * (max(live, default=-1) + 1)
    for group in members.values():
        comp = None if group[-1] >= n else tuple(group)  # live is ascending: threads last
        for a in group:
            out[a] = comp
    return out
