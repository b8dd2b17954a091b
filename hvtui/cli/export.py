"""`hvtui export FILE --format F [-o OUT]`: the scenario's run as a diagram, page or image.

The run is exactly `hvtui run`'s: the schedule, then the documented
round-robin order until nothing can step. A counterexample saved by
`hvtui check --save` is a scenario file, so it exports the same way.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys

from hvtui.errors import InputError
from hvtui.model.variants import VARIANTS

# format -> the module that renders it (each exposes render(scenario, session, ...))
FORMATS = {
    "diagram": "hvtui.exports.diagram",
    "markdown": "hvtui.exports.markdown",
    "mermaid": "hvtui.exports.mermaid",
    "svg": "hvtui.exports.svg",  # svg and cast import Textual, inside their render()
    "ftrace": "hvtui.exports.ftrace",  # the run as tracefs prints it; `hvtui trace` reads it
    "json": None,  # `run --json`'s document
    "cast": "hvtui.exports.cast",
    "perfetto": "hvtui.exports.perfetto",
    "promela": "hvtui.exports.promela",  # a SPIN model of the program, not of the run
}
SIZED = ("svg", "cast")  # the formats that draw the workbench, at --size
DEFAULT_SIZE = (120, 40)
DEFAULT_FRAMES = 200  # hvtui.exports.cast.MAX_FRAMES, without importing it for --help
_SIZE = re.compile(r"^([1-9][0-9]{0,3})x([1-9][0-9]{0,3})$")
# a terminal on the largest screen has fewer columns and rows; 9999x9999 took two
# minutes to draw 200 frames of and made a cast of 1.8 GB
MAX_SIDE = 1000


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a scenario file (YAML)")
    parser.add_argument(
        "--format",
        "-f",
        required=True,
        choices=list(FORMATS),
        help="diagram: plain-text race diagram for mail (80 columns); "
        "markdown; mermaid: sequenceDiagram; svg: the workbench at the "
        "end; json: what `run --json` prints; cast: asciinema v2 of the "
        "workbench stepping through the run; perfetto: Chrome trace-event JSON; "
        "promela: a SPIN model of the scenario's program under its variant (or --variant), "
        "which `hvtui check --engine spin` checks",
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument(
        "--size",
        metavar="WxH",
        help=f"svg, cast: terminal size (default 120x40, at most {MAX_SIDE}x{MAX_SIDE})",
    )
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="override the variant")
    parser.add_argument(
        "--actors",
        metavar="A,B",
        help="diagram: only these actors' columns, e.g. CPU0,VMM or vcpu0,vmm",
    )
    parser.add_argument(
        "--relevant",
        action="store_true",
        help="diagram: leave out the steps that do not bear on the first violation",
    )
    parser.add_argument(
        "--max-frames",
        type=_frames,
        metavar="N",
        help=f"cast: at most N frames; a longer run is sampled (default {DEFAULT_FRAMES})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON document on stdout: the export inside it, or where it was written",
    )


def _frames(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame count (expected 2 or more)")
    return int(text)


def parse_size(text: str | None) -> tuple[int, int]:
    if text is None:
        return DEFAULT_SIZE
    match = _SIZE.match(text)
    if not match:
        raise InputError("--size", f"'{text}' is not a terminal size (expected WxH, e.g. 120x40)")
    size = int(match.group(1)), int(match.group(2))
    if max(size) > MAX_SIDE:
        raise InputError(
            "--size",
            f"'{text}' is larger than a terminal (expected at most {MAX_SIDE}x{MAX_SIDE}, "
            "e.g. 120x40)",
        )
    return size


def parse_actors(text: str, names: list[str]) -> list[str]:
    """`CPU0,VMM` or `vcpu0,vmm` -> the scenario's actor names."""
    from hvtui.runs.kernel import cpu_name

    known = {}
    for name in names:
        known[name.lower()] = name
        known[cpu_name(name).lower()] = name
    shown = ", ".join(cpu_name(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")
    out = []
    for col, word in _words(text):
        name = known.get(word.lower())
        if name is None:
            raise InputError(
                "--actors",
                f"'{word}' is not an actor of this scenario (expected some of {shown})",
                1,
                col,
            )
        out.append(name)
    if not out:  # a diagram of no columns says nothing
        raise InputError("--actors", f"no actor named (expected some of {shown})", 1, 1)
    return out


def _words(text: str):
    for match in re.finditer(r"[^,\s]+", text):
        yield match.start() + 1, match.group(0)


def render(
    fmt: str,
    scenario,
    session,
    size: tuple[int, int] = DEFAULT_SIZE,
    actors: list[str] | None = None,
    relevant: bool = False,
    max_frames: int = DEFAULT_FRAMES,
) -> str:
    """The export as text (svg and cast are text too)."""
    if fmt == "json":
        from hvtui.runs.runner import document

        return json.dumps(document(scenario, session), indent=2) + "\n"
    module = importlib.import_module(FORMATS[fmt])
    if fmt == "svg":
        return module.render(scenario, size)
    if fmt == "cast":
        return module.render(scenario, session, size, max_frames)
    if fmt == "diagram":
        return module.render(scenario, session, actors=actors, relevant=relevant)
    return module.render(scenario, session)


def _only(flag: str, given: bool, fmt: str, formats: tuple[str, ...]) -> None:
    if given and fmt not in formats:
        raise InputError(flag, f"only applies to --format {' or '.join(formats)}, not {fmt}")


def main(args: argparse.Namespace) -> int:
    from hvtui.atomic import not_the_input, writable
    from hvtui.exports.output import write
    from hvtui.runs.runner import load, replay_to_end

    size = parse_size(args.size)
    _only("--size", args.size is not None, args.format, SIZED)
    _only("--actors", args.actors is not None, args.format, ("diagram",))
    _only("--relevant", args.relevant, args.format, ("diagram",))
    _only("--max-frames", args.max_frames is not None, args.format, ("cast",))
    if args.output is not None:  # before the run and its rendering, which can take a while
        writable(args.output, args.force, option="--output")
        not_the_input(args.output, args.file, "scenario")
    scenario = load(args.file, args.variant)
    actors = None
    if args.actors is not None:
        actors = parse_actors(args.actors, scenario.program.actor_names())
    session = replay_to_end(scenario)
    frames = args.max_frames or DEFAULT_FRAMES
    text = render(args.format, scenario, session, size, actors, args.relevant, frames)
    if not args.json:
        write(text, args.output, args.force)
        return 0
    doc = {"file": scenario.file, "format": args.format, "steps": session.pos}
    if args.output is not None:  # `-o ''` is refused above, not taken for stdout
        doc.update(output=args.output, bytes=write(text, args.output, args.force))
    elif args.format in ("json", "perfetto"):
        doc["content"] = json.loads(text)  # a document, not a string holding one
    else:
        doc["content"] = text
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
