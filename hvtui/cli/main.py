"""`hvtui`: the workbench, or one of the headless subcommands.

Subcommand modules are imported only when named, so `hvtui run --help`
never pays for Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hvtui.errors import InputError

COMMANDS = {
    "run": ("hvtui.cli.run", "replay scenarios headless and check their expect blocks"),
    "check": ("hvtui.cli.check", "explore every interleaving and decide every property"),
    "export": ("hvtui.cli.export", "render a scenario run as a diagram, markdown, ..."),
    "compare": ("hvtui.cli.compare", "the same schedule under two variants, side by side"),
    "serve": ("hvtui.cli.serve", "the workbench in a browser, on localhost"),
    "variants": ("hvtui.cli.variants", "list the variants and the toggles each sets"),
    "steps": ("hvtui.cli.steps", "the table of atomic steps, from their declarations"),
    "schema": ("hvtui.cli.schema", "print the JSON Schema of the scenario format"),
    "trace": ("hvtui.cli.trace", "check an ftrace / trace-cmd log against the model"),
}

EPILOG = "commands:\n" + "\n".join(f"  {name:<9} {doc}" for name, (_, doc) in COMMANDS.items())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        module_name, doc = COMMANDS[argv[0]]
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"hvtui {argv[0]}", description=doc)
        module.configure(parser)
        args = parser.parse_args(argv[1:])
    else:
        module = importlib.import_module("hvtui.cli.workbench")
        parser = argparse.ArgumentParser(
            prog="hvtui",
            description="A workbench for KVM's proposed Hyper-V TLB-flush-inhibit protocol.",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(parser)
        args = parser.parse_args(argv)
    try:
        return module.main(args)
    except InputError as exc:
        print(f"hvtui: {exc}" if not exc.file else str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
