"""`hvtui schema`: the JSON Schema of the scenario format, for editors.

Point an editor's YAML language server at it, e.g. with a first line
`# yaml-language-server: $schema=hvtui-scenario.schema.json` after
`hvtui schema > hvtui-scenario.schema.json`.
"""

from __future__ import annotations

import argparse
import json


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the schema to FILE instead of stdout"
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def main(args: argparse.Namespace) -> int:
    from hvtui.atomic import writable
    from hvtui.exports.output import write
    from hvtui.scenario.schema import scenario_schema

    # never over a file unasked: `-o` names a scenario as easily as a schema
    if args.output is not None:  # `-o ''` is refused, naming the option it came from
        writable(args.output, args.force, option="--output")
    write(json.dumps(scenario_schema(), indent=2) + "\n", args.output, args.force)
    return 0
