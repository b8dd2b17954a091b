"""The workbench as pictures: 80x24, 120x40 and 200x60; dark, light, NO_COLOR and 16 colours;
the bank map of 4096 vCPUs; the help; the branch comparison.

Nothing on these screens depends on the time: no clock, no blinking cursor,
messages on their own line until the next one, and the title's run length
measured before the first frame (short runs) or known (at the end). Update
with `pytest --snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

from workbench_support import ROOT, demo

from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp

MANY = ROOT / "scenarios" / "many-vcpus-4096.yaml"


def test_the_demo_at_80x24_at_step_0(snap_compare):
    assert snap_compare(WorkbenchApp(demo()), terminal_size=(80, 24))


def test_the_demo_at_120x40_mid_run(snap_compare):
    assert snap_compare(
        WorkbenchApp(demo()), press=["right_square_bracket"] * 9, terminal_size=(120, 40)
    )


def test_the_demo_at_200x60_at_its_violation(snap_compare):
    # } runs to the first event of interest, vcpu1 servicing a flush in its window
    assert snap_compare(
        WorkbenchApp(demo()), press=["right_curly_bracket"], terminal_size=(200, 60)
    )


def test_the_demo_at_80x24_in_the_light_theme_mid_run(snap_compare):
    app = WorkbenchApp(demo())

    def light(pilot) -> None:
        pilot.app.theme = "textual-light"

    assert snap_compare(
        app, press=["right_square_bracket"] * 8, terminal_size=(80, 24), run_before=light
    )


def test_the_demo_at_80x24_under_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(
        WorkbenchApp(demo()), press=["right_square_bracket"] * 8, terminal_size=(80, 24)
    )


def test_the_demo_at_120x40_in_16_colours(snap_compare, monkeypatch):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "standard")
    assert snap_compare(
        WorkbenchApp(demo()), press=["right_square_bracket"] * 16, terminal_size=(120, 40)
    )


def test_the_bank_map_of_4096_vcpus_at_200x60(snap_compare):
    app = WorkbenchApp(load(str(MANY)), at_end=True)
    assert snap_compare(app, press=["slash", *"832", "enter"], terminal_size=(200, 60))


def test_the_bank_map_of_4096_vcpus_at_120x40_in_half_blocks(snap_compare):
    assert snap_compare(WorkbenchApp(load(str(MANY)), at_end=True), terminal_size=(120, 40))


def test_the_bank_map_of_4096_vcpus_at_120x40_under_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = WorkbenchApp(load(str(MANY)), at_end=True)
    assert snap_compare(app, press=["right"], terminal_size=(120, 40))


def test_the_help_screen_at_80x24(snap_compare):
    assert snap_compare(WorkbenchApp(demo()), press=["question_mark"], terminal_size=(80, 24))


def test_two_branches_side_by_side_at_120x40(snap_compare):
    press = ["right_square_bracket", "a", "right_square_bracket", "b", "c"]
    assert snap_compare(WorkbenchApp(demo()), press=press, terminal_size=(120, 40))
