"""`hvtui`: the workbench, or one of the headless subcommands.

Subcommand modules are imported only when named, so `hvtui run --help`
never pays for Textual.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import re
import signal
import sys

from hvtui.errors import InputError, cut_quotes, printable

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
    if not _standard_streams():
        return 2
    was_devnull = _stdout_is_devnull()
    _replace_what_stdout_cannot_encode()
    try:
        try:
            return _dispatch(sys.argv[1:] if argv is None else argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        return _output_closed()
    except OSError as exc:
        if exc.errno not in _OUTPUT_FAILS:
            raise
        _discard_stdout()  # or the interpreter's own flush at exit fails again
        why = "expected room for it" if exc.errno != errno.EBADF else "expected it open for writing"
        tell(f"hvtui: cannot write the output: {exc.strerror} ({why})")
        return 2
    except KeyboardInterrupt:
        # anywhere, the command's own modules still importing included: Ctrl-C
        # ends quietly with the shell's 128 + SIGINT, never a traceback
        return 128 + signal.SIGINT
    except SystemExit as exc:
        # Rich meets a closed pipe by pointing stdout at /dev/null and exiting 1,
        # which here would read "an expectation failed".
        if exc.code == 1 and not was_devnull and _stdout_is_devnull():
            return 128 + signal.SIGPIPE
        raise


# what writing to a full or failing disk or device raises (`> /dev/full`), or
# to a descriptor open for reading only (`1</dev/null`)
_OUTPUT_FAILS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF}


def tell(line: str) -> None:
    """One line on stderr, if stderr takes it: `2>/dev/full` must not turn an
    exit 2 into a traceback that cannot be shown either, and exit 1."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        _discard(sys.stderr)


def _standard_streams() -> bool:
    """Cope with `2>&-` and `>&-`, where Python starts with no sys.stderr or sys.stdout.

    A closed stderr becomes /dev/null (a message printed to None would land on
    stdout); a closed stdout is refused in one line, as nothing could be shown.
    Either way the descriptor is taken by /dev/null, so no file the command
    opens later can become its stdout or stderr.
    """
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 -- for the process's life
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- for the process's life
        print(
            "hvtui: stdout is closed (expected a terminal, a file or a pipe; >/dev/null "
            "to see nothing)",
            file=sys.stderr,
        )
        return False
    return True


def _replace_what_stdout_cannot_encode() -> None:
    """A glyph (the grid's box lines, an ellipsis) that a Latin-1 or ASCII stdout
    (LANG=en_US.ISO-8859-1, PYTHONIOENCODING=ascii) cannot hold prints as '?'
    rather than ending the command in a UnicodeEncodeError."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if reconfigure is not None and encoding != "utf8":
        reconfigure(errors="replace")


def _exit_on_interrupt():
    """Until the command runs, Ctrl-C ends the process at once, and quietly.

    Nothing is written yet, and a KeyboardInterrupt landing in the import
    machinery would be printed by CPython ("Exception ignored in ...") and then
    lost, the command going on. Returns the handler to put back, or None where
    SIGINT is not the usual KeyboardInterrupt (ignored in a background job) or
    cannot be set (main() called off the main thread).
    """
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None
    try:
        return signal.signal(signal.SIGINT, lambda *_: os._exit(128 + signal.SIGINT))
    except ValueError:
        return None


def _output_closed() -> int:
    """The reader left early (`hvtui check ... | head -2`): stop without a word.

    The status is the one a process killed by SIGPIPE shows in the shell
    (128 + 13 = 141), as git and coreutils give. SIGPIPE itself stays ignored
    rather than restored: `serve` writes to sockets, where a closed peer must
    not kill the server.
    """
    _discard_stdout()
    return 128 + signal.SIGPIPE


def _discard_stdout() -> None:
    """Whatever is still buffered for stdout goes nowhere at exit."""
    _discard(sys.stdout)


def _discard(stream) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


def _stdout_is_devnull() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (AttributeError, ValueError, OSError):  # no stdout, or one without a descriptor
        return False


class _Parser(argparse.ArgumentParser):
    """argparse, except that a mistake on the command line is one line, like
    every other bad input, and that help written into a closed pipe is
    reported, not swallowed, so `hvtui run --help | head -1` ends like the
    commands do."""

    def error(self, message: str):
        self.exit(2, usage_error(self.prog, message) + "\n")

    def _print_message(self, message: str, file=None) -> None:
        file = file or sys.stderr
        if message and file is not None:  # argparse would ignore every OSError here
            file.write(message)


_ARGUMENT = re.compile(r"argument (\S+?)(?:/\S+)?: (.*)", re.DOTALL)
_CHOICE = re.compile(r"invalid choice: (.*) \(choose from (.*)\)", re.DOTALL)


def usage_error(prog: str, message: str) -> str:
    """argparse's complaint as one line: `--opt: what is wrong (what was expected)`.

    argparse prints the whole usage block first; a script reading stderr, or a
    user, gets the same one line as for a bad file instead, and --help is named
    for the rest. "argument --format/-f: ..." is named by its long spelling.
    """
    where, what = prog, message
    argument = _ARGUMENT.fullmatch(message)
    if argument:
        where, what = argument.groups()
    choice = _CHOICE.fullmatch(what)
    if what == "expected one argument" and where.startswith("--"):
        # `--spin-cc -O2`, `--max-memory -5G`: argparse took the value for an option
        what += f" (a value that starts with '-' is written {where}=VALUE)"
    elif choice:
        what = f"{choice[1]} is not a choice (expected one of {choice[2].replace(chr(39), '')})"
    elif not what.endswith(")"):
        what += f" (see {prog} --help)"
    # one line, whatever argparse wrapped, and no raw ESC of an argument echoed back
    return cut_quotes(printable(" ".join(f"{where}: {what}".split())))


def _dispatch(argv: list[str]) -> int:
    previous = _exit_on_interrupt()
    try:
        module, args = _parse(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    try:
        return module.main(args)
    except InputError as exc:
        tell(f"hvtui: {exc}" if not exc.file else str(exc))
        return 2


def _parse(argv: list[str]):
    """The command's module, imported, and its parsed arguments."""
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
    return module, args
