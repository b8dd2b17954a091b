"""A headless run: the scenario's schedule, then round robin to the end.

What `hvtui run` prints and every export draws from; no Rich, no Textual.
The JSON document is built lazily (`parts`) so `run --json` can write it as
it goes (hvtui.runs.jsonout) instead of holding a gigabyte of it; `document`
is the same thing made whole, for the exports.
"""

from __future__ import annotations

import json
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

_CHUNK = 4096  # steps taken between two writes of --jsonl


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


def replay_to_end(scenario: scenarios.Scenario) -> Session:
    """The schedule, then the documented round-robin order until nothing can step."""
    session = start(scenario)
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
    """The document of `run --json`, its schedule, events and final grid made on demand."""
    engine = session.engine
    names = engine.names
    done = session.progress()
    return {
        "file": scenario.file,
        "name": scenario.name,
        "variant": scenario.variant,
        "vcpus": scenario.vcpus,
        "steps": session.pos,
        "schedule": Items(lambda: (names[a] for a in session.actors)),
        "events": Items(lambda: map(event_dict, session.events, session.violations)),
        "final": Items(lambda: _final(session), pairs=True),
        "violations": {p: {"step": s} for p, s in session.first_violations().items()},
        "progress": {"verdict": done.verdict, "detail": done.detail} if done else None,
        "stuck": stuck(session),
        "expect": expectation(scenario, session, strict),
    }


def _final(session: Session):
    return ((f"vcpu{c}", vcpu_view(session, c)) for c in range(session.engine.n))


def document(scenario: scenarios.Scenario, session: Session, strict: bool = False) -> dict:
    """What `run --json` prints for one scenario (and `export --format json`)."""
    return materialize(parts(scenario, session, strict))


def write_lines(scenario: scenarios.Scenario, session: Session, out: Write, strict: bool) -> dict:
    """`run --jsonl`: one JSON object a line (shapes in the README), each event
    written as soon as it is taken: `session` (its schedule taken) is run to
    its end here, a chunk at a time. Returns the expectation, as `parts` has it."""
    head = {"file": scenario.file, "name": scenario.name, "variant": scenario.variant}
    out(json.dumps({"type": "run", **head, "vcpus": scenario.vcpus}) + "\n")
    written = 0
    while True:
        events, violations = session.events, session.violations
        for i in range(written, len(events)):
            out(json.dumps({"type": "event", **event_dict(events[i], violations[i])}) + "\n")
        written = len(events)
        if not session.run(limit=_CHUNK):
            break
    for name, view in _final(session):
        out(json.dumps({"type": "final", "vcpu": name, **view}) + "\n")
    doc = parts(scenario, session, strict)
    tail = {k: doc[k] for k in ("steps", "violations", "progress", "stuck", "expect")}
    out(json.dumps({"type": "end", **tail}) + "\n")
    return doc["expect"]
