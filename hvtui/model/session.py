"""A run of a program: the steps taken so far, and every step's state, exactly.

The TUI, `hvtui run` and the exports all read the same Session. History is
the actors that stepped (two bytes a step), the steps that violated
something, and a checkpoint state every CHECKPOINT steps; any earlier state
is rebuilt by replaying from the checkpoint below it, so step-back is exact
and memory stays small at millions of steps and 4096 vCPUs. Events are made
from that history when they are read (`Session.events`), the same values
the engine gave when the step was taken.

`Session(engine, history=False)` keeps none of it, for a headless run that
never steps back: memory stays that of one state however long the run, and
`stream()` hands each step's event over as it is taken.
"""

from __future__ import annotations

import gc
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from hvtui.collector import paused as collector_paused
from hvtui.model.engine import Engine, Event, Status
from hvtui.model.properties import (
    PROPERTIES,
    STEP_TESTS,
    Progress,
    in_ioctl,
    progress,
    step_violations,
    watch,
)
from hvtui.model.state import State
from hvtui.model.steps import BY_KIND

CHECKPOINT = 256  # steps between two kept states: a step back replays fewer than this
_CACHED_CHUNKS = 16  # CHECKPOINT-step runs of events kept made, least recently read dropped


class Stop(NamedTuple):
    """Where a replay stopped: the schedule entry that could not be taken, and why."""

    index: int  # from 0
    name: str  # the actor it names
    status: Status | None  # that actor's status then; None: no actor has that name


def replay(
    engine: Engine,
    state: State,
    schedule: Sequence[str | int],
    take: Callable[[int, Status], State] | None = None,
) -> tuple[State, Stop | None]:
    """Each scheduled actor (a name or an index) takes its next step from
    `state`, in order, until one cannot; the state reached and where it
    stopped (None: the whole schedule was taken).

    The one replay: a scenario's schedule (hvtui.scenario.load), the
    workbench's trace on a changed program (hvtui.view.bench) and a
    session's step back (Session.state_at). `take(actor, status)` takes the
    step and returns the new state (a Session's, to record it); without it
    the engine steps and nothing is recorded.
    """
    for i, who in enumerate(schedule):
        a = who if isinstance(who, int) else engine.index.get(who)
        if a is None:
            return state, Stop(i, who, None)
        st = engine.status(state, a)
        if not st.enabled:
            return state, Stop(i, engine.names[a], st)
        state = take(a, st) if take is not None else engine.step_with(state, a, st)[0]
    return state, None


class Session:
    def __init__(self, engine: Engine, history: bool = True):
        self.engine = engine
        self.history = history
        self.initial = engine.initial()
        count = len(engine.names)
        self.actors = array("H" if count <= 1 << 16 else "L")  # who took step i+1
        self.events = _Events(self)  # made from the history when read
        self.violations = _Violations(self)  # per step, parallel to events
        # The steps (from 1) that violated anything and what they violated,
        # ascending: first_violations() reads these, not every step.
        self._flagged: dict[int, tuple[str, ...]] = {}
        self._first: dict[str, int] = {}  # without history: each property's first violation
        self._checkpoints: list[State] = [self.initial]
        self.pos = 0  # how many of the recorded steps are applied
        self.state = self.initial
        self._last = -1  # the actor that took the last step taken
        # Each actor's Status in `_known_state` (None: not computed yet), and
        # a byte per actor, 0 only where it is known to wait: the round robin
        # skips waiting actors with bytearray.find instead of asking the
        # engine about all 4096 vCPUs every step. A step only changes the
        # status of the vCPUs it wrote and of the VMM threads.
        self._known_state: State | None = None
        self._known: list[Status | None] = [None] * count
        self._maybe = bytearray(b"\x01") * count
        self._threads_unknown = [None] * (count - engine.n)
        self._threads_maybe = bytearray(b"\x01") * (count - engine.n)

    @property
    def recorded(self) -> int:
        """Steps recorded (ahead of pos after a step back); without history, pos."""
        return len(self.actors) if self.history else self.pos

    # -- moving --------------------------------------------------------------

    def step(self, actor: int) -> Event:
        """`actor` takes the next step; a recorded future that differs is dropped."""
        if self.pos < len(self.actors):
            if self.actors[self.pos] == actor:
                return self.forward()
            self._truncate()
        before = self.state
        after, event = self.engine.step_with(before, actor, self.status(actor), self.pos + 1)
        found = step_violations(self.engine, before, actor, event.step, after)
        self._record(actor, found, after)
        self._moved(before, after)
        if self.history:
            self.events.taken(event)
        return event

    def _record(self, actor: int, found: tuple[str, ...], after: State) -> None:
        self.pos += 1
        self._last = actor
        if self.history:
            self.actors.append(actor)
            if found:
                self._flagged[self.pos] = found
            if self.pos % CHECKPOINT == 0:
                self._checkpoints.append(after)
        else:
            for prop in found:
                self._first.setdefault(prop, self.pos)

    def forward(self) -> Event:
        """Redo the next recorded step (after a step back)."""
        self._redo()
        return self.events[self.pos - 1]

    def _redo(self) -> None:
        actor = self.actors[self.pos]
        before = self.state
        after = self.engine.take(before, actor, self.status(actor))[0]
        self.pos += 1
        self._moved(before, after)

    def back(self) -> None:
        self.goto(self.pos - 1)

    def goto(self, pos: int) -> None:
        """Show the state after `pos` recorded steps (0 = the initial state)."""
        if not self.history:
            raise ValueError("a session without history cannot move back or ahead")
        pos = max(0, min(pos, len(self.actors)))
        if pos >= self.pos and pos - self.pos <= CHECKPOINT:
            while self.pos < pos:
                self._redo()
            return
        self.state = self.state_at(pos)
        self.pos = pos

    def state_at(self, pos: int) -> State:
        if pos == self.pos:
            return self.state
        base = pos // CHECKPOINT
        return replay(self.engine, self._checkpoints[base], self.actors[base * CHECKPOINT : pos])[0]

    def play(self, schedule: Sequence[str | int]) -> Stop | None:
        """Take the scheduled steps (recording them); where it stopped, if it did."""
        return replay(self.engine, self.state, schedule, self._take)[1]

    def _take(self, actor: int, status: Status) -> State:
        self.step(actor)
        return self.state

    def _truncate(self) -> None:
        del self.actors[self.pos :]
        flagged = self._flagged
        while flagged and next(reversed(flagged)) > self.pos:
            flagged.popitem()
        del self._checkpoints[self.pos // CHECKPOINT + 1 :]
        self.events.truncated(self.pos)

    # -- choosing who steps --------------------------------------------------

    def enabled(self) -> list[int]:
        return self.engine.enabled(self.state)

    def status(self, actor: int) -> Status:
        """Engine.status of `actor` in the current state, computed once per state."""
        if self._known_state is not self.state:
            self._forget(self.state)
        st = self._known[actor]
        if st is None:
            st = self._known[actor] = self.engine.status(self.state, actor)
            if not st.enabled:
                self._maybe[actor] = 0
        return st

    def _start(self) -> int:
        """Where the round robin looks first: after the actor that took step pos."""
        if not self.pos:
            return 0
        last = self.actors[self.pos - 1] if self.history else self._last
        return last + 1 if last + 1 < len(self.engine.names) else 0

    def next_default(self) -> int | None:
        """Round robin: the first actor after the last one to step that can step.

        Actors are ordered vcpu0..vcpuN-1, then `vmm`, then `vmm:<name>` by
        name; the first step goes to the first actor that can take one.
        """
        count = len(self.engine.names)
        start = self._start()
        found = self._first_enabled(start, count)
        if found is None and start:
            found = self._first_enabled(0, start)
        return found

    def _first_enabled(self, lo: int, hi: int) -> int | None:
        if self._known_state is not self.state:
            self._forget(self.state)  # before reading _maybe: it may be another state's
        maybe = self._maybe
        a = maybe.find(1, lo, hi)
        while a >= 0:
            if self.status(a).enabled:
                return a
            a = maybe.find(1, a + 1, hi)
        return None

    def _forget(self, state: State) -> None:
        """Nothing is known about `state` yet."""
        self._known_state = state
        self._known[:] = [None] * len(self._known)
        self._maybe[:] = b"\x01" * len(self._maybe)

    def _moved(self, before: State, after: State) -> None:
        """The current state is now `after`, one step from `before`."""
        self.state = after
        if self._known_state is not before:
            return
        touched = after.vcpus.touched(before.vcpus)
        if touched is None:
            self._known_state = None  # not one `set` apart: start afresh when asked
            return
        known, maybe = self._known, self._maybe
        for c in touched:
            known[c] = None
            maybe[c] = 1
        n = self.engine.n
        known[n:] = self._threads_unknown
        maybe[n:] = self._threads_maybe
        self._known_state = after

    def step_default(self) -> Event | None:
        """The recorded next step if there is one, else the round-robin choice."""
        if self.pos < self.recorded:
            return self.forward()
        actor = self.next_default()
        return None if actor is None else self.step(actor)

    def run(self, limit: int | None = None, each: Callable[[int], object] | None = None) -> int:
        """Step until nothing can (or `limit` steps); returns the steps taken.

        Recorded steps are redone first; then new ones are taken by `_run`,
        which makes no events (they are made from the history if read).
        `each(actor)` is called after each new step (a session without
        history hands its schedule over that way)."""
        taken = 0
        while self.pos < self.recorded and (limit is None or taken < limit):
            self._redo()
            taken += 1
        if limit is None or taken < limit:
            taken += _run(self, None if limit is None else limit - taken, each)
        return taken

    def drop_history(self) -> None:
        """Keep no history from here on, and forget what was kept: the
        session stays where it is (steps ahead of pos are dropped), with its
        first violations so far. Nothing can step back past here after this."""
        if not self.history:
            return
        self._first = self.first_violations()
        if self.pos:
            self._last = self.actors[self.pos - 1]
        self.history = False
        del self.actors[:]
        self._flagged.clear()
        self._checkpoints[:] = [self.state]
        self.events.truncated(0)

    def stream(self, chunk: int = 4096) -> Iterator[tuple[Event, tuple[str, ...]]]:
        """Step to the end in the default order, yielding each step's event and
        violations (with or without history): the recorded steps ahead of pos
        one by one, then new ones `chunk` steps at a time, as they are taken."""
        while self.pos < self.recorded:
            yield self.forward(), self.violations[self.pos - 1]
        taken: list[tuple[Event, tuple[str, ...]]] = []
        while _run(self, chunk, taken.append, events=True):
            yield from taken
            taken.clear()

    # -- what the trace shows ------------------------------------------------

    @property
    def at_end(self) -> bool:
        """No recorded step ahead and no actor can step."""
        return self.pos == self.recorded and self.next_default() is None

    def first_violations(self) -> dict[str, int]:
        """Each violated property and the step that first violated it, up to pos."""
        if not self.history:
            return dict(self._first)
        first: dict[str, int] = {}
        for step, found in self._flagged.items():
            if step > self.pos:
                break
            for prop in found:
                first.setdefault(prop, step)
        return first

    def progress(self) -> Progress | None:
        """The progress verdict, once nothing can step."""
        return progress(self.engine, self.state) if self.at_end else None

    def verdicts(self) -> dict[str, str]:
        """Each property as it stands at pos: holds / violated / pending."""
        first = self.first_violations()
        out = {p: ("violated" if p in first else "holds") for p in PROPERTIES}
        done = self.progress()
        out["progress"] = done.verdict if done else "pending"
        return out


class _Live:
    """The state `_run` writes in place: what guards and effects read of a
    State (`vcpus[i]`, iterating `vcpus`, `threads`, `windows`)."""

    __slots__ = ("vcpus", "threads", "windows")

    def __init__(self, vcpus: list, threads: list, windows: int):
        self.vcpus = vcpus
        self.threads = threads
        self.windows = windows


def _run(session: Session, limit: int | None, each: Callable | None, events: bool = False) -> int:
    """Session.run's new steps, with the cycle collector paused (hvtui.collector).

    What the run keeps (a history's checkpoints: a Vcpu a step) is
    long-lived and holds no cycle, so it is handed to the collector's oldest
    generation (gc.freeze then gc.unfreeze, two list splices) instead of
    its youngest: otherwise the first collection after the pause walks all
    of it, about a tenth of a 4096-vCPU run, and the next one again."""
    with collector_paused():
        taken = _take(session, limit, each, events)
        gc.freeze()
        gc.unfreeze()
    return taken


def _take(session: Session, limit: int | None, each: Callable | None, events: bool) -> int:
    """Session.run's new steps: the round robin to the end (or `limit` steps);
    after each, each(actor), or with `events` each((event, violations)).

    What Session.step does, without its per-step costs: the vCPUs are one
    list written in place (a State, sharing every untouched chunk with the
    last, is made only for a checkpoint and at the end), no Event is built,
    and the monitor is handed what the step wrote: its step's own test
    (properties.STEP_TESTS) for a judged kind, the state properties
    (properties.watch) only where the step leaves the ioctl or makes some
    vCPU suspended, the one way either can be violated. Taking the same steps one
    by one with Session.step records the same history (tests hold the two
    to each other)."""
    engine = session.engine
    n = engine.n
    ops = engine.ops
    plans = {kind: (d.effect, STEP_TESTS.get(kind)) for kind, d in BY_KIND.items()}
    suspended = engine.suspended
    vcpu_status, thread_status = engine.vcpu_status, engine.thread_status
    history = session.history
    actors, flagged, first = session.actors, session._flagged, session._first
    checkpoints = session._checkpoints
    state = session.state
    if session._known_state is not state:
        session._forget(state)
    # What is known of the vCPUs' statuses is kept up to date step by step;
    # a VMM thread's status, which any vCPU step may change, is asked afresh
    # each time the round robin reaches it (once a round), and a 0 in `maybe`
    # for a thread lasts until the next step (`threads_wait`).
    known, maybe = session._known, session._maybe
    threads_maybe = session._threads_maybe
    maybe[n:] = threads_maybe
    threads_wait = False
    base = state.vcpus  # the last Vec made: the next one shares its untouched chunks
    vs = list(base)
    live = _Live(vs, list(state.threads), state.windows)
    threads = live.threads
    dirty = bytearray((len(vs) >> 6) + 1)  # a 1 for each chunk (i >> 6) written since `base`
    inside = in_ioctl(engine, state)
    pos = session.pos
    last = session._last if not history or not pos else actors[pos - 1]
    start = last + 1 if pos else 0  # where the round robin looks first (count: past the end)
    stop = -1 if limit is None else pos + limit  # pos never reaches -1
    while pos != stop:
        # the round robin: the first actor from `start` that can step. A 1 in
        # `maybe` is an actor not known to wait, so once the search has passed
        # the end only [0, start) can still hold one.
        a = maybe.find(1, start)
        if a < 0:
            a = maybe.find(1)
        while a >= 0:
            if a < n:
                st = known[a]
                if st is None:
                    st = known[a] = vcpu_status(a, vs[a])
            else:
                st = thread_status(live, a - n)
            if st.enabled:
                break
            maybe[a] = 0  # known to wait
            if a >= n:
                threads_wait = True
            a = maybe.find(1, a + 1)
            if a < 0:
                a = maybe.find(1)
        if a < 0:
            break
        # the step
        step = st.step
        effect, test = plans[step.kind]
        if a < n:
            own = vs[a]
            case, key, writes = effect(engine, live, a, own)
            before = live  # a vCPU's step writes no thread and no window
            was = inside
        else:
            own = None
            i = a - n
            th = threads[i]
            if test is not None:  # what the step's own test reads of before it
                before = _Live(None, tuple(threads), live.windows)
            case, key, threads[i], writes, live.windows = effect(engine, live, i, th, ops[a][th.op])
            was = inside
            # in_ioctl: this thread is inside if its pc is set (in the middle of
            # set_inhibit, most VMM steps), or else another one may be
            inside = threads[i].pc != "" or in_ioctl(engine, live)
        # `watched`: the step leaves the ioctl or writes a suspended vCPU (two
        # writes at most, steps.py); only then does the monitor's state half
        # look, and only then or for an event is `written` made: (id, before,
        # after) of each vCPU written, equal values too
        nw = len(writes)
        watched = (
            was and not inside or nw and (suspended(writes[1]) or nw > 2 and suspended(writes[3]))
        )
        if watched or events:
            written = [(writes[j], vs[writes[j]], writes[j + 1]) for j in range(0, nw, 2)]
        j = 0
        while j < nw:
            c = writes[j]
            vs[c] = writes[j + 1]
            dirty[c >> 6] = 1
            known[c] = None
            maybe[c] = 1
            j += 2
        if threads_wait:
            maybe[n:] = threads_maybe
            threads_wait = False
        found = () if test is None else test(engine, a, step.arg, own, before, live)
        if watched:
            changed = [w for w in written if w[1] != w[2]]
            found = watch(engine, found, live, changed, was, inside)
        pos += 1
        start = a + 1
        if each is not None:
            if not events:
                each(a)
            else:
                written.sort()  # by vCPU id (two ids at most, never equal)
                if a < n:
                    each((engine.event(pos, a, step, case, key, written, own.op), found))
                else:
                    each((engine.event(pos, a, step, case, key, written, th.op, threads[i]), found))
        if history:
            actors.append(a)
            if found:
                flagged[pos] = found
            if pos % CHECKPOINT == 0:
                base = base.with_list(vs, dirty)
                dirty[:] = bytes(len(dirty))  # all 0
                checkpoints.append(State(base, tuple(threads), live.windows))
        else:
            for prop in found:
                first.setdefault(prop, pos)
    maybe[n:] = threads_maybe  # what the next reader of `known` expects of the threads
    known[n:] = session._threads_unknown
    taken = pos - session.pos
    if taken:
        vcpus = base.with_list(vs, dirty) if 1 in dirty else base
        session.state = State(vcpus, tuple(threads), live.windows)
        session._known_state = session.state  # `known` is up to date for it
        session.pos = pos
        session._last = start - 1  # the actor that took step pos
    return taken


class _Recorded(Sequence):
    """A per-step sequence made on demand from a session's history: reads like
    the list it replaces (indexes, slices, equality with a list, repr)."""

    def __init__(self, session: Session):
        self._session = session

    def __len__(self) -> int:
        return len(self._session.actors)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._at(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("step out of range")
        return self._at(i)

    def _at(self, i: int):
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list | tuple | _Recorded):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))


class _Violations(_Recorded):
    """What each step violated: () for all but the few in `_flagged`."""

    def _at(self, i: int) -> tuple[str, ...]:
        return self._session._flagged.get(i + 1, ())


class _Events(_Recorded):
    """Each step's Event, made by replaying its CHECKPOINT-step run from the
    checkpoint below it; the runs read last are kept made, so walking the
    log, or reading the same event twice, replays each run once (and gives
    the same Event object while it is kept)."""

    def __init__(self, session: Session):
        super().__init__(session)
        self._made: OrderedDict[int, list[Event]] = OrderedDict()  # run -> its first events

    def _at(self, i: int) -> Event:
        run, k = divmod(i, CHECKPOINT)
        made = self._made.get(run)
        if made is None or len(made) <= k:
            made = self._make(run, made or [])
        else:
            self._made.move_to_end(run)
        return made[k]

    def _make(self, run: int, made: list[Event]) -> list[Event]:
        """The run's events up to the recorded end (or its CHECKPOINT), after `made`."""
        session = self._session
        engine, actors = session.engine, session.actors
        state = session._checkpoints[run]
        first = run * CHECKPOINT
        end = min(first + CHECKPOINT, len(actors))
        for t in range(first, first + len(made)):
            state = engine.take(state, actors[t], engine.status(state, actors[t]))[0]
        for t in range(first + len(made), end):
            a = actors[t]
            state, event = engine.step_with(state, a, engine.status(state, a), t + 1)
            made.append(event)
        self._keep(run, made)
        return made

    def taken(self, event: Event) -> None:
        """Session.step made this event, the last recorded: keep it with its run."""
        run, k = divmod(event.time - 1, CHECKPOINT)
        made = self._made.get(run)
        if made is not None and len(made) == k:
            made.append(event)
        elif k == 0:
            self._keep(run, [event])

    def _keep(self, run: int, made: list[Event]) -> None:
        self._made[run] = made
        self._made.move_to_end(run)
        while len(self._made) > _CACHED_CHUNKS:
            self._made.popitem(last=False)

    def truncated(self, pos: int) -> None:
        """The recorded steps past `pos` are gone."""
        for run in [r for r in self._made if r * CHECKPOINT >= pos]:
            del self._made[run]
        made = self._made.get(pos // CHECKPOINT)
        if made is not None:
            del made[pos % CHECKPOINT :]
