"""`hvtui compare FILE --variants A,B`: one schedule under two variants, side by side.

A's run is the scenario's (its schedule, or --schedule, then round robin to
the end, as `hvtui run --variant A` replays it); B is asked to follow that
very interleaving, step by step, for as long as it can, then goes on round
robin. Printed: both runs side by side, the first step where they part, the
first step B could not take and the engine's reason, and each property's
verdict under both. Exit 0 when the verdicts agree, 1 when they differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from hvtui.errors import InputError

WIDTH = 80
STEP = 5  # the step number's column


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a scenario file (YAML)")
    parser.add_argument(
        "--variants",
        required=True,
        metavar="A,B",
        help="the two variants to compare, e.g. posted,no-sync (see `hvtui variants`)",
    )
    parser.add_argument(
        "--schedule",
        metavar="ACTORS",
        help="A's interleaving instead of the file's schedule (actor names, commas or spaces)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def parse_variants(text: str) -> tuple[str, str]:
    from hvtui.model.variants import VARIANTS

    names = [w.strip() for w in text.split(",")]
    if len(names) != 2 or not all(names):
        raise InputError(
            "--variants", f"'{text}' is not two variants (expected A,B, e.g. posted,no-sync)"
        )
    col = 1
    for name in names:
        if name not in VARIANTS:
            raise InputError(
                "--variants",
                f"unknown variant '{name}' (expected one of {', '.join(VARIANTS)})",
                1,
                text.index(name, col - 1) + 1,
            )
        col += len(name) + 1
    if names[0] == names[1]:  # one variant against itself has nothing to show
        raise InputError(
            "--variants",
            f"'{names[1]}' twice (expected two different variants, e.g. posted,no-sync)",
            1,
            text.rindex(names[1]) + 1,
        )
    return names[0], names[1]


def main(args: argparse.Namespace) -> int:
    from hvtui.model.engine import Engine
    from hvtui.model.variants import VARIANTS
    from hvtui.runs.compare import compare_variants
    from hvtui.runs.runner import load
    from hvtui.scenario.load import replay

    a, b = parse_variants(args.variants)
    scenario = load(args.file, a, args.schedule)
    replay(scenario)  # a schedule A cannot take is bad input, as for `hvtui run`
    program = scenario.program
    result = compare_variants(
        Engine(program, VARIANTS[a]), Engine(program, VARIANTS[b]), scenario.schedule, (a, b)
    )
    if args.json:
        doc = {"file": scenario.file, "name": scenario.name, **result.to_dict()}
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text(scenario, result))
    return 0 if result.same_verdicts else 1


def text(scenario, result) -> str:
    """The comparison as plain text, at most WIDTH columns."""
    from hvtui.runs.compare import refusal_text

    left, right = result.left, result.right
    half = (WIDTH - STEP - 3) // 2
    out = [
        f"{scenario.name}: {left.label} and {right.label}, the same schedule",
        f"({left.label}'s run, which {right.label} follows as far as it can)",
        "",
        f"{'step':>{STEP - 1}}  {left.label:<{half}} {right.label}",
        f"{'-' * (STEP - 1)}  {'-' * (half - 1):<{half}} {'-' * (half - 1)}",
    ]
    for time in range(1, max(left.session.pos, right.session.pos) + 1):
        cells = [_cell(e, half) for e in result.event_pair(time)]
        mark = "*" if result.differs(time) else " "
        out.append(f"{time:>{STEP - 1}}{mark} {cells[0]:<{half}} {cells[1]}".rstrip())
    out.append("")
    if result.diverges_at is None:
        out.append("The two runs take the same steps.")
    else:
        out.append(f"They first differ at step {result.diverges_at} (marked *):")
        for side, event in zip((left, right), result.event_pair(result.diverges_at), strict=True):
            what = f"{event.actor} {event.step}: {event.text}" if event else "the run has ended"
            out += _fill(f"{side.label}: {what}", "  ", "      ")
    for side in (left, right):
        if side.refusal is not None:
            out += _fill(
                f"{side.label} cannot follow: {refusal_text(side.refusal)}; from there "
                "it goes on in the round-robin order.",
                "",
                "  ",
            )
    out += ["", f"{'property':<27} {left.label:<20} {right.label}"]
    for v in result.verdicts:
        cells = [_verdict(v.left, v.left_step), _verdict(v.right, v.right_step)]
        mark = "  <- differs" if v.differs else ""
        out.append(f"{v.prop:<27} {cells[0]:<20} {cells[1]}{mark}".rstrip())
    n = len(result.differences)
    summary = {0: "Same verdicts.", 1: "1 verdict differs."}.get(n, f"{n} verdicts differ.")
    out += ["", summary]
    return "\n".join(out) + "\n"


def _fill(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest)


def _cell(event, width: int) -> str:
    if event is None:
        return "."
    cell = f"{event.actor} {event.step}"
    return cell if len(cell) < width else cell[: width - 2] + "~"


def _verdict(verdict: str, step: int | None) -> str:
    return f"{verdict} (step {step})" if step is not None else verdict
