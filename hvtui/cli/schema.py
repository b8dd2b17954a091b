"""`hvtui schema`: the JSON Schema of the scenario format, for editors.

Point an editor's YAML language server at it, e.g. with a first line
`# yaml-language-server: $schema=hvtui-scenario.schema.json` after
`hvtui schema > hvtui-scenario.schema.json`.
"""

from __future__ import annotations

import argparse
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the schema to FILE instead of stdout"
    )


def main(args: argparse.Namespace) -> int:
    from hvtui.scenario.schema import scenario_schema

    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if args.output:
        from hvtui.errors import InputError

        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise InputError(
                args.output, f"cannot write: {exc.strerror} (expected a writable path)"
            ) from None
    else:
        sys.stdout.write(text)
    return 0
