"""The workbench stepping through the run, as an asciinema v2 recording.

For a demo embedded in a page or played with `asciinema play`: the header
line, then one output event per frame, each the whole screen as a terminal
would receive it. A frame is the workbench at one step, from step 0 to the
last; a long run is sampled down to `max_frames` frames, the first, the
last and every step that first violates a property among them. Frame times
are fixed (FRAME seconds apart) and the header has no `timestamp`, so the
same scenario gives the same bytes.

Like the svg export, this is the one place Textual is imported, inside the
function that draws.
"""

from __future__ import annotations

import asyncio
import io
import json

from hvtui.model.session import Session
from hvtui.scenario.load import Scenario

FRAME = 0.5  # seconds between frames: slow enough to read a kernel line
MAX_FRAMES = 200  # a cap for long runs: at 4096 vCPUs and 120x40 a frame is ~30 kB
SETTLE = 20  # at most this many extra passes of the message loop for a frame to settle
_START = "\x1b[?25l\x1b[2J"  # hide the cursor and clear, before the first frame
_END = "\x1b[?25h"  # and show the cursor again after the last


def frames(session: Session, max_frames: int = MAX_FRAMES) -> list[int]:
    """The steps to draw, ascending: all of them, or a sample of `max_frames`."""
    last = session.pos
    if last + 1 <= max_frames:
        return list(range(last + 1))
    keep = {0, last, *session.first_violations().values()}
    spare = max(0, max_frames - len(keep))
    keep.update(round(i * last / (spare + 1)) for i in range(1, spare + 1))
    return sorted(keep)[:max_frames]


def render(
    scenario: Scenario,
    session: Session,
    size: tuple[int, int] = (120, 40),
    max_frames: int = MAX_FRAMES,
) -> str:
    """The recording, `size` = (columns, rows) of the terminal it plays in."""
    from rich.console import Console

    from hvtui.tui.app import WorkbenchApp

    width, height = size
    steps = frames(session, max_frames)

    def screen(app) -> str:
        console = Console(
            width=width,
            height=height,
            file=io.StringIO(),
            force_terminal=True,
            color_system="truecolor",
            legacy_windows=False,
            safe_box=False,
        )
        console.print(app.screen._compositor.render_update(full=True), end="")
        return console.file.getvalue()

    async def settled(app, pilot) -> str:
        # A step's redraw may take more than one pass of the message loop (a
        # scroll to the current event, a resize); on a loaded machine a single
        # pause can catch it half done. The frame is the screen once two looks
        # in a row agree, so the bytes do not depend on how busy the machine is.
        shot = screen(app)
        for _ in range(SETTLE):
            await pilot.pause()
            again = screen(app)
            if again == shot:
                return shot
            shot = again
        return shot

    async def record() -> list[str]:
        app = WorkbenchApp(scenario, at_end=True, recover=False)  # a picture of the run alone
        shots = []
        async with app.run_test(size=size) as pilot:
            for pos in steps:
                app.bench.goto(pos)
                app.refresh_views()
                await pilot.pause()
                shots.append(await settled(app, pilot))
        return shots

    shots = asyncio.run(record())
    header = {
        "version": 2,
        "width": width,
        "height": height,
        "title": f"hvtui: {scenario.name}",
        "env": {"TERM": "xterm-256color"},
    }
    out = [json.dumps(header)]
    for i, shot in enumerate(shots):
        data = (_START if i == 0 else "") + shot + (_END if i == len(shots) - 1 else "")
        out.append(json.dumps([round(i * FRAME, 3), "o", data]))
    return "\n".join(out) + "\n"
