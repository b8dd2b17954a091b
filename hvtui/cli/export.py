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

# format -> the module that renders it (each exposes render(scenario, session))
FORMATS = {
    "diagram": "hvtui.exports.diagram",
    "markdown": "hvtui.exports.markdown",
    "mermaid": "hvtui.exports.mermaid",
    "svg": "hvtui.exports.svg",  # the only one that imports Textual
    "ftrace": "hvtui.exports.ftrace",  # the run as tracefs prints it; `hvtui trace` reads it
    "json": None,  # `run --json`'s document
}
DEFAULT_SIZE = (120, 40)
_SIZE = re.compile(r"^([1-9][0-9]{0,3})x([1-9][0-9]{0,3})$")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a scenario file (YAML)")
    parser.add_argument(
        "--format",
        "-f",
        required=True,
        choices=list(FORMATS),
        help="diagram: plain-text race diagram for mail (80 columns); "
        "markdown; mermaid: sequenceDiagram; svg: the workbench at the "
        "end; json: what `run --json` prints",
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--size", metavar="WxH", help="svg: terminal size (default 120x40)")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="override the variant")
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON document on stdout: the export inside it, or where it was written",
    )


def parse_size(text: str | None) -> tuple[int, int]:
    if text is None:
        return DEFAULT_SIZE
    match = _SIZE.match(text)
    if not match:
        raise InputError("--size", f"'{text}' is not a terminal size (expected WxH, e.g. 120x40)")
    return int(match.group(1)), int(match.group(2))


def render(fmt: str, scenario, session, size: tuple[int, int] = DEFAULT_SIZE) -> str:
    """The export as text (svg is text too)."""
    if fmt == "json":
        from hvtui.runs.runner import document

        return json.dumps(document(scenario, session), indent=2) + "\n"
    module = importlib.import_module(FORMATS[fmt])
    if fmt == "svg":
        return module.render(scenario, size)
    return module.render(scenario, session)


def main(args: argparse.Namespace) -> int:
    from hvtui.exports.output import write
    from hvtui.runs.runner import load, replay_to_end

    size = parse_size(args.size)
    if args.size and args.format != "svg":
        raise InputError("--size", f"only applies to --format svg, not {args.format}")
    scenario = load(args.file, args.variant)
    session = replay_to_end(scenario)
    text = render(args.format, scenario, session, size)
    if not args.json:
        write(text, args.output, args.force)
        return 0
    doc = {"file": scenario.file, "format": args.format, "steps": session.pos}
    if args.output:
        doc.update(output=args.output, bytes=write(text, args.output, args.force))
    elif args.format == "json":
        doc["content"] = json.loads(text)  # a document, not a string holding one
    else:
        doc["content"] = text
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
