"""The workbench as pictures: the demo at 80x24 and 200x60, dark and light, and its help.

Nothing on these screens depends on the time: no clock, no blinking cursor,
and the one notification shown outlives any test run. Update with `pytest --snapshot-update` and
look at the SVGs before committing them.
"""

from __future__ import annotations

from workbench_support import demo

from hvtui.tui.app import WorkbenchApp


def test_the_demo_at_80x24_at_step_0(snap_compare):
    assert snap_compare(WorkbenchApp(demo()), terminal_size=(80, 24))


def test_the_demo_at_200x60_at_its_violation(snap_compare):
    # } runs to the first event of interest, vcpu1 servicing a flush in its
    # window, and says so in a notification: kept up however slow the run is.
    app = WorkbenchApp(demo())
    app.NOTIFICATION_TIMEOUT = 3600
    assert snap_compare(app, press=["right_curly_bracket"], terminal_size=(200, 60))


def test_the_demo_at_80x24_in_the_light_theme_mid_run(snap_compare):
    app = WorkbenchApp(demo())

    def light(pilot) -> None:
        pilot.app.theme = "textual-light"

    assert snap_compare(
        app, press=["right_square_bracket"] * 8, terminal_size=(80, 24), run_before=light
    )


def test_the_help_screen_at_80x24(snap_compare):
    assert snap_compare(WorkbenchApp(demo()), press=["question_mark"], terminal_size=(80, 24))
