"""The vCPU grid as a reviewer drives it: real keys, real clicks, what the screen shows.

A tiny host app shows a replayed scenario in a VcpuGrid (and its legend);
the tests read the lines the terminal gets, not only the widget's state.
"""

from itertools import combinations

import pytest
from textual.app import App, ComposeResult
from textual.filter import NoColor
from textual.strip import Strip
from workbench_support import ROOT, screen_lines

from hvtui.model.engine import Engine
from hvtui.scenario.load import Scenario, load, parse, replay, with_schedule
from hvtui.tui.grid import VcpuGrid
from hvtui.tui.legend import VcpuLegend
from hvtui.view.glyphs import LEGEND, cell_width

SCENARIOS = ROOT / "scenarios"

# vcpu0 suspends on the inhibited vcpu2; vcpu1 is mid-hypercall after raising
# a flush request for vcpu3; vcpu5 has left KVM_RUN; vcpu6 has written
# waiting_on = 2 but not yet suspended = true.
TOUR = """
name: grid-tour
vcpus: 8
initial: {inhibit: [2]}
actors:
  vcpu0: [{id: f0, op: flush, targets: [2]}]
  vcpu1: [{id: f1, op: flush, targets: [3]}]
  vcpu6: [{id: f6, op: flush, targets: [2]}]
  vmm: [{id: kick, op: exit, vcpu: 5}]
schedule: [vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vcpu1, vcpu1, vcpu1, vmm, vcpu5,
           vcpu6, vcpu6, vcpu6]
"""

# basic-suspend-wake: vcpu0 suspends on the inhibited vcpu1, then the VMM
# clears the flag. posted's unsuspend writes waiting_on = -1, then suspended =
# false: stop between the two and vcpu0 is suspended on nobody.
LOST = with_schedule(
    load(str(SCENARIOS / "basic-suspend-wake.yaml")), ("vcpu0",) * 5 + ("vmm",) * 6
)

# 4096 vCPUs: vcpu4000 suspends on the inhibited vcpu4001; vcpu3 and vcpu3999
# will flush 4001 too.
BIG = """
name: grid-4096
vcpus: 4096
initial: {inhibit: [4001]}
actors:
  vcpu3: [{id: g, op: flush, targets: [4001]}]
  vcpu3999: [{id: h, op: flush, targets: [4001]}]
  vcpu4000: [{id: f, op: flush, targets: [4001]}]
schedule: [vcpu4000, vcpu4000, vcpu4000, vcpu4000, vcpu4000]
"""


class GridHost(App):
    """Just a grid and its legend, showing a session's current state."""

    def __init__(self, text: str | Scenario, marked: frozenset[int] = frozenset(), theme: str = ""):
        super().__init__()
        self.session = replay(text if isinstance(text, Scenario) else parse(text, "test.yaml"))
        self.marked = marked
        self.selected: list[int] = []
        if theme:
            self.theme = theme

    def compose(self) -> ComposeResult:
        yield VcpuGrid()
        yield VcpuLegend()

    def on_mount(self) -> None:
        self.grid.focus()
        self.refresh_grid()

    @property
    def grid(self) -> VcpuGrid:
        return self.query_one(VcpuGrid)

    def refresh_grid(self) -> None:
        self.grid.show(self.session.engine, self.session.state, self.marked)

    def step(self, actor: str) -> None:
        self.session.step(self.session.engine.index[actor])
        self.refresh_grid()

    def on_vcpu_grid_selected(self, message: VcpuGrid.Selected) -> None:
        self.selected.append(message.vcpu)


def cell_at(grid: VcpuGrid, vcpu: int, line: Strip | str | None = None) -> str:
    """The text of vcpu's cell on the line that holds it (which must be on screen)."""
    width = cell_width(grid.vcpus)
    lay = grid.grid_layout
    row = lay.line(vcpu) - grid.scroll_offset.y
    assert 0 <= row < grid.scrollable_content_region.height, f"vcpu{vcpu} is off screen"
    text = grid.render_line(row).text if line is None else line
    col = lay.x(vcpu)
    return text[col : col + width - 1]


def on_screen(app: App, grid: VcpuGrid, vcpu: int) -> str:
    """vcpu's cell read off the screen."""
    region = grid.scrollable_content_region
    row = grid.grid_layout.line(vcpu) - grid.scroll_offset.y
    line = screen_lines(app)[region.y + row][region.x :]
    return cell_at(grid, vcpu, line)


async def test_every_field_reads_at_a_glance():
    app = GridHost(TOUR, marked=frozenset({3}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.grid
        assert grid.per_row == 6  # 12-column cells at 80 columns
        assert on_screen(app, grid, 0) == "▶ 0 ·b·· S→2"  # selected, blocked, suspended on 2
        assert on_screen(app, grid, 1) == "  1 ·K·· ·  "  # inside the flush hypercall
        assert on_screen(app, grid, 2) == "◆ 2 Ig·· ·  "  # inhibited; vcpu0 waits on it
        assert on_screen(app, grid, 3) == " *3 ·gF· ·  "  # marked, flush request pending
        assert on_screen(app, grid, 5) == "  5 ·u·· ·  "  # outside KVM_RUN
        assert on_screen(app, grid, 6) == "  6 ·K·· ·→2"  # waiting_on written, not yet suspended


async def test_a_lost_wakeup_stands_out():
    app = GridHost(LOST)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.session.events[-1].text == "WRITE_ONCE(waiting_on): vcpu 0 waiting_on = -1"
        assert on_screen(app, app.grid, 0) == "▶ 0 ·b·· S→?"
        lost = [s for s in app.grid.render_line(0) if s.text.startswith("S→?")]
        assert lost and lost[0].style.reverse


async def test_arrows_and_hjkl_move_the_cursor_by_cells_and_rows():
    app = GridHost(BIG)
    async with app.run_test(size=(100, 24)) as pilot:
        grid = app.grid
        await pilot.pause()
        assert grid.per_row == 4  # 19-column cells for 4-digit ids, rows on bank boundaries
        await pilot.press("right", "right", "down")
        assert grid.cursor == 6
        await pilot.press("l", "j", "h", "k", "k", "k")
        assert grid.cursor == 2  # the third k, at the top row, stays put
        await pilot.press("left", "left", "left", "left")
        assert grid.cursor == 0
        await pilot.press("end")
        assert grid.cursor == 4095
        await pilot.press("home")
        assert grid.cursor == 0
        assert app.selected == [1, 2, 6, 7, 11, 10, 6, 2, 1, 0, 4095, 0]
        assert cell_at(grid, 0).startswith("▶")
        assert not cell_at(grid, 1).startswith("▶")


async def test_down_above_a_short_last_row_lands_on_the_last_vcpu():
    app = GridHost(TOUR)
    async with app.run_test(size=(44, 10)) as pilot:  # 3 cells a row: rows 0-2, 3-5, 6-7
        await pilot.pause()
        await pilot.press("right", "right", "down", "down")
        assert app.grid.cursor == 7
        await pilot.press("down", "up", "up")
        assert app.grid.cursor == 1


async def test_page_keys_move_a_screenful_in_the_same_column():
    app = GridHost(BIG)
    async with app.run_test(size=(100, 24)) as pilot:
        grid = app.grid
        await pilot.pause()
        page = grid.scrollable_content_region.height  # the legend takes some lines
        await pilot.press("right", "pagedown")
        assert grid.cursor == 1 + 4 * page
        assert grid.scroll_offset.y > 0
        await pilot.press("pageup", "pageup")
        assert grid.cursor == 1
        assert grid.scroll_offset.y == 0


async def test_a_click_selects_the_cell_under_the_mouse():
    app = GridHost(TOUR)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        width = cell_width(8)
        # vcpu 9 does not exist; vcpu 6 is row 1, column 0; click inside its wait slot
        assert await pilot.click(VcpuGrid, offset=(width - 3, 1))
        assert app.grid.cursor == 6
        assert on_screen(app, app.grid, 6).startswith("▶")
        assert await pilot.click(VcpuGrid, offset=(2 * width + 1, 0))
        assert app.grid.cursor == 2
        assert app.selected == [6, 2]


async def test_the_selected_vcpus_target_and_waiters_are_highlighted_differently():
    app = GridHost(TOUR)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.grid
        await pilot.pause()
        # vcpu0 is selected and waits on 2: 2 is its target
        assert on_screen(app, grid, 2).startswith("◆")
        await pilot.press("right", "right")  # select vcpu2: 0 and 6 wait on it
        assert on_screen(app, grid, 0).startswith("◇")
        assert on_screen(app, grid, 6).startswith("◇")
        assert on_screen(app, grid, 1).startswith(" ")
        assert on_screen(app, grid, 2).startswith("▶")

        def id_style(vcpu):
            x = (vcpu % grid.per_row) * cell_width(8) + 2
            return grid.render_line(vcpu // grid.per_row).crop(x, x + 1)._segments[0].style

        # reverse video, bold and underline: they survive NO_COLOR and 16 colours
        waiter, plain, selected = id_style(0), id_style(1), id_style(2)
        assert selected.reverse and not plain.reverse and not waiter.reverse
        assert waiter.underline and not plain.underline
        await pilot.press("left", "left")  # back on vcpu0: its target is 2 again
        target = id_style(2)
        assert target.underline and target.bold and not target.reverse


async def test_a_step_redraws_only_the_lines_it_changed():
    app = GridHost(BIG)
    async with app.run_test(size=(100, 24)) as pilot:
        grid = app.grid
        await pilot.pause()
        drawn = []
        original = grid._draw
        grid._draw = lambda y, spans: drawn.append(y) or original(y, spans)
        app.step("vcpu3")  # enter: vcpu3's mode turns to K
        await pilot.pause()
        assert drawn == [0]
        assert on_screen(app, grid, 3) == "     3 ·K·· ·     "
        drawn.clear()
        app.step("vcpu3")  # check 4001: inhibited, no visible change
        app.step("vcpu3")  # s1: waiting_on = 4001 (off screen: nothing to draw)
        await pilot.pause()
        assert drawn == [0]
        assert on_screen(app, grid, 3) == "     3 ·K·· ·→4001"
        # The workbench builds a fresh Engine when an op is added: same
        # machine, same cells, nothing to draw.
        drawn.clear()
        engine = app.session.engine
        grid.show(Engine(engine.program, engine.variant), app.session.state)
        await pilot.pause()
        assert drawn == []


async def test_the_target_highlight_follows_the_selected_vcpus_waiting_on():
    app = GridHost(TOUR)
    async with app.run_test(size=(40, 24)) as pilot:  # 3 cells a row: vcpu6 and 2 apart
        grid = app.grid
        await pilot.pause()
        grid.move_cursor(6)
        await pilot.pause()
        assert on_screen(app, grid, 2).startswith("◆")
        app.session.back()  # undo vcpu6's s1: waiting_on is -1 again
        app.refresh_grid()
        await pilot.pause()
        assert on_screen(app, grid, 6) == "▶ 6 ·K·· ·  "
        assert on_screen(app, grid, 2).startswith(" ")
        app.session.forward()
        app.refresh_grid()
        await pilot.pause()
        assert on_screen(app, grid, 2).startswith("◆")


async def test_at_4096_vcpus_the_grid_scrolls_to_the_cursor_and_keeps_it_current():
    app = GridHost(BIG)
    async with app.run_test(size=(100, 24)) as pilot:
        grid = app.grid
        await pilot.pause()
        grid.move_cursor(4000)
        await pilot.pause()
        assert grid.scroll_offset.y > 900
        assert on_screen(app, grid, 4000) == "▶ 4000 ·b·· S→4001"
        assert on_screen(app, grid, 4001) == "◆ 4001 Ig·· ·     "
        # Scrolled far down, a change must land on the right screen line:
        # refresh_lines takes content y, refresh(Region) screen y.
        app.step("vcpu3999")  # enter: the hypercall
        await pilot.pause()
        assert on_screen(app, grid, 3999) == "  3999 ·K·· ·     "
        app.step("vcpu3")
        app.step("vcpu3")
        app.step("vcpu3")  # vcpu3 now waits on 4001 too, far off screen
        await pilot.press("right")  # select 4001: 4000 and 3 wait on it
        assert on_screen(app, grid, 4000) == "◇ 4000 ·b·· S→4001"
        grid.scroll_home(animate=False)
        await pilot.pause()
        assert grid.cursor == 4001
        assert on_screen(app, grid, 3) == "◇    3 ·K·· ·→4001"


async def test_a_resize_reflows_the_cells_and_keeps_the_cursor_in_view():
    app = GridHost(BIG)
    async with app.run_test(size=(100, 24)) as pilot:
        grid = app.grid
        grid.move_cursor(2000)
        await pilot.pause()
        assert grid.per_row == 4
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert grid.per_row == 8  # a power of two that fits: 8 rows a bank
        assert on_screen(app, grid, 2000).startswith("▶ 2000")


async def test_without_colour_the_screen_still_tells_the_states_apart():
    app = GridHost(TOUR, marked=frozenset({3}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.grid
        # What NO_COLOR does to a line in an ANSI terminal: every colour goes.
        mono = [NoColor().apply(list(grid.render_line(y)), None) for y in range(2)]
        assert {s.style.color.name for line in mono for s in line} == {"default"}
        cursor = [s for s in mono[0] if s.text.startswith("▶")]
        assert cursor[0].style.bold  # text styles survive
        text = ["".join(s.text for s in line) for line in mono]

        def shown(c):  # the cell without its id, which alone would tell any two apart
            cell = cell_at(grid, c, text[c // grid.per_row])
            return cell[:2] + cell[3:]

        # vcpu0 is selected, 2 is its target, 3 is marked; 4 and 7 are idle guests.
        state = {c: (grid._views[c], c == 0, c == 2, c == 3) for c in range(8)}
        for a, b in combinations(range(8), 2):
            assert (shown(a) == shown(b)) == (state[a] == state[b]), (a, b)
        assert shown(4) == shown(7)


async def test_the_legend_explains_the_glyphs_in_whole_entries():
    app = GridHost(TOUR)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        legend = app.query_one(VcpuLegend)
        lines = [legend.render_line(y).text.rstrip() for y in range(legend.size.height)]
        assert all(len(line) <= 80 for line in lines)
        text = "\n".join(lines)
        for entry in LEGEND:
            assert f"{entry.sample} {entry.meaning}" in text
        assert legend.size.height == len([line for line in lines if line])


async def test_a_single_vcpu_machine_keeps_its_one_cell_selected():
    app = GridHost("name: one\nvcpus: 1\nactors: {}\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("right", "down", "end", "pagedown", "left", "up", "home", "pageup")
        assert app.grid.cursor == 0
        assert app.selected == []  # the cursor never moved
        assert on_screen(app, app.grid, 0) == "▶ 0 ·g·· ·  "


async def test_a_theme_switch_recolours_every_cell():
    app = GridHost(TOUR)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.grid

        def cursor_background():
            return grid.render_line(0)._segments[0].style.bgcolor

        dark = cursor_background()
        app.theme = "textual-light"
        await pilot.pause()
        assert cursor_background() != dark  # no line or style cached from the dark theme
        assert on_screen(app, grid, 0) == "▶ 0 ·b·· S→2"


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_snapshot_4096_vcpus_scrolled_to_a_suspended_vcpu(snap_compare, theme):
    # end, then up 24 rows: vcpu 3999 at 80x24, next to 4000 (suspended on 4001)
    app = GridHost(BIG, marked=frozenset({4001, 4003}), theme=theme)
    assert snap_compare(app, press=["end", *["up"] * 24, "right"], terminal_size=(80, 24))


def test_snapshot_a_small_machine_on_a_wide_screen(snap_compare):
    assert snap_compare(
        GridHost(TOUR, marked=frozenset({3})), press=["right", "right"], terminal_size=(120, 20)
    )
