"""A headless run: the scenario's schedule, then round robin to the end.

What `hvtui run` prints and every export draws from; no Rich, no Textual.
"""

from __future__ import annotations

from dataclasses import replace

from hvtui.model.session import Session
from hvtui.scenario import load as scenarios
from hvtui.scenario.expect import failures, stuck, vcpu_view


def load(path: str, variant: str | None = None, schedule: str | None = None) -> scenarios.Scenario:
    """The scenario at `path`, with the command line's `--variant` / `--schedule` if given."""
    scenario = scenarios.load(path)
    if schedule is not None:
        scenario = scenarios.with_schedule(scenario, scenarios.parse_schedule_arg(schedule))
    return replace(scenario, variant=variant) if variant else scenario


def replay_to_end(scenario: scenarios.Scenario) -> Session:
    """The schedule, then the documented round-robin order until nothing can step."""
    session = scenarios.replay(scenario)
    session.run()
    return session


def document(scenario: scenarios.Scenario, session: Session) -> dict:
    """What `run --json` prints for one scenario (and `export --format json`)."""
    engine = session.engine
    failed = failures(session, scenario.expect)
    first = session.first_violations()
    done = session.progress()
    return {
        "file": scenario.file,
        "name": scenario.name,
        "variant": scenario.variant,
        "vcpus": scenario.vcpus,
        "steps": session.pos,
        "schedule": [engine.names[a] for a in session.actors],
        "events": [
            {
                "time": e.time,
                "actor": e.actor,
                "op": e.op,
                "step": e.step,
                "text": e.text,
                "changes": dict(e.changes),
                "violations": list(v),
            }
            for e, v in zip(session.events, session.violations, strict=True)
        ],
        "final": {f"vcpu{c}": vcpu_view(session, c) for c in range(engine.n)},
        "violations": {p: {"step": s} for p, s in first.items()},
        "progress": {"verdict": done.verdict, "detail": done.detail} if done else None,
        "stuck": stuck(session),
        "expect": {"met": not failed, "failed": failed},
    }
