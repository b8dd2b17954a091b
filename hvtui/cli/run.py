"""`hvtui run FILE...`: replay headless, print the grid and the log, check `expect`."""

from __future__ import annotations

import argparse
import sys

from hvtui.model.variants import VARIANTS

# Event lines `run` prints before eliding: the first and last HEAD_TAIL, and
# the step that first violated each property. A 2-million-step storm would
# otherwise print 2 million lines that nobody reads in a terminal.
HEAD_TAIL = 100


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument(
        "--json", action="store_true", help="one JSON document on stdout, written as it is made"
    )
    out.add_argument(
        "--jsonl",
        action="store_true",
        help="JSON lines on stdout: a `run` line, one `event` line a step, "
        "a `final` line a vCPU, an `end` line, for each file",
    )
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="override the variant")
    parser.add_argument(
        "--schedule",
        metavar="ACTORS",
        help="replay this interleaving instead of the file's schedule, e.g. a "
        "counterexample from `hvtui check`: actor names split by commas or spaces",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no grid or event log")
    parser.add_argument(
        "--all-events",
        action="store_true",
        help=f"print the whole event log (by default a run past {2 * HEAD_TAIL} steps "
        f"shows its first and last {HEAD_TAIL} and each property's first violation)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the run violates a property that expect.violations does not "
        "list (with or without an expect block)",
    )


def main(args: argparse.Namespace) -> int:
    from hvtui.runs import runner

    if args.json or args.jsonl:
        return _machine(args)
    # every file's input errors first, as --json and `check` do: nothing is
    # printed for the good files before a bad one is refused
    started = []
    for path in args.files:
        scenario, session = _start(path, args)
        if args.quiet:
            session.drop_history()  # no log: no history, not even while the others load
        started.append((scenario, session))
    status = 0
    while started:
        scenario, session = started.pop(0)  # dropped once printed
        session.run()
        expect = runner.expectation(scenario, session, args.strict)
        if expect["met"] is False:
            status = 1
        print_text(scenario, session, expect, quiet=args.quiet, all_events=args.all_events)
    return status


def _machine(args: argparse.Namespace) -> int:
    """--json / --jsonl: every input error first (nothing on stdout then), then
    each file replayed and written out as it goes, one at a time in memory."""
    from hvtui.runs import jsonout, runner

    started = [_start(path, args) for path in args.files]
    out = sys.stdout.write
    met = []

    if args.jsonl:
        while started:
            scenario, session = started.pop(0)  # dropped once written
            met.append(runner.write_lines(scenario, session, out, args.strict)["met"])
    else:

        def docs():
            while started:
                scenario, session = started.pop(0)  # dropped once written
                # the document names the steps before it lists them, so it is
                # written from replays of the scenario (runner.parts): none kept
                session.drop_history()
                session.run()
                doc = runner.parts(scenario, session, args.strict)
                met.append(doc["expect"]["met"])
                yield doc

        if len(started) == 1:
            jsonout.write(next(docs()), out)
        else:
            jsonout.write({"results": jsonout.Items(docs)}, out)
        out("\n")
    return 1 if False in met else 0


def _start(path: str, args: argparse.Namespace):
    """The scenario and its session with the schedule taken: every input error
    of the file, and of --variant / --schedule against it, is raised here."""
    from hvtui.runs import runner

    scenario = runner.load(path, args.variant, args.schedule)
    return scenario, runner.start(scenario)


def print_text(scenario, session, expect: dict, quiet: bool = False, all_events=False) -> None:
    from rich.console import Console
    from rich.text import Text

    from hvtui.runs.report import abridged, event_log, grid_table

    # what the user wrote (a name, a file name, an op id) is shown as written:
    # `[/]` is no Rich markup to parse, `:smile:` no emoji code to replace
    console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
    console.print(
        Text.assemble(
            (scenario.name, "bold"),
            f" ({scenario.file}, variant {scenario.variant}, {session.pos} steps)",
        )
    )
    first = session.first_violations()
    if not quiet:
        console.print(grid_table(session))
        keep = None if all_events else (HEAD_TAIL, sorted(first.values()))
        for line in event_log(session, keep, "--all-events prints them"):
            console.file.write(line + "\n")
    for prop, step in first.items():
        console.print(f"violated: {prop} at step {step}")
    done = session.progress()
    if done:
        detail = done.detail if all_events else abridged(done.detail)
        console.print(f"progress: {done.verdict} ({detail})")
    if expect["failed"]:
        for line in expect["failed"]:
            console.print(f"FAILED {line}")
    elif expect["met"] is None:
        console.print(_nothing_expected(scenario.expect))
    else:
        console.print("expect: met")


def _nothing_expected(expect) -> str:
    if expect.violations is not None or expect.by_variant:
        return "no expectations for run (expect.violations is for check, and for run --strict)"
    return "no expectations"
