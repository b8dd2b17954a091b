"""`hvtui serve [FILE] [--port N] [--host H]`: the workbench in a browser, via textual-serve.

Each browser tab gets its own `python -m hvtui FILE`, run by textual-serve
and drawn by xterm.js. The scenario is loaded and replayed here first, so a
bad file is one line and exit 2 before anything listens. The server binds
to 127.0.0.1 unless told otherwise: whoever reaches the port drives a
workbench that can write files.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from hvtui import scenario as scenarios
from hvtui.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a scenario file (YAML); without it, the built-in demo",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}: this machine only)",
    )


def command(file: str | None) -> str:
    """The shell command textual-serve runs for each browser session."""
    argv = [sys.executable, "-m", "hvtui"]
    if file:
        argv.append(os.path.abspath(file))  # the server's sessions need not share our cwd
    return shlex.join(argv)


def main(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise InputError("--port", f"{args.port} is not a TCP port (expected 1..65535)")
    title = "hvtui"
    if args.file:
        scenario = scenarios.load(args.file)
        scenarios.replay(scenario)  # a schedule that cannot be replayed fails here, not in a tab
        title = f"hvtui: {scenario.name}"
    from textual_serve.server import Server  # only now: it pulls in aiohttp and Textual

    server = Server(command(args.file), host=args.host, port=args.port, title=title)
    print(f"hvtui serve: open {server.public_url} in a browser (Ctrl+C stops)", flush=True)
    try:
        server.serve()
    except OSError as exc:
        raise InputError(
            "--port",
            f"cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc} (expected a free port)",
        ) from None
    return 0
