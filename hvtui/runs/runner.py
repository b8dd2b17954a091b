"""A headless run: the scenario's schedule, then round robin to the end.

What `hvtui run` prints and every export draws from; no Rich, no Textual.
The JSON document is built lazily (`parts`) so `run --json` can write it as
it goes (hvtui.runs.jsonout) instead of holding a gigabyte of it; `document`
is the same thing made whole, for the exports. `run --json`, `--jsonl` and
`--quiet` keep no history (Session.drop_history): their memory is that of
one state however long the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

from hvtui.model.engine import Event
from hvtui.model.session import Session
from hvtui.runs.jsonout import Items, Write, materialize
from hvtui.scenario import load as scenarios
from hvtui.scenario.expect import (
    failures,
    has_run_expectations,
    stuck,
    unexpected_violations,
    vcpu_view,
)

_CHUNK = 4096  # steps taken between two writes of events or of a replayed schedule


def load(path: str, variant: str | None = None, schedule: str | None = None) -> scenarios.Scenario:
    """The scenario at `path`, with the command line's `--variant` / `--schedule` if given."""
    scenario = scenarios.load(path)
    if schedule is not None:
        scenario = scenarios.with_schedule(scenario, scenarios.parse_schedule_arg(schedule))
    if not variant or variant == scenario.variant:
        return scenario
    expect = scenario.expect
    if expect.violations is not None and not expect.by_variant:
        # a plain `violations` list is about the file's own variant: say so
        # before the variant changes, or `run --strict` would apply it to another
        own = ((scenario.variant, expect.violations),)
        expect = replace(expect, violations=None, by_variant=own)
    return replace(scenario, variant=variant, expect=expect)


def start(scenario: scenarios.Scenario) -> Session:
    """A session with the schedule taken: any input error in it is raised here."""
    return scenarios.replay(scenario)


def replay_to_end(scenario: scenarios.Scenario, history: bool = True) -> Session:
    """The schedule, then the documented round-robin order until nothing can step.
    Without `history` the session keeps only where it ended (and its verdicts)."""
    session = start(scenario)
    if not history:
        session.drop_history()
    session.run()
    return session


def expectation(scenario: scenarios.Scenario, session: Session, strict: bool = False) -> dict:
    """`{"met": ..., "failed": [lines]}`; `met` is None when nothing was checked
    (no `final`, `progress` or `stuck`, and no `--strict`)."""
    failed = failures(session, scenario.expect)
    if strict:
        failed += unexpected_violations(session, scenario.expect, scenario.variant)
    checked = strict or has_run_expectations(scenario.expect)
    return {"met": not failed if checked else None, "failed": failed}


def event_dict(event: Event, violations: tuple[str, ...]) -> dict:
    return {
        "time": event.time,
        "actor": event.actor,
        "op": event.op,
        "step": event.step,
        "text": event.text,
        "changes": dict(event.changes),
        "violations": list(violations),
    }


def parts(scenario: scenarios.Scenario, session: Session, strict: bool = False) -> dict:
    """The document of `run --json`, its schedule, events and final grid made on demand.

    `session` is the scenario's run to its end (replay_to_end). Without its
    history the schedule and the events are made by replaying the scenario
    again as they are written: the same steps, since a run is a function
    of its scenario."""
    names = session.engine.names
    done = session.progress()
    if session.history:
        schedule = Items(lambda: (names[a] for a in session.actors))
        events = Items(lambda: map(event_dict, session.events, session.violations))
    else:
        schedule = Items(lambda: (names[a] for a in _actors(scenario, session.pos)))
        events = Items(lambda: (event_dict(*step) for step in _events(scenario, session.pos)))
    return {
        "file": scenario.file,
        "name": scenario.name,
        "variant": scenario.variant,
        "vcpus": scenario.vcpus,
        "steps": session.pos,
        "schedule": schedule,
        "events": events,
        "final": Items(lambda: _final(session), pairs=True),
        "violations": {p: {"step": s} for p, s in session.first_violations().items()},
        "progress": {"verdict": done.verdict, "detail": done.detail} if done else None,
        "stuck": stuck(session),
        "expect": expectation(scenario, session, strict),
    }


def _actors(scenario: scenarios.Scenario, steps: int) -> Iterator[int]:
    """Who takes each step of the scenario's run, replayed without history."""
    session = start(scenario)
    yield from session.actors  # the scenario's schedule
    session.drop_history()
    taken: list[int] = []
    while session.run(_CHUNK, taken.append):
        yield from taken
        taken.clear()
    _same_run(session, steps)


def _events(scenario: scenarios.Scenario, steps: int) -> Iterator[tuple[Event, tuple[str, ...]]]:
    """Each step's event and violations, replayed without history."""
    session = start(scenario)
    yield from _steps(session)
    _same_run(session, steps)


def _same_run(session: Session, steps: int) -> None:
    if session.pos != steps:
        raise AssertionError(f"the replay took {session.pos} steps, the run {steps}")


def _final(session: Session):
    return ((f"vcpu{c}", vcpu_view(session, c)) for c in range(session.engine.n))


def document(scenario: scenarios.Scenario, session: Session, strict: bool = False) -> dict:
    """What `run --json` prints for one scenario (and `export --format json`)."""
    return materialize(parts(scenario, session, strict))


def write_lines(scenario: scenarios.Scenario, session: Session, out: Write, strict: bool) -> dict:
    """`run --jsonl`: one JSON object a line (shapes in the README), each event
    written as soon as it is taken: `session` (its schedule taken) is run to
    its end here, without history. Returns the expectation, as `parts` has it."""
    head = {"file": scenario.file, "name": scenario.name, "variant": scenario.variant}
    out(json.dumps({"type": "run", **head, "vcpus": scenario.vcpus}) + "\n")
    for event, found in _steps(session):
        out(json.dumps({"type": "event", **event_dict(event, found)}) + "\n")
    for name, view in _final(session):
        out(json.dumps({"type": "final", "vcpu": name, **view}) + "\n")
    doc = parts(scenario, session, strict)
    tail = {k: doc[k] for k in ("steps", "violations", "progress", "stuck", "expect")}
    out(json.dumps({"type": "end", **tail}) + "\n")
    return doc["expect"]


def _steps(session: Session) -> Iterator[tuple[Event, tuple[str, ...]]]:
    """Each step's event and violations: those `session` recorded (its
    schedule), then the rest of its run without history, each as it is taken."""
    yield from zip(session.events, session.violations, strict=True)
    session.drop_history()
    yield from session.stream(_CHUNK)
