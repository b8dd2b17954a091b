"""`hvtui [FILE] [--schedule ...] [--variant V]`: the interactive workbench.

Everything that can be wrong with the input (the file, the variant, the
schedule) is found before Textual draws anything, so a mistake is one line
on stderr and exit 2, never a half-drawn screen.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from hvtui.errors import InputError
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a scenario file (YAML); without it, the built-in demo",
    )
    parser.add_argument(
        "--schedule",
        metavar="ACTORS",
        help="open this interleaving instead of the file's schedule: actor names "
        "separated by commas or spaces, e.g. vcpu0,vmm,vmm (as `check` prints)",
    )
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="override the variant")


def open_scenario(args: argparse.Namespace) -> scenarios.Scenario:
    """The scenario the workbench opens; raises InputError for anything invalid."""
    from hvtui.view.library import demo_path

    scenario = scenarios.load(demo_path() if args.file is None else args.file)
    if args.variant:
        scenario = replace(scenario, variant=args.variant)
    if args.schedule is not None:
        schedule = scenarios.parse_schedule_arg(args.schedule)
        scenario = scenarios.with_schedule(scenario, schedule)
    return scenario


def needs_a_terminal() -> None:
    """Refuse to start the workbench where it could never be used: with stdin not
    a terminal (a script, a CI job, `< /dev/null`) it would draw and then wait
    forever for a key. textual-serve's sessions have a browser for one."""
    if os.environ.get("TEXTUAL_DRIVER") or sys.stdin is not None and sys.stdin.isatty():
        return
    raise InputError(
        "",
        "the workbench needs a terminal, and stdin is not one (expected it run in a "
        "terminal; hvtui run FILE replays a scenario without one)",
    )


def main(args: argparse.Namespace) -> int:
    scenario = open_scenario(args)
    from hvtui.tui.app import WorkbenchApp  # Textual only once the input is known good

    app = WorkbenchApp(scenario)  # replays the schedule: an InputError here exits 2 too
    needs_a_terminal()  # the input's own mistakes first
    app.run()
    return app.return_code or 0
