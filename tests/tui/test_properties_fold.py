"""The properties panel on every height: it uses the rows there are.

When the nine properties (and progress's detail, and the checker's line) do
not fit, the ones not holding come first, each on its line, then as many
holding ones as fit, and only the rest share one last line: `✓ k more hold:
...`, cut with … at the panel's width. No row is left empty while something
is folded, and nothing is folded when everything fits. Read off the screen,
the way a person reads the panel.
"""

from __future__ import annotations

from workbench_support import ROOT, demo, opened, screen_lines, settle

from hvtui.model.properties import PROPERTIES
from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.panels import PropertiesPanel
from hvtui.tui.screens import VerdictScreen

LOST_WAKEUP = ROOT / "scenarios" / "lost-wakeup-no-sync.yaml"
HOLDING = [p for p in PROPERTIES if p != "progress"]  # the demo's first step: all but progress


def panel_rows(app: WorkbenchApp) -> list[str]:
    """Every row inside the properties panel, as the screen shows it (blank ones too)."""
    region = app.query_one(PropertiesPanel).content_region
    lines = screen_lines(app)[region.y : region.bottom]
    return [line[region.x : region.right].rstrip() for line in lines]


def holds_line(prop: str) -> str:
    return f"✓ {prop.ljust(27)} holds"


def assert_folded(rows: list[str], above: list[str], folded: list[str]) -> None:
    """`above` are the rows before the fold, which is the last row and names `folded`
    (as far as the width lets it: the rest is cut with …); no row is empty."""
    assert all(rows), rows
    assert rows[:-1] == above, rows
    fold = rows[-1]
    head = f"✓ {len(folded)} more hold: "
    assert fold.startswith(head), rows
    names = ", ".join(folded)
    if len(head + names) <= len(fold):
        assert fold == head + names, rows
    else:
        assert fold.endswith("…") and (head + names).startswith(fold[:-1]), rows


async def checked(pilot) -> None:
    """c, the check to its end, and its verdict table closed: the panel shows its line."""
    await pilot.press("c")
    await settle(pilot)
    for _ in range(1200):
        if isinstance(pilot.app.screen, VerdictScreen):
            break
        await pilot.pause(0.05)
    await pilot.press("escape")
    await pilot.pause()


async def test_80x24_shows_progress_first_then_holding_ones_then_folds_the_rest():
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (80, 24)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        rows = panel_rows(app)
        assert len(rows) == 5
        above = ["… progress                    pending"] + [holds_line(p) for p in HOLDING[:3]]
        assert_folded(rows, above, HOLDING[3:])
        assert rows[-1].endswith("…")  # five names do not fit in 44 columns


async def test_80x24_a_violation_comes_first_and_the_holding_ones_fill_the_rows():
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (80, 24)) as pilot:
        await pilot.press("right_curly_bracket")  # to the violation at step 17, the end
        await pilot.pause()
        holding = [p for p in PROPERTIES if p != "no-flush-while-inhibited"]
        above = ["✗ no-flush-while-inhibited    violated at 17"]
        assert_folded(panel_rows(app), above + [holds_line(p) for p in holding[:3]], holding[3:])


async def test_80x24_two_violations_and_progress_detail_keep_their_rows():
    app = WorkbenchApp(load(str(LOST_WAKEUP)), recover=False)
    async with opened(app, (80, 24)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        rows = panel_rows(app)
        assert rows[0] == "✗ no-lost-wakeup              violated at 10"
        assert rows[1] == "✗ progress                    violated"
        assert rows[2].startswith("  vcpu0 waits at resume: suspended on vcpu1")  # its detail
        holding = [p for p in PROPERTIES if p not in ("no-lost-wakeup", "progress")]
        assert_folded(rows, rows[:3] + [holds_line(holding[0])], holding[1:])


async def all_nine_then_checked(size: tuple[int, int]) -> None:
    """On a tall screen the nine fit; the checker's line needs one row more, and the
    two last holding properties share the row above it."""
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, size) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        nine = [holds_line(p) for p in HOLDING] + ["… progress                    pending"]
        assert panel_rows(app) == nine  # every property, in its order, no fold
        await checked(pilot)
        rows = panel_rows(app)
        assert rows[-1].startswith("check: "), rows
        above = ["… progress                    pending"] + [holds_line(p) for p in HOLDING[:6]]
        assert_folded(rows[:-1], above, HOLDING[6:])


async def test_120x40_all_nine_fit_and_the_check_line_folds_two():
    await all_nine_then_checked((120, 40))


async def test_200x60_all_nine_fit_and_the_check_line_folds_two():
    await all_nine_then_checked((200, 60))


async def test_a_resize_refolds_the_panel_for_its_new_height():
    app = WorkbenchApp(demo(), recover=False)
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert len(panel_rows(app)) == 9 and not any("more hold" in r for r in panel_rows(app))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        above = ["… progress                    pending"] + [holds_line(p) for p in HOLDING[:3]]
        assert_folded(panel_rows(app), above, HOLDING[3:])
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        await pilot.pause()
        nine = [holds_line(p) for p in HOLDING] + ["… progress                    pending"]
        assert panel_rows(app) == nine


async def test_80x24_with_no_room_for_a_holding_line_all_of_them_share_one():
    """Two violations, progress's detail and the checker's line leave one row for the
    seven holding properties: `✓ 7 hold: ...` (no `more`: none is shown above)."""
    app = WorkbenchApp(load(str(LOST_WAKEUP)), recover=False)
    async with opened(app, (80, 24)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        await checked(pilot)
        rows = panel_rows(app)
        assert all(rows) and len(rows) == 5, rows
        assert rows[0].startswith("✗ no-lost-wakeup") and rows[1].startswith("✗ progress")
        assert rows[2].startswith("  vcpu0 waits at resume")
        assert rows[3].startswith("✓ 7 hold: inhibit-holds, ") and rows[3].endswith("…")
        assert rows[4].startswith("check: ")
