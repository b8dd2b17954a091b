"""textual-serve's server with hvtui's page, and sessions that end.

What changes from textual-serve's own `Server`:
- each tab's workbench is a `Session`: it ends when the tab's connection
  closes, and the page is told when the workbench ends;
- SIGINT or SIGTERM ends every session (asked to quit, then killed) before
  the server stops; a second signal while that happens changes nothing;
- the page is our own template: it loads nothing but this server's files
  (textual-serve's loads its font from the web, so it breaks offline) and
  says what the workbench is and which keys start it;
- stdout carries only the line that gives the URL: the log goes to stderr.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web
from aiohttp.web_runner import GracefulExit
from rich.console import Console
from textual_serve.server import Server, to_int

from hvtui.serve.session import Session

log = logging.getLogger("textual-serve")

TEMPLATES = Path(__file__).parent / "templates"


class WorkbenchServer(Server):
    def __init__(
        self, command: str, *, host: str, port: int, title: str, keys: list[tuple[str, str]]
    ):
        super().__init__(command, host=host, port=port, title=title, templates_path=TEMPLATES)
        self.console = Console(stderr=True)
        self.keys = keys  # (keys as typed, what they do), shown on the page
        self.sessions: set[Session] = set()
        self._exiting = False

    def request_exit(self) -> None:
        if self._exiting:
            return  # already ending every session; each is killed within its grace
        self._exiting = True
        raise GracefulExit()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        aiohttp_jinja2.get_env(app).globals["keys"] = self.keys
        return app

    async def on_startup(self, app: web.Application) -> None:
        pass  # the command prints the one line that says where to go

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(session.stop() for session in list(self.sessions)))

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: a workbench for as long as the tab's connection stays open."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        session = Session(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.sessions.add(session)
        try:
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            pass  # the server is stopping: the session ends below all the same
        except Exception as error:  # a broken connection must not leave the session behind
            log.exception(error)
        finally:
            await session.stop()
            self.sessions.discard(session)
            await websocket.close()
        return websocket
