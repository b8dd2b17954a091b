"""The workbench: the grid, the panels, and the keys that drive a Bench.

Every key is an action on `self.bench` followed by `changed()`, which posts
one message that replaces any still pending: a burst of keys redraws once.
Long runs (to the end, to the next event) step in slices between frames,
and the checker runs in a thread that posts its progress.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from hvtui.check.search import Options, Progress, Result, check
from hvtui.errors import InputError
from hvtui.scenario.load import Scenario, load, save
from hvtui.tui.bindings import BINDINGS
from hvtui.tui.commands import ScenarioProvider, action_commands
from hvtui.tui.grid import VcpuGrid
from hvtui.tui.legend import VcpuLegend
from hvtui.tui.panels import ActorsPanel, DetailPanel, EventLog, PropertiesPanel, TitleBar
from hvtui.tui.screens import (
    ConfirmScreen,
    HelpScreen,
    JumpScreen,
    SaveAsScreen,
    VariantScreen,
    VerdictScreen,
)
from hvtui.view.bench import Bench

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import SystemCommand
    from textual.screen import Screen

SLICE = 0.03  # seconds of stepping between two frames during a long run
LEGEND_MIN_HEIGHT = 40  # below this the legend starts hidden (L shows it)


class WorkbenchApp(App):
    """Step, edit, save and check one scenario at a time."""

    CSS_PATH = "workbench.tcss"
    BINDINGS = list(BINDINGS)
    COMMANDS = App.COMMANDS | {ScenarioProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (LEGEND_MIN_HEIGHT, "-tall")]

    class Changed(Message):
        """The session, the program or the selection changed: redraw (once per burst)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, WorkbenchApp.Changed)

    class CheckProgress(Message):
        """The checker's latest count; only the newest is worth drawing."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, WorkbenchApp.CheckProgress)

    def __init__(self, scenario: Scenario, *, at_end: bool = False):
        """Raises InputError when the scenario's schedule cannot be replayed."""
        super().__init__()
        self.bench = Bench.open(scenario, at_end=at_end)
        self.selected = 0
        self.legend_shown: bool | None = None  # None: by the terminal's height
        self.check_line = ""
        self.checked: tuple[Scenario, Result] | None = None  # what was checked, the result
        self._run: Worker | None = None
        self._check: Worker | None = None
        self._can_step = False
        self._enabled = 0
        self._keys: tuple[bool | None, ...] = ()  # check_action per binding, as last shown

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        with Horizontal(id="top"):
            with Vertical(id="gridbox"):
                yield VcpuGrid(id="grid")
                yield VcpuLegend(id="legend")
            yield DetailPanel(id="detail")
        with Horizontal(id="middle"):
            yield ActorsPanel(id="actors")
            yield PropertiesPanel(id="properties")
        yield EventLog(id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#gridbox").border_title = "vCPUs"
        self.query_one("#properties").border_title = "properties"
        self.query_one("#log").border_title = "events"
        self.query_one(VcpuGrid).focus()
        self.refresh_views()

    def on_resize(self) -> None:
        self._place_legend()

    def _place_legend(self) -> None:
        shown = self.legend_shown
        if shown is None:
            shown = self.size.height >= LEGEND_MIN_HEIGHT
        self.query_one(VcpuLegend).display = shown

    # -- redrawing -----------------------------------------------------------------

    def changed(self) -> None:
        self.post_message(self.Changed())

    def on_workbench_app_changed(self, _: Changed) -> None:
        self.refresh_views()

    def refresh_views(self) -> None:
        bench = self.bench
        session = bench.session
        self.selected = min(self.selected, bench.engine.n - 1)
        grid = self.query_one(VcpuGrid)
        grid.show(bench.engine, session.state, bench.marked)
        if grid.cursor != self.selected:
            grid.move_cursor(self.selected)
        self.query_one(DetailPanel).show(bench, self.selected)
        self.query_one(ActorsPanel).show(bench)
        self.query_one(PropertiesPanel).show(bench, self.check_line)
        self.query_one(EventLog).show(bench)
        self._can_step = bench.next_actor()[0] is not None
        self._enabled = sum(st.enabled for st in bench.statuses())
        self.title = bench.origin.name  # the terminal's title, and screenshots' names
        flags = [bench.variant, f"step {session.pos}/{len(session.actors)}"]
        if not self._can_step and session.pos == len(session.actors):
            flags.append("end")
        if bench.edited():
            flags.append("edited")
        if self._run_active():
            flags.append("running")
        self.query_one(TitleBar).show(bench.origin.name, flags)
        self._place_legend()
        # The footer rebuilds all its keys on every refresh_bindings: only when one it
        # shows changed (the palette and the help ask check_action when they open).
        keys = tuple(self.check_action(b.action, ()) for b in BINDINGS if b.show)
        if keys != self._keys:
            self._keys = keys
            self.refresh_bindings()

    def on_vcpu_grid_selected(self, message: VcpuGrid.Selected) -> None:
        if message.vcpu != self.selected:
            self.selected = message.vcpu
            self.query_one(DetailPanel).show(self.bench, self.selected)

    def on_actors_panel_chosen(self, message: ActorsPanel.Chosen) -> None:
        if self.bench.engine.can_step(self.bench.session.state, message.actor):
            self._stop()
            self.bench.chosen = message.actor
            self.changed()

    # -- which keys do something now -----------------------------------------------

    # When each key does something; a key not named here always does.
    _WHEN = {
        "step": lambda app: app._can_step,
        "to_end": lambda app: app._can_step,
        "to_interest": lambda app: app._can_step,
        "back": lambda app: app.bench.session.pos > 0,
        "back_to_interest": lambda app: app.bench.session.pos > 0,
        "choose_actor": lambda app: app._enabled > 1,
        "stop": lambda app: app._run_active(),
        "clear_marks": lambda app: bool(app.bench.marked),
        "verdicts": lambda app: app.checked is not None,
        "reload": lambda app: os.path.isfile(app.bench.origin.file),
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """None greys a key out: it would do nothing now."""
        when = self._WHEN.get(action)
        return True if when is None or when(self) else None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from action_commands(self)
        yield from super().get_system_commands(screen)

    # -- stepping ------------------------------------------------------------------

    def action_step(self) -> None:
        self._stop()
        self.bench.step()
        self.changed()

    def action_back(self) -> None:
        self._stop()
        self.bench.back()
        self.changed()

    def action_back_to_interest(self) -> None:
        self._stop()
        self.bench.back_to_interest()
        self.changed()

    def action_choose_actor(self) -> None:
        self._stop()
        self.bench.cycle_actor()
        self.changed()

    def action_to_end(self) -> None:
        self._start_run(interest=False, to=None)

    def action_to_interest(self) -> None:
        self._start_run(interest=True, to=None)

    def action_stop(self) -> None:
        if self._stop():
            self.notify(f"stopped at step {self.bench.session.pos}")

    def action_jump(self) -> None:
        session = self.bench.session
        self.push_screen(JumpScreen(session.pos, len(session.actors)), self._jump_to)

    def _jump_to(self, step: int | None) -> None:
        if step is None:
            return
        self._stop()
        self.bench.goto(step)
        if self.bench.session.pos < step:
            self._start_run(interest=False, to=step)
        self.changed()

    def _run_active(self) -> bool:
        return self._run is not None and self._run.is_running

    def _stop(self) -> bool:
        """End a running run; True if there was one."""
        if not self._run_active():
            return False
        self._run.cancel()
        self._run = None
        return True

    def _start_run(self, *, interest: bool, to: int | None) -> None:
        """Step until the end, an event of interest or step `to`: the first slice now,
        the rest between frames so the screen stays live and escape can stop it."""
        self._stop()
        reason = self._slice(interest, to)
        if reason:
            self._ran(reason, interest)
        else:
            self._run = self._keep_running(interest, to)
        self.changed()

    def _slice(self, interest: bool, to: int | None) -> str:
        deadline = time.monotonic() + SLICE
        reason = ""
        while not reason and time.monotonic() < deadline:
            reason = self.bench.advance(16, interest=interest, to=to)  # small: 4096 vCPUs
        return reason

    @work(group="run", exclusive=True)
    async def _keep_running(self, interest: bool, to: int | None) -> None:
        while True:
            await asyncio.sleep(0)
            reason = self._slice(interest, to)
            self.changed()
            if reason:
                self._run = None
                self._ran(reason, interest)
                return

    def _ran(self, reason: str, interest: bool) -> None:
        session = self.bench.session
        if reason == "interest":
            event = session.events[session.pos - 1]
            found = session.violations[session.pos - 1]
            what = f"violates {', '.join(found)}" if found else event.text
            self.notify(f"step {event.time}: {event.actor} {event.step}: {what}")
        elif reason == "end" and interest:
            self.notify("no suspend, wake-up or violation before the end")
        elif reason == "end":
            done = session.progress()
            self.notify(
                f"the end, step {session.pos}" + (f": progress {done.verdict}" if done else "")
            )

    # -- editing -------------------------------------------------------------------

    def action_toggle_inhibit(self) -> None:
        self._stop()
        ops = self.bench.toggle_inhibit(self.selected)
        added = ", ".join(
            f"{op.op}({op.vcpu}{', ' + str(op.value).lower() if op.op == 'set_inhibit' else ''})"
            for op in ops
        )
        self.notify(f"vmm: added {added}")
        self.changed()

    def action_fire_flush(self) -> None:
        self._stop()
        op = self.bench.fire_flush(self.selected)
        self.notify(f"vcpu{self.selected}: added {op.id}: flush {op.spec}")
        self.changed()

    def action_mark(self) -> None:
        self.bench.toggle_mark(self.selected)
        self.changed()

    def action_clear_marks(self) -> None:
        self.bench.clear_marks()
        self.changed()

    # -- variants, files, counterexamples -------------------------------------------

    def action_switch_variant(self) -> None:
        self.push_screen(VariantScreen(self.bench.variant), self.use_variant)

    def use_variant(self, name: str | None) -> None:
        if not name or name == self.bench.variant:
            return
        self._stop()
        replayed = self.bench.switch_variant(name)
        self.notify(f"variant {name}: {replayed.describe()}", severity=_severity(replayed.why))
        self.changed()

    def action_reload(self) -> None:
        self._stop()
        try:
            what = self.bench.reload()
        except InputError as exc:
            self.notify(str(exc), title="reload failed; nothing changed", severity="error")
            return
        self.notify(what, title=f"reloaded {self.bench.origin.file}")
        self.changed()

    def open_file(self, path: str) -> None:
        try:
            bench = Bench.open(load(path))
        except InputError as exc:
            self.notify(str(exc), title="cannot open", severity="error")
            return
        self._stop()
        if self._check is not None:  # its verdicts would be about the other file
            self._check.cancel()
            self._check = None
        self.checked, self.check_line = None, ""
        self.bench = bench
        self.selected = 0
        self.notify(f"opened {path}")
        self.changed()

    # -- saving and screenshots ------------------------------------------------------

    def action_save(self) -> None:
        name = self.bench.origin.name
        suggestion = _unused(Path(f"{name}-session.yaml"))
        steps = len(self.bench.session.actors)
        self.push_screen(SaveAsScreen(str(suggestion), steps), self.save_to)

    def save_to(self, path: str | None, overwrite: bool = False) -> None:
        """Save atomically; an existing file is replaced only after a yes in a dialog."""
        if not path:
            return
        if not overwrite and os.path.lexists(path):
            self.push_screen(
                ConfirmScreen(f"{path} exists. Overwrite it?", "Overwrite"),
                lambda yes: (
                    self.save_to(path, overwrite=True)
                    if yes
                    else self.notify(f"not saved: {path} exists")
                ),
            )
            return
        scenario = self.bench.to_scenario()
        try:
            save(scenario, path, overwrite=overwrite)
        except (InputError, OSError) as exc:  # lost a race with another writer, disk full, ...
            self.notify(str(exc), title="not saved", severity="error")
            return
        self.notify(f"saved {path}: {len(scenario.schedule)} steps; `hvtui run {path}` replays it")

    def action_screenshot(self) -> None:
        step = self.bench.session.pos
        path = _unused(Path(f"{self.bench.origin.name}-step{step}.svg"))
        saved = self.save_screenshot(filename=str(path))
        self.notify(f"screenshot saved: {saved}")

    # -- the checker -----------------------------------------------------------------

    def action_check(self) -> None:
        if self._check is not None and self._check.is_running:
            self._check.cancel()
            self.check_line = "check: cancelled"
            self._check = None
            self.changed()
            return
        scenario = self.bench.to_scenario()
        self.check_line = "check: starting"
        self._check = self._run_check(scenario)
        self.changed()

    @work(thread=True, group="check", exclusive=True, exit_on_error=False)
    def _run_check(self, scenario: Scenario) -> tuple[Scenario, Result]:
        worker = get_current_worker()

        def progress(p: Progress) -> None:
            text = f"check: {p.phase} {p.states:,} states, depth {p.depth} (c cancels)"
            self.post_message(self.CheckProgress(text))

        result = check(scenario, scenario.variant, Options(), progress, lambda: worker.is_cancelled)
        return scenario, result

    def on_workbench_app_check_progress(self, message: CheckProgress) -> None:
        if self._check is not None:
            self.check_line = message.text
            self.query_one(PropertiesPanel).show(self.bench, self.check_line)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is not self._check:
            return
        if event.state == WorkerState.SUCCESS:
            self._check = None
            self.checked = worker.result
            _, result = self.checked
            violated = result.violated
            self.check_line = (
                f"check: {len(violated)} violated (t: verdicts)"
                if violated
                else "check: nothing violated"
            )
            if not result.complete:
                self.check_line += f"; incomplete ({result.bound})"
            self.action_verdicts()
        elif event.state == WorkerState.ERROR:
            self._check = None
            self.check_line = "check: failed"
            self.notify(str(worker.error), title="check failed", severity="error")
        self.changed()

    def counterexamples(self) -> list[tuple[str, int]]:
        if self.checked is None:
            return []
        _, result = self.checked
        return [(p, len(v.schedule)) for p, v in result.properties.items() if v.schedule]

    def action_verdicts(self) -> None:
        if self.checked is None:
            return
        scenario, result = self.checked
        steps = dict(self.counterexamples())
        rows = [(p, v.verdict, steps.get(p)) for p, v in result.properties.items()]
        extent = "complete" if result.complete else f"incomplete: {result.bound}"
        summary = (
            f"{scenario.name} under {scenario.variant}: {result.states:,} states, "
            f"{result.transitions:,} transitions, {extent}"
        )
        if (scenario.program, scenario.variant) != (self.bench.program, self.bench.variant):
            summary += "\n(checked before the latest edits; a counterexample loads that program)"
        self.push_screen(VerdictScreen(summary, rows), self.load_counterexample)

    def load_counterexample(self, prop: str | None) -> None:
        if prop is None or self.checked is None:
            return
        scenario, result = self.checked
        schedule = result.properties[prop].schedule
        self._stop()
        replayed = self.bench.load_trace(scenario.program, scenario.variant, schedule)
        self.notify(
            f"counterexample for {prop}: {len(schedule)} steps, at step 0 (] steps, e runs)",
            severity=_severity(replayed.why),
        )
        self.changed()

    # -- the rest --------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(VcpuGrid.BINDINGS))

    def action_toggle_legend(self) -> None:
        self.legend_shown = not self.query_one(VcpuLegend).display
        self._place_legend()


def _severity(why: str) -> str:
    return "warning" if why else "information"


def _unused(path: Path) -> Path:
    """`path`, or `stem-2.suffix`, `stem-3.suffix`, ... whichever does not exist yet."""
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
