"""The workbench as a reviewer drives it: real keys, and what the screen then shows.

Each test opens a scenario in WorkbenchApp under the Pilot, presses the
keys a person would, and reads the grid and the panels off the screen
(plain text, as the terminal gets it), holding the session against a fresh
replay of its actors where the state matters.
"""

from __future__ import annotations

from workbench_support import (
    IDLE,
    SUSPEND_WAKE,
    app_on,
    demo,
    opened,
    replayed_state,
    scenario,
    screen_lines,
    settle,
    toasts,
    widget_lines,
    widget_text,
)

from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.bindings import BINDINGS, palette_name, shown_keys
from hvtui.tui.grid import VcpuGrid
from hvtui.tui.panels import ActorsPanel, DetailPanel, EventLog, PropertiesPanel, TitleBar


def title(app: WorkbenchApp) -> str:
    return widget_text(app.query_one(TitleBar)).strip()


def cell(app: WorkbenchApp, vcpu: int) -> str:
    """vcpu's cell as the grid shows it: `id flags wait`, e.g. `1 IuF· S→0`."""
    grid = app.query_one(VcpuGrid)
    for line in widget_lines(grid):
        tokens = line.replace("▶", " ").replace("*", " ").split()
        for i in range(0, len(tokens) - 2, 3):
            if tokens[i] == str(vcpu):
                return " ".join(tokens[i : i + 3])
    raise AssertionError(f"vcpu{vcpu} is not on screen")


def flat(widget) -> str:
    """A panel's text with wrapped lines joined: what it says, wherever it wrapped."""
    return " ".join(widget_text(widget).split())


def log_row(app: WorkbenchApp, step: int) -> str:
    """The event log's line for `step`, as shown (with its ▶ if it is the current one)."""
    for line in widget_lines(app.query_one(EventLog)):
        body = line.lstrip("▶✗┊ ")
        if body.split(" ", 1)[0] == str(step):
            return line
    raise AssertionError(f"step {step} is not in view")


async def test_the_demo_opens_at_step_0_with_the_schedule_ahead():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)):
        assert title(app) == "reviewer-race — posted · step 0/17"
        assert log_row(app, 0).startswith("▶     0 initial state")
        assert "vmm   kick exit" in log_row(app, 1)  # the recorded future, ahead
        actors = widget_text(app.query_one(ActorsPanel))
        assert "▶ vmm    exit" in actors
        assert "next: vmm (recorded)" in actors
        assert [cell(app, c) for c in range(4)] == [
            "0 ·g·· ·",
            "1 ·g·q ·",
            "2 ·g·· ·",
            "3 ·g·· ·",  # q: the VMM's ioctl queued for 1
        ]
        props = widget_text(app.query_one(PropertiesPanel))
        assert "inhibit-holds" in props and "… progress                    pending" in props


async def test_step_forward_then_back_shows_the_identical_screen_and_state():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        before, state = screen_lines(app), app.bench.session.state
        await pilot.press("right_square_bracket", "right_square_bracket", "space")
        # vmm kicked vcpu1, vcpu1 left KVM_RUN, vcpu0 entered its hypercall
        assert title(app) == "reviewer-race — posted · step 3/17"
        assert cell(app, 0) == "0 ·K·· ·" and cell(app, 1) == "1 ·u·q ·"
        assert log_row(app, 3).startswith("▶     3 vcpu0 f    enter")
        detail = widget_text(app.query_one(DetailPanel))
        assert "mode         kernel" in detail and "srcu_reader   yes" in detail
        await pilot.press("left_square_bracket", "left_square_bracket", "backspace")
        await pilot.pause()
        assert app.bench.session.state == state == replayed_state(app.bench)
        assert screen_lines(app) == before


async def test_back_is_greyed_out_at_step_0_and_step_at_the_end():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        keys = app.screen.active_bindings
        assert not keys["left_square_bracket"].enabled
        assert keys["right_square_bracket"].enabled
        await pilot.press("e")
        await pilot.pause()
        keys = app.screen.active_bindings
        assert keys["left_square_bracket"].enabled
        assert not keys["right_square_bracket"].enabled and not keys["e"].enabled
        assert title(app) == "reviewer-race — posted · step 17/17 · end"
        await pilot.press("left_square_bracket")  # back over the end works
        assert title(app) == "reviewer-race — posted · step 16/17"


async def test_choosing_another_actor_steps_it_instead_of_the_recorded_one():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("a")
        actors = widget_text(app.query_one(ActorsPanel))
        assert "▶ vcpu0  enter" in actors and "next: vcpu0 (chosen)" in actors
        await pilot.press("right_square_bracket")
        await settle(pilot)
        # the recorded future is kept as a branch; the session is now unsaved work
        assert title(app) == "reviewer-race — posted · step 1/17 · unsaved · 1 branch"
        assert log_row(app, 1).startswith("▶     1 vcpu0 f    enter")
        assert cell(app, 0) == "0 ·K·· ·"
        assert "next: vmm (round robin)" in widget_text(app.query_one(ActorsPanel))
        assert app.bench.session.state == replayed_state(app.bench)


async def test_a_click_on_an_actor_chooses_it():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        actors = app.query_one(ActorsPanel)
        row = next(i for i, line in enumerate(widget_lines(actors)) if "vcpu0" in line)
        await pilot.click(ActorsPanel, offset=(4, row))
        await pilot.pause()
        assert "next: vcpu0 (chosen)" in widget_text(actors)


async def test_toggling_inhibit_adds_the_ioctl_and_the_grid_shows_the_flag_once_it_ran():
    app = app_on(IDLE)
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("l", "i")  # select vcpu1, toggle its inhibit
        await pilot.pause()
        assert "vmm: added exit(1), set_inhibit(1, true), run(1)" in toasts(app)
        assert "▶ vmm    exit" in widget_text(app.query_one(ActorsPanel))
        assert cell(app, 1) == "1 ·g·q ·"  # nothing has run yet: the ioctl is queued (q)
        assert title(app) == "idle — posted · step 0/9 · unsaved"
        await pilot.press("e")
        await pilot.pause()
        assert cell(app, 1) == "1 Ig·· ·"
        assert "inhibit       yes" in widget_text(app.query_one(DetailPanel))
        await pilot.press("i", "e")  # and clear it again
        await pilot.pause()
        assert cell(app, 1) == "1 ·g·· ·"
        assert app.bench.session.state == replayed_state(app.bench)


async def test_firing_a_flush_at_marked_targets_reaches_only_them():
    app = app_on(IDLE)  # vcpu2 is outside KVM_RUN
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("l", "m", "l", "m")  # mark vcpu1 and vcpu2
        await pilot.pause()
        grid = "\n".join(widget_lines(app.query_one(VcpuGrid)))
        assert "*1" in grid.replace(" ", "") and "*2" in grid.replace(" ", "")
        await pilot.press("h", "h", "f")  # vcpu0 fires
        await pilot.pause()
        assert "vcpu0: added flush0: flush 0x6" in toasts(app)  # as the log writes it
        detail = widget_text(app.query_one(DetailPanel))
        assert "program op 1/1 flush0: flush 0x6, at enter" in detail
        await pilot.press(*["right_square_bracket"] * 4)  # enter, check 1, check 2, request 1
        assert cell(app, 1) == "1 ·gF· ·" and cell(app, 2) == "2 ·u·· ·"
        assert cell(app, 0) == "0 ·K·· ·"  # and none for vcpu0 itself, ever
        await pilot.press("e", "l")
        await pilot.pause()
        assert "flushes      1" in widget_text(app.query_one(DetailPanel))
        await pilot.press("l")  # vcpu2 cannot service it outside KVM_RUN
        await pilot.pause()
        detail = " ".join(widget_text(app.query_one(DetailPanel)).split())
        assert "pending_flush yes" in detail and "flushes 0" in detail
        assert "waits: outside KVM_RUN: the flush request waits for `run`" in detail


async def test_a_vcpu_suspends_on_an_inhibited_target_and_wakes_when_the_flag_clears():
    app = app_on(SUSPEND_WAKE)
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("right_curly_bracket")  # to the next event of interest
        await pilot.pause()
        await settle(pilot)
        assert title(app).startswith("suspend-wake — posted · step 8/24")
        assert log_row(app, 8).endswith(
            "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu 0 waiting on 1"
        )
        assert cell(app, 0) == "0 ·K·· S→1"
        await pilot.press("right_square_bracket", "right_square_bracket")  # s3: blocked
        detail = flat(app.query_one(DetailPanel))
        assert "suspended yes" in detail and "mode blocked" in detail
        assert "next resume waits: suspended on vcpu1 (kvm_vcpu_block)" in detail
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        assert title(app).startswith("suspend-wake — posted · step 14/24")
        assert "unsuspending vcpu 0" in log_row(app, 14)
        assert cell(app, 0) == "0 ·b·· ·"  # awake, still blocked until it resumes
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        assert "no suspend, wake-up or violation before the end" in toasts(app)
        assert cell(app, 0) == "0 ·g·· ·"
        props = widget_text(app.query_one(PropertiesPanel))
        assert "pending" not in props and "✓ 5 more hold: " in props  # progress holds too


async def test_a_violation_shows_in_the_log_and_the_verdicts_as_it_happens():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("right_curly_bracket")
        await pilot.pause()
        assert log_row(app, 17).startswith("▶✗   17 vcpu1 -    service")
        props = widget_text(app.query_one(PropertiesPanel))
        assert "✗ no-flush-while-inhibited    violated at 17" in props
        assert "step 17: vcpu1 service: violates no-flush-while-inhibited" in toasts(app)
        await pilot.press("left_square_bracket")
        props = widget_text(app.query_one(PropertiesPanel))
        assert "violated" not in props and "✓ 5 more hold: " in props  # it holds again


async def test_jump_to_a_step_past_the_recorded_ones():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("g", "1", "4", "enter")
        await pilot.pause()
        assert title(app) == "reviewer-race — posted · step 14/17"
        await pilot.press("g", "3", "enter")
        await pilot.pause()
        assert title(app) == "reviewer-race — posted · step 3/17"
        assert app.bench.session.state == replayed_state(app.bench)


async def test_switching_the_variant_replays_the_same_choices_and_says_where_they_diverge():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("e", "v")
        await pilot.pause()
        await pilot.press("down", "enter")  # posted is highlighted; next is request-first
        await pilot.pause()
        await settle(pilot)
        assert title(app) == "reviewer-race — request-first · step 13/18 · unsaved · 1 branch"
        assert (
            "variant request-first: replayed 13 of 17 steps; diverged at step 14: vmm waits at "
            "synced (synchronize_srcu waits for reader vcpu0); the log reads differently from "
            "step 4" in toasts(app)
        )
        assert log_row(app, 4).startswith("      4 vcpu0 f    request 1")
        assert app.bench.session.state == replayed_state(app.bench)


async def test_reload_after_the_file_changed_keeps_the_position(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SUSPEND_WAKE)
    app = WorkbenchApp(load(str(path)))
    async with opened(app, (120, 40)) as pilot:
        await pilot.press(*["right_square_bracket"] * 6)
        path.write_text(SUSPEND_WAKE + "  vmm:second:\n    - {id: k2, op: exit, vcpu: 2}\n")
        await pilot.press("r")
        await pilot.pause()
        assert "vmm:second: +k2; replayed all 6 steps; at step 6" in toasts(app)
        await settle(pilot)
        assert title(app) == "suspend-wake — posted · step 6/26 · unsaved"
        assert "vmm:second" in widget_text(app.query_one(ActorsPanel))


async def test_the_help_screen_lists_every_key_from_the_one_table():
    app = WorkbenchApp(demo())
    async with opened(app, (160, 80)) as pilot:  # the description above the keys
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        for binding in BINDINGS:
            line = next(line for line in text.splitlines() if palette_name(binding) in line)
            assert shown_keys(binding) in line
            assert binding.tooltip[:24] in line
        assert "Select: left" in text  # the grid's own keys
        await pilot.press("escape")
        await pilot.pause()
        assert "palette name" not in "\n".join(screen_lines(app))


async def test_the_palette_offers_only_the_actions_valid_now():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        offered = {c.title for c in app.get_system_commands(app.screen)}
        assert {"step: forward", "step: to end", "session: save"} <= offered
        assert "step: back" not in offered and "check: verdicts" not in offered
        assert "variant: switch to no-sync" in offered
        assert "variant: switch to posted" not in offered
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"to end", "enter")
        await pilot.pause()
        assert title(app) == "reviewer-race — posted · step 17/17 · end"
        offered = {c.title for c in app.get_system_commands(app.screen)}
        assert "step: back" in offered and "step: forward" not in offered


async def test_the_palette_opens_any_scenario_in_the_library():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open scenarios/two-waiters", "enter")
        await pilot.pause()
        assert title(app).startswith("two-waiters — ")
        assert app.bench.origin.file == "scenarios/two-waiters.yaml"


async def test_f8_saves_a_screenshot_named_after_the_scenario_and_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        await pilot.press("right_square_bracket", "f8")
        await pilot.pause()
        saved = tmp_path / "reviewer-race-step1.svg"
        assert saved.read_text().startswith("<svg")
        assert f"screenshot saved: {saved}" in toasts(app)  # the full path: no guessing where
        await pilot.press("f8")  # the same step again: a new name, never an overwrite
        await pilot.pause()
        assert (tmp_path / "reviewer-race-step1-2.svg").exists()


async def test_the_legend_shows_on_tall_screens_and_shift_l_toggles_it():
    app = WorkbenchApp(demo())
    async with opened(app, (80, 24)) as pilot:
        legend = app.query_one("#legend")
        assert not legend.display  # 24 rows: the grid and the log need them
        await pilot.press("L")
        await pilot.pause()
        assert legend.display
        assert "I inhibited" in " ".join(widget_lines(legend))
        await pilot.resize_terminal(120, 50)
        await pilot.press("L")
        await pilot.pause()
        assert not legend.display  # the choice sticks, whatever the height
    tall = WorkbenchApp(demo())
    async with opened(tall, (120, 50)) as pilot:
        assert tall.query_one("#legend").display


def long_trace(flushes: int):
    """2 vCPUs; vcpu0 flushes vcpu1 `flushes` times: 5 atomic steps each."""
    ops = "".join(f"    - {{id: f{i}, op: flush, targets: [1]}}\n" for i in range(flushes))
    return scenario(f"name: long\nvcpus: 2\nactors:\n  vcpu0:\n{ops}")


async def test_a_key_draws_only_the_log_rows_in_view_however_long_the_trace(monkeypatch):
    drawn = {}
    real_row = EventLog.row
    calls = []
    monkeypatch.setattr(EventLog, "row", lambda self, i: calls.append(i) or real_row(self, i))
    for flushes in (100, 4000):  # 500 and 20,000 events
        app = WorkbenchApp(long_trace(flushes), at_end=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            end = app.bench.session.pos
            assert log_row(app, end).startswith("▶")  # the first frame shows the end
            calls.clear()
            await pilot.press(*["left_square_bracket"] * 5)
            await pilot.pause()
            height = app.query_one(EventLog).size.height
            drawn[flushes] = len(calls)
            assert min(calls) > app.bench.session.pos - 2 * height  # only rows near the end
    assert drawn[4000] <= drawn[100] + height  # the same work, 40 times the events
    assert drawn[4000] <= 5 * 3 * height


async def test_a_click_on_a_grid_cell_shows_that_vcpu_in_the_detail_panel():
    app = WorkbenchApp(demo())
    async with opened(app, (100, 30)) as pilot:
        grid = app.query_one(VcpuGrid)
        row = widget_lines(grid)[0]  # the first row of cells: "▶ 0 ·g·· ·     1 ·g·· ·  ..."
        await pilot.click(VcpuGrid, offset=(row.index(" 2 ") + 1, 0))
        await pilot.pause()
        assert widget_lines(app.query_one(DetailPanel))[0].startswith("─vcpu2")
        assert cell(app, 2) == "2 ·g·· ·"


async def test_ctrl_c_says_in_words_which_key_quits():
    app = WorkbenchApp(demo())
    async with opened(app) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert toasts(app) == "ℹ quit?: q quits the workbench (ctrl+c does not)"
        assert app.is_running  # still open: ctrl+c is not quit
