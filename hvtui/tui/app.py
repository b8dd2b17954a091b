"""The workbench: the grid, the panels, and the keys that drive a Bench.

Every key is an action on `self.bench` followed by `changed()`, which posts
one message that replaces any still pending: a burst of keys redraws once.
Long runs (to the end, to the next event) step in slices between frames,
and the checker runs in a thread that posts its progress.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from hvtui.check.search import Options, Progress, Result, check
from hvtui.errors import InputError
from hvtui.model.engine import format_targets
from hvtui.scenario.load import Scenario, load, save
from hvtui.tui.bindings import BINDINGS, FOOTER
from hvtui.tui.commands import ScenarioProvider, action_commands
from hvtui.tui.grid import VcpuGrid
from hvtui.tui.keybar import KeyBar
from hvtui.tui.legend import VcpuLegend, pack
from hvtui.tui.panels import (
    ActorsPanel,
    DetailPanel,
    EventLog,
    GridCounts,
    MessageBar,
    PropertiesPanel,
    TitleBar,
)
from hvtui.tui.screens import (
    BranchScreen,
    ChoiceScreen,
    ConfirmScreen,
    HelpScreen,
    SaveAsScreen,
    VariantScreen,
    VerdictScreen,
    jump_screen,
    recover_screen,
    reload_screen,
    unsaved_screen,
    vcpu_screen,
)
from hvtui.view import recovery
from hvtui.view.bankmap import CELLS, HALVES, ZOOM_NAMES, ZOOMS, fitting_zoom, layout
from hvtui.view.bench import Bench, Refused, run_length
from hvtui.view.glyphs import LEGEND, STATES
from hvtui.view.words import n_steps

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import SystemCommand
    from textual.screen import Screen

SLICE = 0.03  # seconds of stepping between two frames during a long run
LEGEND_MIN_HEIGHT = 40  # below this the legend starts hidden (L shows it)
RUN_LIMIT = 1_000_000  # steps the title's run length is measured up to
GC_YOUNG = 5000  # allocations between two young collections (CPython's default: 700)
QUICK_RUN = 256  # steps past the recorded ones measured at once, in the UI's own thread
COUNTS_MIN_HEIGHT = 30  # below this the cells zoom puts the state counts in the grid's title
DETAIL_MIN = 44  # columns of the selected-vCPU panel beside a dense grid
DETAIL_WIDE = 60  # and its columns from WIDE on, beside the cells (workbench.tcss's -wide)
WIDE = 120  # the terminal's columns from which the panels are -wide
TOP_ROWS = 9  # workbench.tcss's #top: the selected vCPU's rule and its seven lines
LOG_MIN = 4  # the event log's rule, its column header and two rows, on the shortest screen


class WorkbenchApp(App):
    """Step, edit, save and check one scenario at a time."""

    CSS_PATH = "workbench.tcss"
    BINDINGS = list(BINDINGS)
    COMMANDS = App.COMMANDS | {ScenarioProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
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

    def __init__(
        self,
        scenario: Scenario,
        *,
        at_end: bool = False,
        recover: bool = True,
        sources: Sequence[tuple[str, str, int | None]] = (),
    ):
        """Raises InputError when the scenario's schedule cannot be replayed.

        `recover`: offer a recovery file left by an earlier session of this scenario.
        `sources`: for a run found in a trace (`hvtui trace --open`), per step the
        actor, the kernel line and the trace line it explains (None: an untraced step).
        """
        super().__init__()
        self.bench = Bench.open(scenario, at_end=at_end)
        self.sources = tuple(sources)
        self.legend_shown: bool | None = None  # None: by the terminal's height
        self.zoom: int | None = None  # None: the most detailed zoom that shows every vCPU
        self.filter_index = -1  # into STATES; -1: every state
        self.check_line = ""
        self.checked: tuple[Scenario, Result] | None = None  # what was checked, the result
        self._recover = recover
        # The work the user chose to drop, or that is already in a recovery file: none
        # is written for it (a file opened since, or an edit since, is new work).
        self._discarded: tuple | None = None
        self._run: Worker | None = None
        self._check: Worker | None = None
        self._measure: Worker | None = None
        self._lengths: dict[tuple, int | None] = {}  # fingerprint -> length of the whole run
        self._can_step = False
        self._enabled = 0
        self._keys: tuple[bool | None, ...] = ()  # check_action per footer key, as last shown
        self._header = ""  # the event log's column header, as last shown
        self._frozen = None  # the engine whose session was last moved out of the collector's walk

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        with Vertical(id="bottom"):
            yield MessageBar(id="message")
            yield KeyBar(id="keys")
        with Horizontal(id="top"):
            with Vertical(id="gridbox"):
                yield VcpuGrid(id="grid")
                yield VcpuLegend(id="legend")
            yield DetailPanel(id="detail")
        yield GridCounts(id="counts")
        with Horizontal(id="middle"):
            yield ActorsPanel(id="actors")
            yield PropertiesPanel(id="properties")
        with Vertical(id="logbox"):
            yield Static(id="loghead")
            yield EventLog(id="log")

    def on_mount(self) -> None:
        if _sixteen_colours(self.is_headless):
            # 16 colours: theme colours and their blends land on whichever ANSI
            # colour is nearest, often the text's own; the terminal's palette is legible.
            self.theme = "ansi-dark"
        self.main.query_one("#properties").border_title = "properties"
        self.main.query_one("#logbox").border_title = "events"
        self._introduce()
        self.main.query_one(VcpuGrid).focus()
        self._place()
        self.refresh_views()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                asyncio.get_running_loop().add_signal_handler(sig, self._signalled)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        # A full collection walks every object: at 4096 vCPUs with a long trace that is
        # the tail of a step's time. The loaded session is moved out of its reach
        # (refresh_views does it again after every rebuild), and the oldest generation
        # is collected less often; reference counting still frees what a step drops.
        gc.set_threshold(GC_YOUNG, 50, 100)
        if self._recover:
            self._offer_recovery()

    def _introduce(self) -> None:
        """The scenario's description, its first sentence, where a reader looks first;
        the help screen shows all of it."""
        scenario, bar = self.bench.origin, self.main.query_one("#message", MessageBar)
        if scenario.gist:
            bar.say(f"{scenario.gist} (? for the rest)", title=scenario.name, one_line=True)
        else:
            bar.say("? shows every key; ctrl+p the palette")

    def on_resize(self, event: events.Resize) -> None:
        # The app's own size is updated by Textual's handler, which runs after this one.
        self._place(event.size)

    def _place(self, size: Size | None = None) -> None:
        """The legend by the terminal's height; the zoom, and the grid's share of the
        screen: a dense zoom takes the lines it needs (up to what leaves the panels
        below their minimum) and the width of its rows."""
        grid = self.main.query_one(VcpuGrid)
        legend = self.main.query_one(VcpuLegend)
        width, height = size or self.size
        n = self.bench.engine.n
        room_w = max(12, width - DETAIL_MIN - 1)  # 60 columns: 15, the detail keeps its 44
        shown = self.legend_shown
        if shown is None:
            shown = height >= LEGEND_MIN_HEIGHT
        css_middle = 10 if height >= LEGEND_MIN_HEIGHT else 6  # workbench.tcss's #middle

        def counted(zoom: int) -> bool:
            """The counts line shows on a tall screen, and under a dense map at any height:
            its narrow box's title has no room for them (it costs the map a line)."""
            return height >= COUNTS_MIN_HEIGHT or zoom != CELLS

        def bands(zoom: int, top: int = TOP_ROWS) -> tuple[int, int]:
            """The middle band's rows and the most the top band may take, for a top band
            that wants `top` rows. A short screen (60x20, 250x15) shrinks the middle band
            to its rule and two rows, then the top band, so the event log keeps its
            LOG_MIN rows above the keys."""
            room = height - 3 - counted(zoom)  # less the title, the message, the keys
            middle = max(3, min(css_middle, room - top - LOG_MIN))
            return middle, max(4, room - middle - LOG_MIN)

        def room_h(zoom: int, grid_width: int) -> int:
            _, top_cap = bands(zoom)
            legend_lines = len(pack(LEGEND, grid_width)) if shown else 0
            return max(3, top_cap - 1 - legend_lines)  # less the top band's rule

        zoom = self.zoom if self.zoom is not None else fitting_zoom(n, room_w, room_h)
        if self.legend_shown is None and zoom != CELLS:
            shown = False  # a dense map needs the lines more than the cells' legend
        legend.display = shown
        self.main.query_one(GridCounts).display = counted(zoom)
        rows = TOP_ROWS
        if zoom == CELLS and shown and height < LEGEND_MIN_HEIGHT:
            # L on a short screen: the cells and all of the legend, the middle band giving
            # up rows for them (a legend cut short hid `S→3 suspended on 3`)
            box_w = width - (DETAIL_WIDE if width >= WIDE else DETAIL_MIN) - 1
            rows = max(rows, layout(n, CELLS, box_w).lines + 1 + len(pack(LEGEND, box_w)))
        middle, top_cap = bands(zoom, rows)
        self.main.query_one("#middle").styles.height = middle if middle < css_middle else None
        grid.set_zoom(zoom)
        top = self.main.query_one("#top")
        box = self.main.query_one("#gridbox")
        detail = self.main.query_one(DetailPanel)
        if zoom == CELLS:
            rows = min(rows, top_cap)
            top.styles.height = rows if rows != TOP_ROWS else None
            box.styles.width = None
            detail.styles.width = None
            return
        detail.styles.width = "1fr"
        lay = layout(n, zoom, room_w)
        lines = min(lay.lines, room_h(zoom, lay.width))
        scrollbar = 0 if lines >= lay.lines else grid.styles.scrollbar_size_vertical
        # As wide as its title where there is room (4 vCPUs a char each cut it to "v…").
        box.styles.width = max(lay.width + scrollbar, min(len(self._grid_title()) + 2, room_w))
        legend_lines = len(pack(LEGEND, lay.width + scrollbar)) if shown else 0
        top.styles.height = min(max(lines + 1 + legend_lines, TOP_ROWS), top_cap)

    @property
    def selected(self) -> int:
        """The selected vCPU: the grid's cursor, which the grid's own keys move before the
        app hears of it (`] l i` typed at once: the `i` is vcpu1's, the redraw after `]`
        leaves the cursor where `l` put it)."""
        return self.main.query_one(VcpuGrid).cursor

    @property
    def main(self) -> Screen:
        """The workbench's own screen, whatever dialog is on top of it."""
        return self.screen_stack[0]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: str = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """On the message line, not a toast: a toast would cover the log's current row."""
        if not self.screen_stack:
            return
        self.main.query_one(MessageBar).say(str(message), title, severity)

    # -- redrawing -----------------------------------------------------------------

    def changed(self) -> None:
        self.post_message(self.Changed())

    def on_workbench_app_changed(self, _: Changed) -> None:
        if self.screen_stack:  # not while shutting down (a thread's last word may come late)
            self.refresh_views()

    def refresh_views(self) -> None:
        bench = self.bench
        session = bench.session
        if bench.engine is not self._frozen:
            self._frozen = bench.engine
            gc.freeze()  # a new session (opened, edited, replayed): out of the collector's walk
        grid = self.main.query_one(VcpuGrid)
        grid.show(bench.engine, session.state, bench.marked, bench.queued(), bench.violators())
        self._show_grid_box()
        self.main.query_one(DetailPanel).show(bench, self.selected, grid.waiters(self.selected))
        self.main.query_one(ActorsPanel).show(bench)
        self.main.query_one(PropertiesPanel).show(bench, self.check_line)
        log = self.main.query_one(EventLog)
        log.show(bench)
        header = log.columns.header()
        if header != self._header:  # an update relayouts the screen: only when it changes
            self._header = header
            self.main.query_one("#loghead", Static).update(Text(header), layout=False)
        self._can_step = bench.next_actor()[0] is not None
        statuses = bench.statuses()
        self._enabled = sum(st.enabled for st in statuses)
        self.title = bench.origin.name  # the terminal's title, and screenshots' names
        flags = [bench.variant, self._counter()]
        if not self._can_step and session.pos == len(session.actors):
            flags.append("end")
        unsaved = bench.unsaved()
        if unsaved:
            flags.append("unsaved")
        if bench.branches:
            flags.append(f"{len(bench.branches)} branch{'es' * (len(bench.branches) > 1)}")
        if self._run_active():
            flags.append("running")
        self.main.query_one(TitleBar).show(bench.origin.name, flags)
        keys = tuple(self.check_action(b.action, ()) is True for b, _ in FOOTER)
        if keys != self._keys:
            self._keys = keys
            self.main.query_one(KeyBar).show_keys(keys)

    def _grid_title(self) -> str:
        """`vCPUs 4096 · ½ char/vCPU · ▀▄ not idle`: the count, the zoom, the filter."""
        grid = self.main.query_one(VcpuGrid)
        only = grid.only
        parts = [f"vCPUs {self.bench.engine.n}", ZOOM_NAMES[grid.zoom]]
        if grid.zoom == HALVES:  # the cells' legend has no half blocks: say what one is
            parts.append(f"▀▄ {only.name if only is not None else 'not idle'}")
        elif only is not None:
            parts.append(f"only {only.name}")
        return " · ".join(parts)

    def _show_grid_box(self) -> None:
        grid = self.main.query_one(VcpuGrid)
        only = grid.only
        title = self._grid_title()
        counts = self.main.query_one(GridCounts)
        if not counts.display:  # a short terminal: the non-zero counts go in the title
            title = " · ".join([title] + [f"{name} {k}" for name, k in grid.counts.items() if k])
        box = self.main.query_one("#gridbox")
        if box.border_title != title:
            box.border_title = title
        counts.show(grid.counts, only.name if only else None)

    def _counter(self) -> str:
        """`step 4/17`: the position and the length of the whole run (the recorded
        steps, then round robin until nothing can step), measured in a thread;
        `step 4/10+` until it is known."""
        bench = self.bench
        pos = bench.session.pos
        known = bench.run_known()
        key = bench.fingerprint()
        if known is not None:
            self._lengths[key] = known
        if key not in self._lengths:
            # A short run is measured now (the screen is then the same every time);
            # a long one in a thread, the counter saying "+" meanwhile.
            self._lengths[key] = run_length(
                bench.program, bench.variant, bench.trace(), QUICK_RUN, bench.engine
            )
            if self._lengths[key] is None:
                self._measure = self._measure_run(key, bench.program, bench.variant, bench.trace())
        length = self._lengths[key]
        if length is None:
            return f"step {pos}/{len(bench.session.actors)}+"
        return f"step {pos}/{length}"

    @work(thread=True, group="measure", exclusive=True, exit_on_error=False)
    def _measure_run(self, key: tuple, program, variant: str, trace: list[str]) -> None:
        length = run_length(program, variant, trace, RUN_LIMIT)
        self.call_from_thread(self._measured, key, length)

    def _measured(self, key: tuple, length: int | None) -> None:
        self._lengths[key] = length
        self.changed()

    def on_vcpu_grid_selected(self, message: VcpuGrid.Selected) -> None:
        if message.vcpu == self.selected:  # not an earlier move's message, come late
            grid = self.main.query_one(VcpuGrid)
            self.main.query_one(DetailPanel).show(
                self.bench, self.selected, grid.waiters(self.selected)
            )

    def on_actors_panel_chosen(self, message: ActorsPanel.Chosen) -> None:
        self.choose_actor(message.actor)

    def choose_actor(self, actor: int) -> None:
        """`actor` takes the next step (a click on its row, or the palette's entry)."""
        if self.bench.engine.can_step(self.bench.session.state, actor):
            self._stop()
            self.bench.chosen = actor
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
        "reload": lambda app: app.bench.from_file,
        "branches": lambda app: bool(app.bench.branches),
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """None greys a key out: it would do nothing now."""
        when = self._WHEN.get(action)
        return True if when is None or when(self) else None

    # Textual's own commands that a workbench action replaces: its Quit is "app: quit"
    # (which asks first, not "as soon as possible"), Keys is "app: help", and Screenshot
    # is "view: screenshot" (which says where the file went). Two of each confused.
    _REPLACED_COMMANDS = frozenset({"Quit", "Keys", "Screenshot"})

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from action_commands(self)
        for command in super().get_system_commands(screen):
            if command.title not in self._REPLACED_COMMANDS:
                yield command

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
        was = self.bench.session.pos
        if self.bench.back_to_interest():
            self._say_interest()
        else:  # the message line must not still say where `}` or `e` left the session
            self.notify(f"no suspend, wake-up or violation before step {was}: at step 0")
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
            self.changed()  # the title said "running" until the next key

    def action_jump(self) -> None:
        session = self.bench.session
        self.push_screen(jump_screen(session.pos, len(session.actors)), self._jump_to)

    def _jump_to(self, step: int | None) -> None:
        if step is None:
            return
        self._stop()
        self.bench.goto(step)
        if self.bench.session.pos < step:
            self._start_run(interest=False, to=step)
        else:  # the message line must not still say where an earlier key left the session
            self.notify(f"at step {self.bench.session.pos}")
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
            self._say_interest()
        elif reason == "end" and interest:
            self.notify("no suspend, wake-up or violation before the end")
        elif reason == "end":
            # The violations first: "progress holds" alone read as "all is well".
            first = session.first_violations()
            verdicts = [f"{prop} violated at {step}" for prop, step in first.items()]
            done = session.progress()
            if done:
                verdicts.append(f"progress {done.verdict}")
            self.notify(
                f"the end, step {session.pos}" + (f": {'; '.join(verdicts)}" if verdicts else ""),
                severity="warning" if first else "information",
            )
        elif reason == "reached":
            self.notify(f"at step {session.pos}")

    def _say_interest(self) -> None:
        """What the step of interest the session is at did (`}` and `{` stop there)."""
        session = self.bench.session
        event = session.events[session.pos - 1]
        found = session.violations[session.pos - 1]
        what = f"violates {', '.join(found)}" if found else event.text
        self.notify(f"step {event.time}: {event.actor} {event.step}: {what}")

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
        try:
            op = self.bench.fire_flush(self.selected)
        except Refused as refused:
            self.notify(str(refused), title="not added", severity="warning")
            return
        # the set as the panels and the event log write it, not as the file will
        targets = format_targets(op.targets) + (" (all: no target marked)" * (op.spec == "all"))
        self.notify(f"vcpu{self.selected}: added {op.id}: flush {targets}")
        self.changed()

    def action_hyperv_init(self) -> None:
        self._stop()
        ops = self.bench.add_hyperv_init(self.selected)
        self.notify(f"vmm: added {', '.join(f'{op.op}({op.vcpu})' for op in ops)}")
        self.changed()

    def action_kernel_work(self) -> None:
        self._stop()
        op = self.bench.add_kernel_work(self.selected)
        self.notify(f"vcpu{self.selected}: added {op.id}: kernel_work (vmexit, vmentry)")
        self.changed()

    def action_mark(self) -> None:
        self.bench.toggle_mark(self.selected)
        self._say_marks()
        self.changed()

    def action_clear_marks(self) -> None:
        self.bench.clear_marks()
        self._say_marks()
        self.changed()

    def _say_marks(self) -> None:
        """The marked set after a mark: a far mark among 4096 vCPUs is off the grid."""
        if self.bench.marked:
            marked = format_targets(tuple(sorted(self.bench.marked)))
            self.notify(f"targets marked {marked}: f fires a flush at them")
        else:
            self.notify("no target marked: f fires a flush at every vCPU")

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
        """Read the file again; the ops added here are not in it, so ask before dropping them."""
        added = self.bench.unsaved_ops()
        if not added:
            self._reload()
            return
        self.unless_unsaved("reload", self._reload, reload_screen(added))

    def _reload(self) -> None:
        self._stop()
        try:
            what = self.bench.reload()
        except InputError as exc:
            self.notify(str(exc), title="reload failed; nothing changed", severity="error")
            return
        self.notify(what, title=f"reloaded {self.bench.origin.file}")
        self.changed()

    def open_file(self, path: str) -> None:
        """Open another scenario; asks first when the work here is not saved."""
        self.unless_unsaved(f"open {path}", lambda: self._open_file(path))

    def _open_file(self, path: str) -> None:
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
        self.main.query_one(VcpuGrid).move_cursor(0)
        self._lengths.clear()
        self._place()
        self.notify(f"opened {path}")
        self.changed()
        self._offer_recovery()

    # -- saving and screenshots ------------------------------------------------------

    def _to_scenario(self) -> Scenario:
        """The session as a described scenario; with the last check's violations when that
        check was of this very program and variant (then `hvtui check` verifies them too)."""
        violations = None
        if self.checked is not None:
            checked, result = self.checked
            if (checked.program, checked.variant) == (self.bench.program, self.bench.variant):
                violations = result.violated if result.complete else None
        return self.bench.to_scenario(violations)

    def action_save(self, then=None) -> None:
        """Ask where, then save; `then` runs once the file is written."""
        scenario = self._to_scenario()
        suggestion = _unused(Path.cwd() / f"{scenario.name}.yaml")
        self.push_screen(
            SaveAsScreen(str(suggestion), len(scenario.schedule)),
            lambda path: self.save_to(path, then=then),
        )

    def save_to(self, path: str | None, overwrite: bool = False, then=None) -> None:
        """Save atomically; an existing file is replaced only after a yes in a dialog."""
        if not path:
            return
        path = os.path.abspath(os.path.expanduser(path))
        if os.path.isdir(path):  # a folder, as `cp` takes one: the suggested name in it
            path = str(_unused(Path(path) / f"{self._to_scenario().name}.yaml"))
        if not overwrite and os.path.lexists(path):
            self.push_screen(
                ConfirmScreen(f"{path} exists. Overwrite it?", "Overwrite"),
                lambda yes: (
                    self.save_to(path, overwrite=True, then=then)
                    if yes
                    else self.notify(f"not saved: {path} exists")
                ),
            )
            return
        scenario = self._to_scenario()
        try:
            save(scenario, path, overwrite=overwrite)
        except (InputError, OSError) as exc:  # lost a race with another writer, disk full, ...
            self.notify(str(exc), title="not saved", severity="error")
            return
        self.bench.mark_saved()
        if not self.bench.unsaved():
            recovery.discard(self.bench.origin.file)
        self.notify(
            f"saved {path}: {n_steps(len(scenario.schedule))}; `hvtui run {path}` replays it"
        )
        self.changed()
        if then is not None:
            then()

    def action_screenshot(self) -> None:
        step = self.bench.session.pos
        path = _unused(Path.cwd() / f"{self.bench.origin.name}-step{step}.svg")
        saved = self.save_screenshot(filename=path.name, path=str(path.parent))
        self.notify(f"screenshot saved: {os.path.abspath(saved)}")

    # -- unsaved work ------------------------------------------------------------------

    def unless_unsaved(self, doing: str, go, question: ChoiceScreen | None = None) -> None:
        """`go()` now if nothing is unsaved; else ask: save (then go), discard (go), cancel.

        `question`: asked instead of the one about all unsaved work, when `doing` drops
        only part of it (the caller knows that part is unsaved)."""
        what = self.bench.unsaved()
        if not what and question is None:
            go()
            return

        def answer(choice: str | None) -> None:
            if choice == "save":
                self.action_save(then=go)
            elif choice == "discard":
                self._discarded = self._work()
                recovery.discard(self.bench.origin.file)
                go()

        self.push_screen(question or unsaved_screen(what, doing), answer)

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (it copies); say what does. Textual's own hint is
        markup, and the message line shows a message's text as it is."""
        self.notify("q quits the workbench (ctrl+c does not)", title="quit?")

    async def action_quit(self) -> None:
        self.unless_unsaved("quit", self.exit)

    def _signalled(self) -> None:
        """SIGTERM or SIGHUP (a closed terminal, a closed tab under serve): leave the
        unsaved work in the recovery file and end."""
        self._leave_recovery()
        self.exit()

    def on_unmount(self) -> None:
        self._leave_recovery()

    def _work(self) -> tuple:
        """Which work this is: the file and what saving it would write."""
        return self.bench.origin.file, self.bench.fingerprint()

    def _leave_recovery(self) -> None:
        if self._discarded == self._work() or not self.bench.unsaved():
            return
        try:
            path = recovery.write(self.bench.origin.file, self.bench.plain_scenario())
        except (InputError, OSError):
            return  # nowhere to write: nothing more can be done on the way out
        self._discarded = self._work()  # written once
        self.recovered_to = str(path)

    def _offer_recovery(self) -> None:
        found = recovery.find(self.bench.origin.file)
        if found is None:
            return
        path = str(recovery.recovery_path(self.bench.origin.file))

        def answer(choice: str | None) -> None:
            if choice == "recover":
                scenario = found
                replayed = self.bench.load_trace(
                    scenario.program, scenario.variant, scenario.schedule
                )
                self.bench.goto(replayed.steps)
                recovery.discard(self.bench.origin.file)
                self.notify(f"recovered from {path}: {replayed.describe()}")
                self.changed()
            elif choice == "discard":
                recovery.discard(self.bench.origin.file)
                self.notify(f"deleted {path}")

        self.push_screen(recover_screen(path, len(found.schedule)), answer)

    # -- the grid's view ---------------------------------------------------------------

    def action_zoom(self) -> None:
        grid = self.main.query_one(VcpuGrid)
        self.zoom = ZOOMS[(ZOOMS.index(grid.zoom) + 1) % len(ZOOMS)]
        self._place()
        self.notify(f"zoom: {ZOOM_NAMES[self.zoom]} (z for the next)")
        self.changed()

    def action_cycle_filter(self) -> None:
        self.filter_index = self.filter_index + 1 if self.filter_index + 1 < len(STATES) else -1
        self.use_filter(self.filter_index)

    def use_filter(self, index: int) -> None:
        self.filter_index = index
        only = STATES[index] if index >= 0 else None
        self.main.query_one(VcpuGrid).set_filter(only)
        self._place()  # the grid's title names the state: its box may widen
        self.notify(f"showing only {only.name}" if only else "showing every state")
        self.changed()

    def action_goto_vcpu(self) -> None:
        self.push_screen(vcpu_screen(self.bench.engine.n), self.select_vcpu)

    def select_vcpu(self, vcpu: int | None) -> None:
        if vcpu is None:
            return
        self.main.query_one(VcpuGrid).move_cursor(vcpu)
        self.changed()

    # -- branches ------------------------------------------------------------------------

    def action_branches(self) -> None:
        rows = [
            (b.name, f"{b.variant}, {n_steps(len(b.trace))}, left at {b.pos}: {b.why}")
            for b in self.bench.branches
        ]
        self.push_screen(BranchScreen(rows), self._branch_chosen)

    def _branch_chosen(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        what, name = choice
        if what == "switch":
            self._stop()
            replayed = self.bench.switch_branch(name)
            self.notify(
                f"on branch {name}: {replayed.describe()}", severity=_severity(replayed.why)
            )
            self.changed()
        else:
            self.compare_with(name)

    def compare_with(self, name: str | None = None, variant: str | None = None) -> None:
        """Branch `name` beside the current line, or the current line under `variant`."""
        from hvtui.tui.compare_view import CompareScreen, comparison

        self.push_screen(CompareScreen(comparison(self.bench, name, variant)))

    # -- the checker -----------------------------------------------------------------

    def action_check(self) -> None:
        if self._check is not None and self._check.is_running:
            self._check.cancel()
            self.check_line = "check: cancelled"
            self._check = None
            self.changed()
            return
        scenario = self.bench.plain_scenario()
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
            self.main.query_one(PropertiesPanel).show(self.bench, self.check_line)

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
        self.unless_unsaved(
            f"load the counterexample for {prop}", lambda: self._load_counterexample(prop)
        )

    def _load_counterexample(self, prop: str) -> None:
        scenario, result = self.checked
        schedule = result.properties[prop].schedule
        self._stop()
        replayed = self.bench.load_trace(scenario.program, scenario.variant, schedule)
        self.notify(
            f"counterexample for {prop}: {n_steps(len(schedule))}, at step 0 (] steps, e runs)",
            severity=_severity(replayed.why),
        )
        self.changed()

    # -- the rest --------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(VcpuGrid.BINDINGS, self.bench.origin))

    def action_toggle_legend(self) -> None:
        self.legend_shown = not self.main.query_one(VcpuLegend).display
        self._place()


def _sixteen_colours(headless: bool) -> bool:
    """A terminal of 16 colours: said by TEXTUAL_COLOR_SYSTEM, or by TERM without COLORTERM."""
    system = os.environ.get("TEXTUAL_COLOR_SYSTEM", "auto")
    if system != "auto":
        return system in ("standard", "windows")
    term = os.environ.get("TERM", "")
    rich = "256" in term or "truecolor" in term or os.environ.get("COLORTERM")
    return not headless and bool(term) and not rich


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
