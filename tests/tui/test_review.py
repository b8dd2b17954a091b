"""A reviewer's session, as the issue tells it: every key pressed for real, the screen read back.

The 4096-vCPU scenario seen whole, three interleavings tried without
losing any, two compared side by side, no edit lost to a stray key, and
every terminal legible.
"""

from __future__ import annotations

from dataclasses import replace

from workbench_support import (
    DEMO,
    IDLE,
    ROOT,
    app_on,
    demo,
    opened,
    scenario,
    screen_lines,
    settle,
    toasts,
    widget_lines,
    widget_text,
)

from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.compare_view import CompareScreen
from hvtui.tui.grid import VcpuGrid
from hvtui.tui.keybar import KeyBar
from hvtui.tui.panels import ActorsPanel, DetailPanel, EventLog, GridCounts, MessageBar, TitleBar
from hvtui.tui.screens import BranchScreen, ChoiceScreen
from hvtui.view import recovery
from hvtui.view.bankmap import CHARS, HALVES

MANY = ROOT / "scenarios" / "many-vcpus-4096.yaml"


def title(app) -> str:
    return widget_text(app.query_one(TitleBar)).strip()


def grid_text(app) -> str:
    return "\n".join(widget_lines(app.query_one(VcpuGrid)))


# -- every vCPU at a glance ------------------------------------------------------------


def on_screen(app) -> int:
    """How many vCPUs the grid shows at once without scrolling."""
    grid = app.query_one(VcpuGrid)
    lay = grid.grid_layout
    lines = min(lay.lines, grid.scrollable_content_region.height)
    return min(grid.vcpus, lines * lay.per_row * (2 if lay.zoom == HALVES else 1))


async def test_all_4096_vcpus_are_on_screen_at_200x60_and_the_five_suspended_banks_read():
    app = WorkbenchApp(load(str(MANY)))
    async with opened(app, (200, 60)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        grid = app.query_one(VcpuGrid)
        assert grid.zoom == CHARS and grid.per_row == 128  # two banks a row, one char a vCPU
        assert on_screen(app) == 4096
        lines = widget_lines(grid)
        banks = [line for line in lines if "I" + "S" * 63 in line]
        assert len(banks) == 5  # bank leader inhibited, its 63 vCPUs suspended on it
        assert lines[0].lstrip().startswith("b0-1 I" + "S" * 63)  # rows labelled by bank
        counts = widget_text(app.query_one(GridCounts))
        assert "inhibited 5" in counts and "suspended 315" in counts and "blocked 315" in counts
        actors = widget_text(app.query_one(ActorsPanel))
        assert "315 vCPUs wait at resume: suspended on vcpu0, vcpu832, vcpu1728" in actors


async def test_at_120x40_half_blocks_show_more_than_2048_vcpus():
    app = WorkbenchApp(load(str(MANY)))
    async with opened(app, (120, 40)):
        assert app.query_one(VcpuGrid).zoom == HALVES
        assert on_screen(app) >= 2048


async def test_z_zooms_from_cells_to_one_character_to_half_a_character():
    app = WorkbenchApp(load(str(MANY)))
    async with opened(app, (200, 60)) as pilot:
        grid = app.query_one(VcpuGrid)
        seen = []
        for _ in range(3):
            await pilot.press("z")
            seen.append((grid.zoom, grid.per_row))
        assert seen == [(HALVES, 128), (0, 4), (CHARS, 128)]
        assert "zoom" in toasts(app)


async def test_go_to_vcpu_n_selects_it_and_shows_its_relations_in_the_map():
    app = WorkbenchApp(load(str(MANY)))
    async with opened(app, (200, 60)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("slash", *"832", "enter")
        await pilot.pause()
        assert app.query_one(VcpuGrid).cursor == 832
        detail = widget_text(app.query_one(DetailPanel))
        assert "vcpu832" in detail and "waited on by 63: 833-895" in detail
        # its waiters are underlined in the map, itself in reverse video
        grid = app.query_one(VcpuGrid)
        strip = grid.render_line(grid.grid_layout.line(832) - grid.scroll_offset.y)
        x = grid.grid_layout.x(832)
        me, waiter = strip.crop(x, x + 1), strip.crop(x + 1, x + 2)
        assert me.text == "I" and me._segments[0].style.reverse
        assert waiter.text == "S" and waiter._segments[0].style.underline


async def test_the_filter_shows_only_the_vcpus_in_one_state():
    app = WorkbenchApp(load(str(MANY)))
    async with opened(app, (200, 60)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        while "only suspended" not in app.query_one("#gridbox").border_title:
            await pilot.press("equals_sign")
        text = grid_text(app)
        assert text.count("S") == 315 and "I" not in text  # the leaders are not suspended
        assert "[suspended 315]" in widget_text(app.query_one(GridCounts))


async def test_under_no_color_the_half_blocks_are_the_filter_as_filled_and_empty_cells(
    monkeypatch,
):
    monkeypatch.setenv("NO_COLOR", "1")
    app = WorkbenchApp(load(str(MANY)))
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("right")  # off vcpu0, whose waiters would show as ◇
        await pilot.press("home", "right", "right")
        lines = widget_lines(app.query_one(VcpuGrid))
        # bank 13 (vcpu832-895) is the lower half of line "12/13": suspended, filled
        line = next(line for line in lines if line.lstrip().startswith("b12/b13"))
        assert line.split(" ", 2)[-1].strip() == "▄" * 64


# -- every terminal ---------------------------------------------------------------------


async def test_the_footer_fits_80_columns_and_always_shows_help():
    app = WorkbenchApp(demo())
    async with opened(app, (80, 24)) as pilot:
        bar = app.query_one(KeyBar).shown()
        assert len(bar.rstrip()) <= 80 and bar.rstrip().endswith("? help")
        for key in ("] step", "[ back", "s save", "c check", "v variant", "q quit"):
            assert key in bar
        await pilot.resize_terminal(200, 40)
        await pilot.pause()
        wide = app.query_one(KeyBar).shown()
        assert "f flush" in wide and "z zoom" in wide and wide.rstrip().endswith("? help")


async def test_under_no_color_the_current_row_is_reverse_video_not_a_blank_bar(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("right_square_bracket")
        log = app.query_one(EventLog)
        row = next(i for i, line in enumerate(widget_lines(log)) if line.startswith("▶"))
        strip = log.render_line(row)
        assert all(seg.style.reverse for seg in strip if seg.text.strip())
        assert "kvm_vcpu_kick" in strip.text  # legible: text, not a bar


async def test_sixteen_colours_use_the_terminals_own_palette(monkeypatch):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "standard")
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)):
        assert app.theme == "ansi-dark"


# -- branches instead of lost work --------------------------------------------------------


async def test_another_actor_keeps_the_old_future_as_a_branch_to_switch_back_and_compare():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("right_square_bracket", "a", "right_square_bracket")
        await settle(pilot)
        assert "1 branch" in title(app) and "unsaved" in title(app)
        assert len(app.bench.session.actors) == 2  # the new line; the old one is b1
        await pilot.press("b")
        assert isinstance(app.screen, BranchScreen)
        assert "b1" in " ".join(screen_lines(app))
        await pilot.press("c")  # b1 beside the current line
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        text = "\n".join(screen_lines(app))
        assert "the first divergent step is 2 (▶)" in text
        assert any("▶" in line and "│" in line for line in screen_lines(app))
        await pilot.press("escape", "b", "enter")  # switch to b1: the file's own line
        await settle(pilot)
        assert app.bench.trace() == list(demo().schedule)
        assert app.bench.session.pos == 1  # where it was left
        assert [b.name for b in app.bench.branches] == ["b2"]  # the other one is kept


async def test_the_same_schedule_under_two_variants_side_by_side():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        app.compare_with(variant="request-first")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "posted (left) and request-first (right)" in text
        assert "the first divergent step is 4" in text


async def test_q_over_unsaved_work_asks_and_cancel_keeps_everything():
    app = app_on(IDLE)
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("i")
        await pilot.press("q")
        assert isinstance(app.screen, ChoiceScreen)
        assert "This session is not saved. Save before you quit?" in " ".join(screen_lines(app))
        await pilot.press("escape")
        assert app.is_running and "unsaved" in title(app)
        await pilot.press("q", "d")  # discard
        await pilot.pause()
        assert not app.is_running


async def test_q_after_a_save_does_not_ask_and_stepping_is_not_unsaved_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("e")  # the file's schedule, then round robin: nothing new
        await settle(pilot)
        assert "unsaved" not in title(app)
        await pilot.press("i")
        assert "unsaved" in title(app)
        await pilot.press("q", "s")  # save, then quit
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert not app.is_running
    assert list(tmp_path.glob("*.yaml"))


async def test_opening_a_file_or_a_counterexample_over_unsaved_work_asks():
    app = app_on(IDLE)
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("i")
        app.open_file(str(DEMO))
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        assert app.bench.origin.name == "idle"


async def test_a_signal_leaves_a_recovery_file_that_the_next_start_offers(tmp_path):
    path = tmp_path / "idle.yaml"
    path.write_text(IDLE)
    app = WorkbenchApp(load(str(path)))
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("l", "i")
        app._signalled()  # what SIGTERM / SIGHUP (a closed terminal or browser tab) runs
        await pilot.pause()
    assert recovery.recovery_path(str(path)).is_file()
    again = WorkbenchApp(load(str(path)))
    async with opened(again, (100, 30)) as pilot:
        assert isinstance(again.screen, ChoiceScreen)
        assert "ended without a save" in " ".join(screen_lines(again))
        await pilot.press("r")
        await pilot.pause()
        assert "set_inhibit" in str(again.bench.program.threads)
        assert "unsaved" in title(again) and "recovered from" in toasts(again)
        assert not recovery.recovery_path(str(path)).exists()  # taken back into the session


# -- reading the run ------------------------------------------------------------------------


async def test_the_log_has_a_header_a_dimmed_future_and_messages_below_it():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("right_square_bracket", "right_square_bracket")
        head = widget_text(app.query_one("#loghead"))
        assert head.split()[:4] == ["step", "actor", "op", "line"]
        lines = widget_lines(app.query_one(EventLog))
        assert lines[0].startswith("      0 initial state")  # context above the current row
        assert lines[2].startswith("▶     2 vcpu1 -    leave")  # `-`: a step of no op
        assert lines[3].startswith("┊     3 vcpu0 f    enter")  # the recorded future
        log, bar = app.query_one(EventLog).region, app.query_one(MessageBar).region
        assert not log.overlaps(bar)  # a message never covers the current row


async def test_the_title_counts_the_whole_run_not_the_recorded_schedule():
    app = WorkbenchApp(demo())  # 10 recorded steps; the run goes on to 17
    async with opened(app, (100, 30)) as pilot:
        await settle(pilot)
        assert "step 0/17" in title(app)


async def test_cells_show_a_pending_exit_a_violator_and_a_queued_op():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("right_square_bracket")  # vmm: exit vcpu1 (pending until it leaves)
        assert "1 ·g·x ·" in grid_text(app)
        await pilot.press("e")
        await settle(pilot)
        assert "✗1 Ig·· ·" in grid_text(app)  # vcpu1's service violated a property


# -- model v2 in the workbench ----------------------------------------------------------------


async def test_a_vcpu_without_hyperv_context_is_marked_counted_and_refuses_a_flush():
    base = scenario(IDLE)
    program = replace(
        base.program, initial_no_hyperv=frozenset({1}), initial_mode=((1, "user"), (2, "user"))
    )
    app = WorkbenchApp(replace(base, program=program))
    async with opened(app, (120, 40)) as pilot:
        assert "1 ∅u·· ·" in grid_text(app)
        assert "no Hyper-V context 1" in widget_text(app.query_one(GridCounts))
        await pilot.press("l", "f")
        assert "cannot issue a flush hypercall" in toasts(app)
        await pilot.press("H")
        assert "vmm: added hyperv_init(1)" in toasts(app)
        await pilot.press("e")
        await settle(pilot)
        assert "1 ·u·· ·" in grid_text(app)  # it has a context now
        await pilot.press("h", "w")
        assert "vcpu0: added work0: kernel_work" in toasts(app)
        props = widget_text(app.query_one("#properties"))
        assert "no-null-deref" in props and "sync-waits-for-flushes-only" in props
        await pilot.press("q", "d")  # discard: leave no recovery file


async def test_the_palette_offers_the_comparisons_branches_and_filters():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("right_square_bracket", "a", "right_square_bracket")
        await settle(pilot)
        names = [c.title for c in app.get_system_commands(app.screen)]
        assert "compare: this schedule under request-first" in names
        assert "branch: switch to b1" in names and "branch: compare b1 with this line" in names
        assert "view: show only suspended" in names
