"""The engine: runs the step table (hvtui.model.steps) on states.

Who may step next and why the others wait come from the declared guards;
what a step does from its declared effect; the line it prints and the
tracepoints it emits from its declared outcome. An actor's next step is a
pure function of the state, so a schedule is just a list of actor names.
"""

from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple

from hvtui.model.state import (
    GUEST,
    KERNEL,
    KVM_RUN,
    USER,
    Flush,
    Program,
    State,
    Thread,
    Vcpu,
    Vec,
)
from hvtui.model.steps import ANYTIME, BY_KIND, NO_STEP, OP_PHASES, VCPU, C, Step, StepDef, T
from hvtui.model.variants import Variant

DONE = "done"  # Status.why of an actor that has finished its ops and has nothing to do


class Status(NamedTuple):
    """An actor's next step, and whether it may take it now."""

    step: Step  # e.g. Step("check", 2), shown "check 2"; NO_STEP ("") when the actor is done
    enabled: bool
    why: str = ""  # why it waits (or DONE)


class Event(NamedTuple):
    """One atomic step, as the event log shows it, with its typed fields."""

    time: int  # step number, from 1
    actor: str
    op: str  # the op's id; "" for a vCPU's always-available steps
    step: Step  # e.g. "check 2"; .kind "check", .arg 2
    text: str  # the kernel line
    changes: tuple[tuple[str, object], ...]  # ("vcpu0.mode", "kernel"), ...
    kind: str = ""  # step.kind
    arg: int | None = None  # step.arg: the target, or the vCPU the scan is at
    case: str = ""  # which outcome of the step's declaration (steps.STEPS) happened
    tracepoints: tuple[str, ...] = ()  # what the kernel traces at this step, in order
    readers: tuple[int, ...] = ()  # `sync`: the SRCU readers synchronize_srcu waits for


# Fields a person sees change; the thread's position (op, pc, k) is not one,
# nor the history bit `ran`.
_SHOWN = tuple(f for f in Vcpu._fields if f not in ("ran", "op", "pc", "k"))
assert _SHOWN == Vcpu._fields[: len(_SHOWN)], "Engine._changes zips the shown prefix"


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


class TargetsText:
    """format_targets(targets), made when first formatted: `enter` puts it in
    its line's key, and a run that shows no event (`run --quiet`, a replay
    to the end) never needs the text of 4096 flushes' targets. Equal when
    the targets are, as the text is."""

    __slots__ = ("targets", "_text", "_hash")

    def __init__(self, targets: tuple[int, ...]):
        self.targets = targets
        self._text: str | None = None
        self._hash: int | None = None  # an event's line is looked up by it: hashed once

    def __str__(self) -> str:
        if self._text is None:
            self._text = format_targets(self.targets)
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TargetsText):
            return self is other or self.targets == other.targets
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.targets)
        return self._hash

    def __repr__(self) -> str:
        return repr(str(self))


class Engine:
    """The step semantics of one program under one variant."""

    def __init__(self, program: Program, variant: Variant):
        self.program = program
        self.variant = variant
        self.n = program.vcpus
        self.names = program.actor_names()
        self.ops = [program.ops_of(a) for a in range(len(self.names))]
        self.index = {name: i for i, name in enumerate(self.names)}
        # suspended(v): merged-state has no `suspended` field, waiting_on != -1
        # is the flag; one function per engine, not a test of the variant per call
        self.suspended = _waits_on_someone if variant.merged_state else _SUSPENDED_FLAG
        self._ready = _Cache(_ready_status)  # Status(step, True) by kind or (kind, arg)
        # a vCPU inside an op steps at its pc, with no guard: its status by pc,
        # and for a step at a target (check, request) by pc and then target
        self._at_pc = _Cache(
            lambda pc: (
                _Cache(lambda t: _new(Status, (Step(pc, t), True, "")))
                if pc in _AT_TARGET
                else self._ready[pc]
            )
        )
        # each vCPU op's targets and their text, by vCPU and op (for kernel work, none)
        self._targets = [
            tuple(op.targets if isinstance(op, Flush) else () for op in ops)
            for ops in program.vcpu_ops
        ]
        self._texts = [tuple(map(TargetsText, targets)) for targets in self._targets]
        self._keys = _Cache(lambda c: tuple(f"vcpu{c}.{f}" for f in _SHOWN))
        # each outcome's kernel lines, built once per key and shared by every event
        # (kind, outcome) -> (its kernel lines by key, its tracepoints)
        self._out = {
            (d.kind, name): (_Cache(_formatter(case.text)), case.tracepoints)
            for d in BY_KIND.values()
            for name, case in d.cases.items()
        }
        # the steps a vCPU outside a hypercall chooses from, by its op's first step
        leave, resume, service = (BY_KIND[k] for k in ("leave", "resume", "service"))
        self._choice = {None: (leave, resume, service)}
        for phases in OP_PHASES.values():
            first = BY_KIND[phases[0][0]]
            if first.actor == "vcpu":
                self._choice[first.kind] = (leave, resume, first, service)
        assert {d.kind for d in self._choice[None]} == {d.kind for d in ANYTIME}
        # The guards exclude each other (tests/test_engine_guards.py), so the
        # status tries the likeliest first: the op's own step, then servicing
        # a flush request; `_choice` keeps the order a waiting vCPU's why has.
        self._whens = {
            first: tuple(
                (d.when, self._ready[d.kind])
                for d in sorted(choice, key=lambda d: d not in (BY_KIND.get(first), service))
            )
            for first, choice in self._choice.items()
        }
        # each vCPU op's first step (`enter`, `vmexit`), by vCPU and op
        self._firsts = [tuple(OP_PHASES[op.op][0][0] for op in ops) for ops in program.vcpu_ops]
        # vcpu c's status by its value (in `status`): a vCPU's guards read only
        # its own fields, and asking every actor is much of expanding a state
        self._statuses = PerVcpu(self.n)
        # vcpu c's moves, its effect's (case, key, writes), by the values the
        # effect reads: its own, and at a target (`check`, `request`) the target's
        self._moves = PerVcpu(self.n)

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
        return State(Vec.of(vcpus), tuple(Thread() for _ in program.threads), windows)

    # -- derived views -------------------------------------------------------

    def finished(self, s: State, a: int) -> bool:
        """The actor has run every op of its program."""
        pos = s.vcpus[a].op if a < self.n else s.threads[a - self.n].op
        return pos >= len(self.ops[a])

    def current_op(self, s: State, a: int):
        pos = s.vcpus[a].op if a < self.n else s.threads[a - self.n].op
        ops = self.ops[a]
        return ops[pos] if pos < len(ops) else None

    def targets_text(self, c: int, op: int) -> TargetsText:
        """format_targets of vcpu c's op number `op`, made when first shown."""
        return self._texts[c][op]

    # -- who may step --------------------------------------------------------

    def status(self, s: State, a: int) -> Status:
        if a < self.n:
            v = s.vcpus[a]
            memo = self._statuses.of[a]
            st = memo.get(v)
            if st is None:
                self._statuses.miss()
                st = memo[v] = self.vcpu_status(a, v)
            return st
        return self.thread_status(s, a - self.n)

    def can_step(self, s: State, a: int) -> bool:
        return self.status(s, a).enabled

    def enabled(self, s: State) -> list[int]:
        return [a for a in range(len(self.names)) if self.status(s, a).enabled]

    def vcpu_status(self, c: int, v: Vcpu) -> Status:
        """vcpu c's status when its fields are `v`: a vCPU's guards read only its own.
        Not memoized (`status` is): a Session's replay asks it of values that
        its counters make new at almost every step."""
        if v.mode == KERNEL:  # inside an op: its next step is at pc, and has no guard
            at = self._at_pc[v.pc]
            return at if at.__class__ is Status else at[self._targets[c][v.op][v.k]]
        firsts = self._firsts[c]
        first = firsts[v.op] if v.op < len(firsts) else None
        for when, ready in self._whens[first]:  # the guards exclude each other
            if when(self, c, v, first):
                return ready
        for d in self._choice[first]:
            why = d.waits(self, c, v, first) if d.waits else ""
            if why:
                return Status(Step(d.kind), False, why)
        return FINISHED

    def thread_status(self, s: State, i: int) -> Status:
        """VMM thread i's status; `s` may be any object with State's fields."""
        th = s.threads[i]
        ops = self.program.threads[i][1]
        if th.op >= len(ops):
            return FINISHED
        op = ops[th.op]
        kind = th.pc or OP_PHASES[op.op][0][0]
        d = BY_KIND[kind]
        if d.blocked is not None:
            why = d.blocked(self, s, th, op)
            if why:
                return Status(Step(kind), False, why)
        if d.arg:
            return self._ready[kind, th.w]
        return self._ready[kind]

    # -- taking a step -------------------------------------------------------

    def step(self, s: State, a: int, time: int = 0) -> tuple[State, Event]:
        """Actor `a` takes its next step; raises ValueError if it cannot."""
        return self.step_with(s, a, self.status(s, a), time)

    def step_with(self, s: State, a: int, st: Status, time: int = 0) -> tuple[State, Event]:
        """`step`, given `st` = status(s, a) already computed (a Session caches it)."""
        after, d, case, key = self.take(s, a, st)
        before_vcpus, after_vcpus = s.vcpus, after.vcpus
        touched = after_vcpus.touched(before_vcpus)
        if touched is None:
            touched = [c for c, _, _ in before_vcpus.diff(after_vcpus)]
        written = [(c, before_vcpus[c], after_vcpus[c]) for c in touched]
        if a < self.n:
            return after, self.event(time, a, st.step, case, key, written, s.vcpus[a].op)
        i = a - self.n
        event = self.event(time, a, st.step, case, key, written, s.threads[i].op, after.threads[i])
        return after, event

    def take(self, s: State, a: int, st: Status) -> tuple[State, StepDef, str, object]:
        """(state after, the step's declaration, its outcome, the key of its line),
        without building the event (the partial-order reduction asks this)."""
        if a < self.n:
            d, (case, key, writes) = self.move(s, a, st)
            return _new(State, (s.vcpus.write(writes), s.threads, s.windows)), d, case, key
        d, case, key, threads, writes, windows = self.thread_move(s, a, st)
        return _new(State, (s.vcpus.write(writes), threads, windows)), d, case, key

    def move(self, s, a: int, st: Status) -> tuple[StepDef, tuple]:
        """vCPU a's step: its declaration and its effect's (case, key, writes)
        (hvtui.model.steps), memoized by the values the effect reads. `s` may
        be any object with State's fields (its vcpus a list)."""
        if not st.enabled:
            raise ValueError(f"{self.names[a]} cannot step: {st.why}")
        d = BY_KIND[st.step.kind]
        vcpus = s.vcpus
        v = vcpus[a]
        arg = st.step.arg
        seen = v if arg is None else (v, vcpus[arg])  # all that the effect reads
        memo = self._moves.of[a]
        move = memo.get(seen)
        if move is None:
            self._moves.miss()
            move = memo[seen] = d.effect(self, s, a, v)
        return d, move

    def thread_move(self, s, a: int, st: Status) -> tuple:
        """VMM thread actor a's step: (its declaration, case, key, the threads
        after, its vCPU writes, the windows after); `s` as for `move`."""
        if not st.enabled:
            raise ValueError(f"{self.names[a]} cannot step: {st.why}")
        d = BY_KIND[st.step.kind]
        i = a - self.n
        threads = s.threads
        th = threads[i]
        case, key, th, writes, windows = d.effect(self, s, i, th, self.ops[a][th.op])
        return d, case, key, threads[:i] + (th,) + threads[i + 1 :], writes, windows

    def event(self, time, a, step, case, key, written, op: int, thread=None) -> Event:
        """The Event of actor a's step: outcome `case`, line key `key`, at its op
        number `op`; `written`: (id, before, after) of each vCPU it wrote, by
        id; `thread`: a VMM thread's position after the step. What step_with
        returns, built apart for a Session's run that makes it on request."""
        kind = step.kind
        lines, tracepoints = self._out[kind, case]
        op_id = self.ops[a][op].id if BY_KIND[kind].op else ""
        readers = tuple(c for c, _ in thread.readers) if kind == "sync" else ()
        event = (time, self.names[a], op_id, step, lines[key], self._changes(written))
        return _new(Event, event + (kind, step.arg, case, tracepoints, readers))

    def _changes(self, written) -> tuple[tuple[str, object], ...]:
        """The user-visible fields a step changed, in vCPU order."""
        out = []
        for c, va, vb in written:
            if va is not vb:
                # _SHOWN is a prefix of Vcpu's fields: zip stops after it
                for key, x, y in zip(self._keys[c], va, vb, strict=False):
                    if x != y:
                        out.append((key, y))
        return tuple(out)


_SUSPENDED_FLAG = attrgetter("suspended")
_AT_TARGET = frozenset(d.kind for d in BY_KIND.values() if d.actor == "vcpu" and d.arg)


def _waits_on_someone(v: Vcpu) -> bool:
    return v.waiting_on != -1


# Entries an engine's memo holds, over all its vCPUs, before it starts again:
# a check meets a few hundred values per vCPU, but a long replay's counters
# (srcu_gen, flushes) make new ones forever, and each entry keeps a Vcpu alive.
_MEMO = 1 << 14


class PerVcpu:
    """One dict per vCPU, sharing one budget of _MEMO entries."""

    __slots__ = ("of", "size")

    def __init__(self, n: int):
        self.of: list[dict] = [{} for _ in range(n)]
        self.size = 0

    def miss(self) -> None:
        """Make room for one more entry: past the budget, every dict starts again."""
        self.size += 1
        if self.size > _MEMO:
            for memo in self.of:
                memo.clear()
            self.size = 1


# Engine.take's memo of a vCPU's moves stands on this: a vCPU step's
# locations name the stepping vCPU and, for a step with an argument, its target.
assert all(
    {loc.who for loc in d.reads + d.all_writes()} <= ({C, T} if d.arg else {C})
    for d in BY_KIND.values()
    if d.actor == VCPU
), "a vCPU step reads or writes a vCPU other than itself and its target"

_new = tuple.__new__  # builds a NamedTuple from a tuple, without keyword parsing
FINISHED = Status(NO_STEP, False, DONE)  # an actor done with its ops (or with none)


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
    """Status(Step("check", 3), True) for ("check", 3); Status(Step("s1"), True) for "s1"."""
    return Status(Step(*key) if isinstance(key, tuple) else Step(key), True)


def _formatter(template: str):
    """key -> line: a tuple key fills the "{}" in order, anything else fills the one."""
    return lambda key: template.format(*key) if isinstance(key, tuple) else template.format(key)
