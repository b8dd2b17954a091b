"""`hvtui`: the workbench, or one of the headless subcommands.

Subcommand modules are imported only when named, so `hvtui run --help`
never pays for Textual.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
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
    was_devnull = _stdout_is_devnull()
    try:
        try:
            return _dispatch(sys.argv[1:] if argv is None else argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        return _output_closed()
    except SystemExit as exc:
        # Rich meets a closed pipe by pointing stdout at /dev/null and exiting 1,
        # which here would read "an expectation failed".
        if exc.code == 1 and not was_devnull and _stdout_is_devnull():
            return 128 + signal.SIGPIPE
        raise


def _output_closed() -> int:
    """The reader left early (`hvtui check ... | head -2`): stop without a word.

    The status is the one a process killed by SIGPIPE shows in the shell
    (128 + 13 = 141), as git and coreutils give. SIGPIPE itself stays ignored
    rather than restored: `serve` writes to sockets, where a closed peer must
    not kill the server.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # whatever is still buffered goes nowhere at exit
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _stdout_is_devnull() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (AttributeError, ValueError, OSError):  # no stdout, or one without a descriptor
        return False


class _Parser(argparse.ArgumentParser):
    """argparse, except that help written into a closed pipe is reported, not
    swallowed, so `hvtui run --help | head -1` ends like the commands do."""

    def _print_message(self, message: str, file=None) -> None:
        file = file or sys.stderr
        if message and file is not None:  # argparse would ignore every OSError here
            file.write(message)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in COMMANDS:
        module_name, doc = COMMANDS[argv[0]]
        module = importlib.import_module(module_name)
        parser = _Parser(prog=f"hvtui {argv[0]}", description=doc)
        module.configure(parser)
        args = parser.parse_args(argv[1:])
    else:
        module = importlib.import_module("hvtui.cli.workbench")
        parser = _Parser(
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
