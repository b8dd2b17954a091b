"""A third round of a reviewer driving the workbench in a real terminal (tmux, at 80x24,
120x40, 200x60, 60x20 and 250x15, under NO_COLOR and TERM=screen), each defect pinned by
the keys they pressed and what the screen then showed.

Every test here failed before its fix; the screen is read as text, as a person reads it.
"""

from __future__ import annotations

from workbench_support import demo, opened, screen_lines

from hvtui.tui.app import WorkbenchApp


async def test_a_short_terminal_still_shows_the_event_log_above_the_keys():
    """At 60x20 and 250x15 the bands kept their 9 and 6 rows: the event log's rows sat
    under the message line and the keys (at 250x15 even its rule was gone), so the
    current step could not be seen at all."""
    for size in ((60, 20), (250, 15)):
        app = WorkbenchApp(demo(), recover=False)
        async with opened(app, size) as pilot:
            await pilot.press(*["right_square_bracket"] * 3)
            await pilot.pause()
            lines = screen_lines(app)
            assert len(lines) == size[1], size
            current = [i for i, line in enumerate(lines) if line.startswith("▶     3 vcpu0 f")]
            assert current and current[0] < size[1] - 2, (size, "\n".join(lines))
            assert any(line.startswith("─events─") for line in lines[: current[0]]), size
            assert lines[-1].rstrip().endswith("? help"), size
