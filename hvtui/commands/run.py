"""`hvtui run FILE...`: replay headless, print the grid and the log, check `expect`."""

from __future__ import annotations

import argparse
import json
import sys

from hvtui import scenario as scenarios
from hvtui.expect import failures, stuck, vcpu_view
from hvtui.report import event_line, grid_table
from hvtui.session import Session
from hvtui.variants import VARIANTS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="override the variant")
    parser.add_argument("--quiet", "-q", action="store_true", help="no grid or event log")


def load(path: str, variant: str | None) -> scenarios.Scenario:
    scenario = scenarios.load(path)
    if variant:
        from dataclasses import replace

        scenario = replace(scenario, variant=variant)
    return scenario


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
            {"time": e.time, "actor": e.actor, "op": e.op, "step": e.step, "text": e.text,
             "changes": dict(e.changes), "violations": list(v)}
            for e, v in zip(session.events, session.violations)
        ],
        "final": {f"vcpu{c}": vcpu_view(session, c) for c in range(engine.n)},
        "violations": {p: {"step": s} for p, s in first.items()},
        "progress": {"verdict": done.verdict, "detail": done.detail} if done else None,
        "stuck": stuck(session),
        "expect": {"met": not failed, "failed": failed},
    }


def main(args: argparse.Namespace) -> int:
    results = []
    status = 0
    for path in args.files:
        scenario = load(path, args.variant)
        session = replay_to_end(scenario)
        doc = document(scenario, session)
        results.append(doc)
        if not doc["expect"]["met"]:
            status = 1
        if not args.json:
            print_text(scenario, session, doc, quiet=args.quiet)
    if args.json:
        json.dump(results[0] if len(results) == 1 else {"results": results}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
    return status


def print_text(
    scenario: scenarios.Scenario, session: Session, doc: dict, quiet: bool = False
) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{scenario.name}[/] ({scenario.file}, variant {scenario.variant}, "
                  f"{session.pos} steps)", markup=True)
    if not quiet:
        console.print(grid_table(session))
        for event, found in zip(session.events, session.violations):
            mark = f"   <-- violates {', '.join(found)}" if found else ""
            console.print(event_line(event) + mark, markup=False)
    for prop, where in doc["violations"].items():
        console.print(f"violated: {prop} at step {where['step']}", markup=False)
    if doc["progress"]:
        console.print(f"progress: {doc['progress']['verdict']} "
                      f"({doc['progress']['detail']})", markup=False)
    if doc["expect"]["failed"]:
        for line in doc["expect"]["failed"]:
            console.print(f"FAILED {line}", markup=False)
    else:
        console.print("expect: met", markup=False)
