"""Checking the open scenario from the workbench: in the background, then stepping
through a counterexample.

The checker runs in a thread; the screen keeps answering keys while it
explores, and its verdict table loads a counterexample into the session.
"""

from __future__ import annotations

from workbench_support import (
    app_on,
    demo,
    opened,
    replayed_state,
    screen_lines,
    settle,
    widget_text,
)

from hvtui.check.search import check
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.panels import PropertiesPanel, TitleBar
from hvtui.tui.screens import VerdictScreen
from hvtui.view.bench import run_length

# Seven vCPUs flush everyone while the VMM clears and sets vcpu7's flag: tens
# of thousands of states, many seconds of checking, each one cheap to expand.
BUSY = (
    """
name: busy
vcpus: 8
initial: {inhibit: [7]}
actors:
"""
    + "".join(f"  vcpu{c}: [{{id: f{c}, op: flush, targets: all}}]\n" for c in range(7))
    + """
  vmm:
    - {id: k, op: exit, vcpu: 7}
    - {id: c1, op: set_inhibit, vcpu: 7, value: false}
    - {id: i1, op: set_inhibit, vcpu: 7, value: true}
"""
)


async def checked(app: WorkbenchApp, pilot) -> None:
    """c, and wait for the check to finish and its verdict table to show."""
    await pilot.press("c")
    await settle(pilot)
    await until(lambda: isinstance(app.screen, VerdictScreen), pilot)


async def until(condition, pilot, seconds: float = 60.0) -> None:
    """Let the app run until `condition()` holds (a background thread is involved)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def test_check_shows_the_verdicts_and_loads_a_counterexample_to_step_through():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await checked(app, pilot)
        table = "\n".join(screen_lines(app))
        assert "reviewer-race under posted:" in table and "complete" in table
        row = next(line for line in table.splitlines() if "no-flush-while-inhibited" in line)
        assert "violated" in row and "steps: enter to load" in row
        assert "inhibit-holds" in table
        # the cursor starts on the first counterexample, the violated property's
        await pilot.press("enter")
        await pilot.pause()
        expected = check(demo()).properties["no-flush-while-inhibited"].schedule
        assert app.bench.trace() == list(expected)
        n = len(expected)
        await settle(pilot)
        whole = run_length(app.bench.program, "posted", expected, 10_000)
        assert whole >= n
        assert widget_text(app.query_one(TitleBar)).strip() == (
            f"reviewer-race — posted · step 0/{whole} · unsaved · 1 branch"
        )
        await pilot.press("e")
        await pilot.pause()
        assert app.bench.session.first_violations()["no-flush-while-inhibited"] == n
        props = widget_text(app.query_one(PropertiesPanel))
        assert f"✗ no-flush-while-inhibited    violated at {n}" in props
        assert "check: 1 violated (t: verdicts)" in props
        assert app.bench.session.state == replayed_state(app.bench)


async def test_the_screen_answers_keys_while_a_check_runs_and_c_cancels_it():
    app = app_on(BUSY)
    async with opened(app, (120, 40)) as pilot:
        await pilot.press("c")
        await until(lambda: "states" in app.check_line, pilot)  # progress arrives
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert app.bench.session.pos == 2
        assert app._check is not None and app._check.is_running
        props = widget_text(app.query_one(PropertiesPanel))
        assert "check: explore" in props
        await pilot.press("c")
        await settle(pilot)
        await pilot.pause()
        assert "check: cancelled" in widget_text(app.query_one(PropertiesPanel))
        assert app.checked is None


async def test_t_shows_the_last_verdicts_again():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        assert not app.screen.active_bindings["t"].enabled
        await checked(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, VerdictScreen)
        offered = {c.title for c in app.get_system_commands(app.screen)}
        assert "check: load the counterexample for no-flush-while-inhibited" in offered
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, VerdictScreen)


async def test_opening_another_scenario_forgets_the_last_check():
    app = WorkbenchApp(demo())
    async with opened(app, (120, 40)) as pilot:
        await checked(app, pilot)
        await pilot.press("escape")
        app.open_file("scenarios/two-waiters.yaml")
        await pilot.pause()
        assert app.checked is None and not app.screen.active_bindings["t"].enabled
        assert "check:" not in widget_text(app.query_one(PropertiesPanel))
