"""What the workbench tests share: the demo, the screen as text, and the reference.

The reference for "the session is right" is always the same: a fresh
Session of the bench's program and variant, replaying the recorded actors
up to the current position. Stepping back, editing the program, switching
the variant and random keys are all held against it.
"""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.geometry import Region
from textual.widget import Widget

from hvtui.model.engine import Engine
from hvtui.model.session import Session
from hvtui.model.state import State
from hvtui.model.variants import VARIANTS
from hvtui.scenario.load import Scenario, load, parse
from hvtui.tui.app import WorkbenchApp
from hvtui.view.bench import Bench, Refused

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "reviewer-race.yaml"

# vcpu0 flushes the inhibited vcpu1 and suspends on it; the VMM kicks vcpu1
# out of KVM_RUN, clears its flag (waking vcpu0) and runs it again.
SUSPEND_WAKE = """
name: suspend-wake
vcpus: 3
initial: {inhibit: [1]}
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
  vmm:
    - {id: kick, op: exit, vcpu: 1}
    - {id: clr, op: set_inhibit, vcpu: 1, value: false}
    - {id: run1, op: run, vcpu: 1}
"""

# Three vCPUs with nothing to do; vcpu2 starts outside KVM_RUN.
IDLE = """
name: idle
vcpus: 3
initial: {mode: {2: user}}
actors: {}
"""


def demo() -> Scenario:
    return load(str(DEMO))


def scenario(text: str, file: str = "test.yaml") -> Scenario:
    return parse(text, file)


def app_on(text_or_scenario: str | Scenario, **kw) -> WorkbenchApp:
    s = text_or_scenario if isinstance(text_or_scenario, Scenario) else scenario(text_or_scenario)
    return WorkbenchApp(s, **kw)


@asynccontextmanager
async def opened(app: App, size: tuple[int, int] = (100, 30)) -> AsyncIterator:
    """The app under the Pilot, notifications on (the tests read them), first frame drawn."""
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        yield pilot


async def settle(pilot) -> None:
    """Let the app run until none of its workers is running (a cancelled one counts as done;
    Textual's own wait_for_complete raises for those)."""
    while any(worker.is_running for worker in pilot.app.workers):
        await pilot.pause(0.05)
    await pilot.pause()


def on_file(tmp_path: Path, text: str) -> tuple[Path, Bench]:
    """`text` written to a scenario file, and a Bench opened on it (for reload tests)."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path, Bench.open(load(str(path)))


def replayed_state(bench: Bench) -> State:
    """The state a fresh session reaches by replaying the bench's actors up to its position."""
    session = Session(Engine(bench.program, VARIANTS[bench.variant]))
    for actor in bench.session.actors[: bench.session.pos]:
        session.step(actor)
    return session.state


def screen_lines(app: App) -> list[str]:
    """The terminal's lines as plain text: what a person reads."""
    console = Console(file=io.StringIO(), width=app.size.width, record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()


def widget_lines(widget: Widget) -> list[str]:
    """The lines one widget draws (its titled top rule first), as plain text.

    Read from the widget itself, so a notification floating over it does not hide it.
    """
    width, height = widget.outer_size
    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, width, height))]


def widget_text(widget: Widget) -> str:
    return "\n".join(widget_lines(widget))


def toasts(app: App) -> str:
    """The message line (the workbench's notifications) as one text, however it wraps."""
    from hvtui.tui.panels import MessageBar

    return " ".join(app.screen_stack[0].query_one(MessageBar).said.split())


def random_session(rng: random.Random, path: str, after=lambda bench: None) -> Bench:
    """A reviewer's random session on one library scenario: steps, choices, edits.

    `after(bench)` is called after every action, for checks that must hold throughout.
    """
    bench = Bench.open(load(path))
    n = bench.engine.n
    for _ in range(rng.randrange(5, 40)):
        what = rng.random()
        if what < 0.45:
            bench.step()
        elif what < 0.55:
            bench.back()
        elif what < 0.65:
            bench.cycle_actor()
        elif what < 0.72:
            bench.toggle_inhibit(rng.randrange(n))
        elif what < 0.79:
            bench.toggle_mark(rng.randrange(n))
        elif what < 0.85:
            c = rng.randrange(n)
            try:
                bench.fire_flush(c)
            except Refused:  # the one flush the model refuses, and the session is unchanged
                assert c in bench.program.initial_no_hyperv
        elif what < 0.9:
            bench.switch_variant(rng.choice(sorted(VARIANTS)))
        elif what < 0.95:
            bench.goto(rng.randrange(len(bench.session.actors) + 1))
        else:
            bench.advance(rng.randrange(1, 30), interest=True)
        after(bench)
    return bench
