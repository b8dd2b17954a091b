"""`hvtui serve [FILE] [--port N] [--host H]`: the workbench in a browser, via textual-serve.

Each browser tab gets its own `python -m hvtui FILE` (with the same
--schedule and --variant, if given), drawn by xterm.js; it ends when the
tab closes, and every one ends when `serve` gets SIGINT or SIGTERM
(hvtui/serve/). The scenario is loaded and replayed here first, so a bad
file is one line and exit 2 before anything listens. The server binds to
127.0.0.1 unless told otherwise: whoever reaches the port drives a
workbench that can write files.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys

from hvtui.cli import workbench
from hvtui.errors import InputError
from hvtui.scenario import load as scenarios
from hvtui.scenario.yamlpos import show_value

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def configure(parser: argparse.ArgumentParser) -> None:
    workbench.configure(parser)  # FILE, --schedule, --variant: the served workbench opens alike
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}: this machine only)",
    )


def _port(text: str) -> int:
    """--port: 1..65535, written in decimal (`abc` and `0x50` are refused alike)."""
    if not text.strip().isdecimal() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(
            f"{show_value(text)} is not a TCP port (expected 1..65535)"
        )
    return int(text)


def command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each browser session."""
    argv = [sys.executable, "-m", "hvtui"]
    if args.file:
        argv.append(os.path.abspath(args.file))  # the sessions need not share our cwd
    if args.variant:
        argv += ["--variant", args.variant]
    if args.schedule is not None:
        argv += ["--schedule", args.schedule]
    return shlex.join(argv)


def page_keys() -> list[tuple[str, str]]:
    """The footer's keys, as the page lists them: (keys as typed, what they do)."""
    from hvtui.tui.bindings import BINDINGS, shown_keys  # Textual's Binding: serve only

    return [(shown_keys(b), b.description) for b in BINDINGS if b.show]


def _resolvable(host: str, port: int) -> None:
    """Refuse a --host nothing can bind before the URL is printed: an empty one
    (an unset shell variable) would bind every interface, not this machine only."""
    expected = "expected a host name or an address of this machine, e.g. 127.0.0.1"
    if not host.strip():
        raise InputError("--host", f"an empty address ({expected})")
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or "not a valid name"
        raise InputError(
            "--host", f"cannot resolve {show_value(host)}: {why} ({expected})"
        ) from None


def main(args: argparse.Namespace) -> int:
    _resolvable(args.host, args.port)
    scenario = workbench.open_scenario(args)
    scenarios.replay(scenario)  # a schedule that cannot be replayed fails here, not in a tab
    from hvtui.serve.server import WorkbenchServer  # only now: aiohttp and textual-serve

    server = WorkbenchServer(
        command(args),
        host=args.host,
        port=args.port,
        title=f"hvtui: {scenario.name}",
        keys=page_keys(),
    )
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
