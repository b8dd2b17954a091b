"""What a first-time user met driving the workbench in a real terminal, each pinned by the
keys they pressed and what the screen then showed.

Every test here failed before its fix: the screen is read as text (`screen_lines`),
the way a person reads it, not the widgets' own state.
"""

from __future__ import annotations

from workbench_support import ROOT, opened, screen_lines

from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp

MANY = ROOT / "scenarios" / "many-vcpus-4096.yaml"


def many() -> WorkbenchApp:
    return WorkbenchApp(load(str(MANY)), recover=False)


async def test_shrinking_the_terminal_mid_session_lays_the_screen_out_for_the_new_size():
    """200x60 -> 80x24 kept the two-bank rows of 200 columns: the selected vCPU's panel,
    the actors and the event log were pushed off the screen."""
    fresh = many()
    async with opened(fresh, (80, 24)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        expected = screen_lines(fresh)
    app = many()
    async with opened(app, (200, 60)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app)
        assert any("─vcpu0─" in line for line in lines)
        assert any("─events─" in line for line in lines)
        assert lines == expected  # the same screen as a session started at 80x24


async def test_growing_the_terminal_mid_session_gives_the_big_screen_its_zoom():
    fresh = many()
    async with opened(fresh, (200, 60)) as pilot:
        expected = screen_lines(fresh)
    app = many()
    async with opened(app, (80, 24)) as pilot:
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        await pilot.pause()
        assert screen_lines(app)[1].startswith("─vCPUs 4096 · 1 char/vCPU─")
        assert screen_lines(app) == expected
