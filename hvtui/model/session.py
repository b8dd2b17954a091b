"""A run of a program: the steps taken so far, and every step's state, exactly.

The TUI, `hvtui run` and the exports all read the same Session. History is
the list of actors that stepped plus a checkpoint every CHECKPOINT steps;
any earlier state is rebuilt by replaying from the checkpoint below it, so
step-back is exact and memory stays bounded at 100k steps and 4096 vCPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from hvtui.model.engine import Engine, Event, Status
from hvtui.model.properties import PROPERTIES, Progress, progress, step_violations
from hvtui.model.state import State

CHECKPOINT = 64


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
    def __init__(self, engine: Engine):
        self.engine = engine
        self.initial = engine.initial()
        self.actors: list[int] = []  # who took step i+1
        self.events: list[Event] = []
        self.violations: list[tuple[str, ...]] = []  # per step, parallel to events
        # Steps (from 1) that violated anything, ascending: first_violations()
        # reads these instead of rescanning 100k steps on every key.
        self._flagged: list[int] = []
        self._checkpoints: list[State] = [self.initial]
        self.pos = 0  # how many of the recorded steps are applied
        self.state = self.initial
        # Each actor's Status in `_known_state` (None: not computed yet), and
        # a byte per actor, 0 only where it is known to wait: the round robin
        # skips waiting actors with bytearray.find instead of asking the
        # engine about all 4096 vCPUs every step. A step only changes the
        # status of the vCPUs it wrote and of the VMM threads.
        count = len(engine.names)
        self._ids = tuple(range(count))
        self._known_state: State | None = None
        self._known: list[Status | None] = [None] * count
        self._maybe = bytearray(b"\x01") * count
        self._threads_unknown = [None] * (count - engine.n)
        self._threads_maybe = bytearray(b"\x01") * (count - engine.n)

    # -- moving --------------------------------------------------------------

    def step(self, actor: int) -> Event:
        """`actor` takes the next step; a recorded future that differs is dropped."""
        if self.pos < len(self.actors):
            if self.actors[self.pos] == actor:
                return self.forward()
            self._truncate()
        before = self.state
        after, event = self.engine.step_with(before, actor, self.status(actor), self.pos + 1)
        self.actors.append(self._ids[actor])  # one int object per actor, not per step
        self.events.append(event)
        found = step_violations(self.engine, before, actor, event.step, after)
        self.violations.append(found)
        self.pos += 1
        if found:
            self._flagged.append(self.pos)
        self._moved(before, after)
        if self.pos % CHECKPOINT == 0:
            self._checkpoints.append(after)
        return event

    def forward(self) -> Event:
        """Redo the next recorded step (after a step back)."""
        actor = self.actors[self.pos]
        before = self.state
        after, _ = self.engine.step_with(before, actor, self.status(actor), self.pos + 1)
        self.pos += 1
        self._moved(before, after)
        return self.events[self.pos - 1]

    def back(self) -> None:
        self.goto(self.pos - 1)

    def goto(self, pos: int) -> None:
        """Show the state after `pos` recorded steps (0 = the initial state)."""
        pos = max(0, min(pos, len(self.actors)))
        if pos >= self.pos and pos - self.pos <= CHECKPOINT:
            while self.pos < pos:
                self.forward()
            return
        self.state = self.state_at(pos)
        self.pos = pos

    def state_at(self, pos: int) -> State:
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
        del self.events[self.pos :]
        del self.violations[self.pos :]
        while self._flagged and self._flagged[-1] > self.pos:
            self._flagged.pop()
        del self._checkpoints[self.pos // CHECKPOINT + 1 :]

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

    def next_default(self) -> int | None:
        """Round robin: the first actor after the last one to step that can step.

        Actors are ordered vcpu0..vcpuN-1, then `vmm`, then `vmm:<name>` by
        name; the first step goes to the first actor that can take one.
        """
        count = len(self.engine.names)
        start = self.actors[self.pos - 1] + 1 if self.pos else 0
        if start >= count:
            start = 0
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
        if self.pos < len(self.actors):
            return self.forward()
        actor = self.next_default()
        return None if actor is None else self.step(actor)

    def run(self, limit: int | None = None) -> int:
        """Step until nothing can (or `limit` steps); returns the steps taken."""
        taken = 0
        while limit is None or taken < limit:
            if self.step_default() is None:
                break
            taken += 1
        return taken

    # -- what the trace shows ------------------------------------------------

    @property
    def at_end(self) -> bool:
        """No recorded step ahead and no actor can step."""
        return self.pos == len(self.actors) and self.next_default() is None

    def first_violations(self) -> dict[str, int]:
        """Each violated property and the step that first violated it, up to pos."""
        first: dict[str, int] = {}
        for step in self._flagged:
            if step > self.pos:
                break
            for prop in self.violations[step - 1]:
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
