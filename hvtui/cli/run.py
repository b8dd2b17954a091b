"""`hvtui run FILE...`: replay headless, print the grid and the log, check `expect`."""

from __future__ import annotations

import argparse
import json
import sys

from hvtui.model.variants import VARIANTS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="override the variant")
    parser.add_argument(
        "--schedule",
        metavar="ACTORS",
        help="replay this interleaving instead of the file's schedule, e.g. a "
        "counterexample from `hvtui check`: actor names split by commas or spaces",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no grid or event log")


def main(args: argparse.Namespace) -> int:
    from hvtui.runs.runner import document, load, replay_to_end

    results = []
    status = 0
    for path in args.files:
        scenario = load(path, args.variant, args.schedule)
        session = replay_to_end(scenario)
        doc = document(scenario, session)
        results.append(doc)
        if not doc["expect"]["met"]:
            status = 1
        if not args.json:
            print_text(scenario, session, doc, quiet=args.quiet)
    if args.json:
        json.dump(results[0] if len(results) == 1 else {"results": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return status


def print_text(scenario, session, doc: dict, quiet: bool = False) -> None:
    from rich.console import Console

    from hvtui.runs.report import event_line, grid_table

    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{scenario.name}[/] ({scenario.file}, variant {scenario.variant}, "
        f"{session.pos} steps)",
        markup=True,
    )
    if not quiet:
        console.print(grid_table(session))
        for event, found in zip(session.events, session.violations, strict=True):
            mark = f"   <-- violates {', '.join(found)}" if found else ""
            console.print(event_line(event) + mark, markup=False)
    for prop, where in doc["violations"].items():
        console.print(f"violated: {prop} at step {where['step']}", markup=False)
    if doc["progress"]:
        console.print(
            f"progress: {doc['progress']['verdict']} ({doc['progress']['detail']})", markup=False
        )
    if doc["expect"]["failed"]:
        for line in doc["expect"]["failed"]:
            console.print(f"FAILED {line}", markup=False)
    else:
        console.print("expect: met", markup=False)
