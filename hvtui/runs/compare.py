"""Two runs of one program, compared: where they part, and how their verdicts differ.

A run is an engine (the program under one variant) and a schedule: the
actors that take each step. Two branches of a workbench session are two
schedules under one variant; `hvtui compare --variants A,B` is one schedule
under two. Each side follows its schedule for as long as it can; the first
scheduled actor that cannot step stops it there, and the engine's reason
(`Status.why`) is kept. With `to_end`, a side then goes on in the documented
round-robin order until nothing can step, as `hvtui run` does, so its
verdicts are those of a finished run.

The result is a plain value (no Rich, no Textual) that `hvtui compare`, its
`--json` and the workbench's side-by-side view all read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from hvtui.model.engine import DONE, Engine, Event
from hvtui.model.session import Session


class Run(NamedTuple):
    """What one side replays."""

    label: str  # what a person calls this side: the variant, or the branch
    engine: Engine
    schedule: tuple[str, ...]  # actor names, one per step
    to_end: bool = True  # after the schedule (or where it stops), round robin to the end


class Refusal(NamedTuple):
    """The first scheduled step a side could not take."""

    time: int  # the step number it would have been (from 1)
    actor: str
    step: str  # the step the actor waits at ("" if it has finished)
    why: str  # Status.why: "synchronize_srcu waits for reader vcpu0", DONE, ...


class Verdict(NamedTuple):
    """One property on both sides: holds / violated / blocked-by-design / pending."""

    prop: str
    left: str
    right: str
    left_step: int | None  # the step that first violated it, if any
    right_step: int | None

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class Side:
    """One run as replayed: its session (at the end) and where its schedule stopped."""

    label: str
    variant: str
    session: Session
    refusal: Refusal | None  # None: every scheduled step was taken

    @property
    def events(self) -> list[Event]:
        return self.session.events


@dataclass(frozen=True)
class Comparison:
    left: Side
    right: Side
    # The first step number whose events differ (actor, step, kernel line or
    # the fields it changed), or where one run ended and the other went on;
    # None if the runs are identical.
    diverges_at: int | None
    verdicts: tuple[Verdict, ...]  # every property, in the order properties are listed

    @property
    def differences(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.differs)

    @property
    def same_verdicts(self) -> bool:
        return not self.differences

    def event_pair(self, time: int) -> tuple[Event | None, Event | None]:
        """Both sides' events at step `time` (None where a side has no such step)."""
        return _event(self.left, time), _event(self.right, time)

    def differs(self, time: int) -> bool:
        """Step `time` is not the same step on both sides (or one side has no such step)."""
        x, y = self.event_pair(time)
        return x is None or y is None or not _same(x, y)

    def to_dict(self) -> dict:
        """The JSON form `hvtui compare --json` prints."""
        return {
            "left": _side_dict(self.left),
            "right": _side_dict(self.right),
            "diverges_at": self.diverges_at,
            "divergence": None
            if self.diverges_at is None
            else {
                "step": self.diverges_at,
                "left": _event_dict(_event(self.left, self.diverges_at)),
                "right": _event_dict(_event(self.right, self.diverges_at)),
            },
            "verdicts": {
                v.prop: {
                    "left": v.left,
                    "right": v.right,
                    "left_step": v.left_step,
                    "right_step": v.right_step,
                    "differs": v.differs,
                }
                for v in self.verdicts
            },
            "same_verdicts": self.same_verdicts,
        }


def replay(run: Run) -> Side:
    """Follow the schedule while its actors can step; then, with to_end, round robin."""
    session = Session(run.engine)
    engine = run.engine
    refusal = None
    for i, name in enumerate(run.schedule):
        actor = engine.index.get(name)
        if actor is None:
            raise ValueError(f"schedule[{i}]: {name!r} is not an actor of this program")
        st = session.status(actor)
        if not st.enabled:
            refusal = Refusal(i + 1, name, st.step, st.why)
            break
        session.step(actor)
    if run.to_end:
        session.run()
    return Side(run.label, engine.variant.name, session, refusal)


def compare(left: Run, right: Run) -> Comparison:
    """Both runs replayed, and set against each other step by step."""
    a, b = replay(left), replay(right)
    return Comparison(a, b, _diverges_at(a.events, b.events), _verdicts(a.session, b.session))


def compare_variants(
    engine_a: Engine, engine_b: Engine, schedule: Sequence[str], labels: tuple[str, str]
) -> Comparison:
    """One schedule under two variants: A's whole run (the schedule, then round
    robin) is what B is asked to follow, so "the same schedule" stays the same
    interleaving for as long as B can take it."""
    a = replay(Run(labels[0], engine_a, tuple(schedule)))
    taken = tuple(engine_a.names[x] for x in a.session.actors)
    b = replay(Run(labels[1], engine_b, taken))
    return Comparison(a, b, _diverges_at(a.events, b.events), _verdicts(a.session, b.session))


def refusal_text(refusal: Refusal) -> str:
    """`step 15: vmm cannot step: it has finished its ops` in the engine's own words."""
    if refusal.why == DONE:
        return f"step {refusal.time}: {refusal.actor} cannot step: it has finished its ops"
    return f"step {refusal.time}: {refusal.actor} cannot take {refusal.step}: {refusal.why}"


# -- helpers ------------------------------------------------------------------


def _same(x: Event, y: Event) -> bool:
    # everything but the step number, which is equal by construction
    return (x.actor, x.op, x.step, x.text, x.changes) == (y.actor, y.op, y.step, y.text, y.changes)


def _diverges_at(xs: list[Event], ys: list[Event]) -> int | None:
    for i, (x, y) in enumerate(zip(xs, ys, strict=False)):
        if not _same(x, y):
            return i + 1
    if len(xs) != len(ys):
        return min(len(xs), len(ys)) + 1
    return None


def _verdicts(a: Session, b: Session) -> tuple[Verdict, ...]:
    va, vb = a.verdicts(), b.verdicts()
    fa, fb = a.first_violations(), b.first_violations()
    return tuple(Verdict(p, va[p], vb[p], fa.get(p), fb.get(p)) for p in va)


def _event(side: Side, time: int) -> Event | None:
    events = side.events
    return events[time - 1] if 0 < time <= len(events) else None


def _event_dict(event: Event | None) -> dict | None:
    if event is None:
        return None
    return {
        "time": event.time,
        "actor": event.actor,
        "op": event.op,
        "step": str(event.step),
        "text": event.text,
        "changes": {k: v for k, v in event.changes},
    }


def _side_dict(side: Side) -> dict:
    session = side.session
    names = session.engine.names
    done = session.progress()
    return {
        "label": side.label,
        "variant": side.variant,
        "steps": session.pos,
        "schedule": [names[a] for a in session.actors],
        "refusal": None
        if side.refusal is None
        else {**side.refusal._asdict(), "text": refusal_text(side.refusal)},
        "progress": {"verdict": done.verdict, "detail": done.detail} if done else None,
    }
