"""One browser tab's workbench: a process that ends with its tab, or with the server.

textual-serve runs each tab's command through a shell in the server's own
process group and, when the tab closes, asks the app to quit and waits for
it without a limit. Here the workbench runs without a shell in a group of
its own (Ctrl+C on `serve` reaches `serve`, which then ends each session,
rather than racing the sessions for it), is killed if it has not quit
within QUIT_GRACE of being asked, and dies with the server even if the
server is killed outright (the parent-death signal), so no session outlives
the page or the server that showed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shlex
import signal
import sys

from textual_serve.app_service import AppService

QUIT_GRACE = 3.0  # seconds a workbench has to quit when asked, before it is killed

_PR_SET_PDEATHSIG = 1  # prctl(2)
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_the_server() -> None:
    """Runs in the child between fork and exec: SIGKILL when the server dies.

    Only a libc call, prepared before the fork, so safe in a forked child.
    """
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Session(AppService):
    """A workbench process behind one browser tab."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._ending: asyncio.Future | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24):
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
            preexec_fn=_die_with_the_server,
        )
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        await super().run()
        # The workbench is gone (quit, crashed or killed): the page says so
        # instead of showing a terminal nobody answers.
        with contextlib.suppress(Exception):
            await self.remote_close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def stop(self) -> None:
        """End the workbench; safe to call again and from several places at once."""
        if self._process is None:
            return
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)  # a cancelled caller does not cancel the ending

    async def _end(self) -> None:
        process = self._process
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        if process.returncode is None:
            await self.send_meta({"type": "quit"})
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE)
            except TimeoutError:
                pass
        # Also whatever the workbench started and left behind in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if self._task is not None:
            await self._task  # reads the rest of its output, then closes the page
            self._task = None
