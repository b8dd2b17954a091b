"""Thousands of random keys: the workbench never breaks and never shows a wrong state.

A seeded generator presses every binding of the one table (and the grid's
keys, and the keys a dialog wants: digits, enter, escape, y, n), resizes
the terminal now and then, and after every key holds the session against
an independent replay: a separate Session of the bench's program and
variant, stepping the same recorded actors. Back past step 0, forward past
the end, edits during a run or a check, dialogs left open: all of it.

1200 keys by default (about 2 minutes of CPU); HVTUI_RANDOM_KEYS=N runs N
times as many. Keys are posted straight to the app and followed by `pilot.pause()` (the
app has handled them) rather than `pilot.press`, whose idle waits would
cost more than the key; the key handling is the same.
"""

from __future__ import annotations

import os
import random
import time
import unicodedata

from textual import events
from textual.keys import _get_unicode_name_from_key
from workbench_support import DEMO, app_on, replayed_state, scenario, settle, widget_text

from hvtui.model.engine import Engine
from hvtui.model.session import Session
from hvtui.model.variants import VARIANTS
from hvtui.scenario.load import load
from hvtui.tui.app import WorkbenchApp
from hvtui.tui.bindings import BINDINGS
from hvtui.tui.grid import VcpuGrid
from hvtui.tui.panels import TitleBar
from hvtui.view.bench import Bench

APP_KEYS = [b.key.split(",")[0] for b in BINDINGS if b.action != "quit"]
# Keys that open a dialog cost a screen each (~5 keys' worth): pressed, but less often.
DIALOG_OPENERS = {"question_mark", "g", "v", "s", "t", "c"}
WEIGHTED = [k for k in APP_KEYS for _ in range(1 if k in DIALOG_OPENERS else 3)]
GRID_KEYS = [b.key.split(",")[0] for b in VcpuGrid.BINDINGS] + ["h", "j", "k", "l"]
# escape often enough that dialogs do not swallow most of the keys
DIALOG_KEYS = list("0123456789yn") + ["enter", "tab", "down", "up"] + ["escape"] * 15
SIZES = [(80, 24), (120, 40), (60, 20), (200, 60), (100, 30)]


def presses(default: int) -> int:
    """The default keeps the suite quick; HVTUI_RANDOM_KEYS=3 (say) makes a longer soak."""
    return int(default * float(os.environ.get("HVTUI_RANDOM_KEYS", "1")))


# 4096 vCPUs: vcpu0 flushes two targets, one of them inhibited; the VMM
# kicks and clears it. Short runs, so every key's replay stays cheap.
BIG = """
name: big
vcpus: 4096
initial: {inhibit: [4095]}
actors:
  vcpu0: [{id: f, op: flush, targets: [1, 4095]}]
  vcpu2048: [{id: g, op: flush, targets: {sparse: {63: 0x8000000000000000}}}]
  vmm:
    - {id: kick, op: exit, vcpu: 4095}
    - {id: clr, op: set_inhibit, vcpu: 4095, value: false}
    - {id: back, op: run, vcpu: 4095}
"""


class Replay:
    """An independent session following the bench's recorded actors.

    It is rebuilt from nothing whenever the program or the variant changes,
    and otherwise steps only what changed since the last look, so a
    thousand keys cost a thousand short replays, not a thousand long ones.
    """

    def __init__(self) -> None:
        self.key = None
        self.session: Session | None = None

    def state(self, bench):
        key = (bench.program, bench.variant)
        if key != self.key:
            self.key = key
            self.session = Session(Engine(bench.program, VARIANTS[bench.variant]))
        ref = self.session
        wanted = bench.session.actors[: bench.session.pos]
        same = 0
        while same < min(len(ref.actors), len(wanted)) and ref.actors[same] == wanted[same]:
            same += 1
        ref.goto(same)
        for actor in wanted[same:]:
            ref.step(actor)  # a recorded future of its own that differs is dropped
        return ref.state


async def press(pilot, key: str) -> None:
    """Send one key as the terminal would (with its character), and let the app handle it."""
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        char = key if len(key) == 1 else None
    pilot.app.post_message(events.Key(key, char))
    await pilot.pause()


async def random_keys(app: WorkbenchApp, presses: int, seed: int, keys: list[str]) -> dict:
    rng = random.Random(seed)
    reference = Replay()
    seen = {"keys": 0, "resizes": 0, "max_steps": 0, "edits": 0, "checks": 0, "dialogs": 0}
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        for _ in range(presses):
            if rng.random() < 0.02:
                await pilot.resize_terminal(*rng.choice(SIZES))
                seen["resizes"] += 1
            else:
                for key in rng.choice(keys).split():  # "m f": mark, then fire
                    await press(pilot, key)
                    seen["keys"] += 1
                    seen["edits"] += key in ("i", "f", "v", "r")
                    seen["checks"] += key == "c"
            if app.screen is not app.screen_stack[0]:
                seen["dialogs"] += 1
            bench = app.bench
            session = bench.session
            assert 0 <= session.pos <= len(session.actors)
            assert session.state == reference.state(bench)
            seen["max_steps"] = max(seen["max_steps"], len(session.actors))
            if not app._run_active() and app.screen is app.screen_stack[0]:
                # what the screen says agrees with the session
                shown = widget_text(app.query_one(TitleBar))
                assert f"step {session.pos}/" in shown
                assert ("unsaved" in shown) == bool(app.bench.unsaved())
        if app._check is not None:
            app._check.cancel()
        await settle(pilot)
    return seen


async def test_random_keys_on_the_demo_and_a_suspend_wake_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # saves and screenshots land here
    start, cpu = time.perf_counter(), time.process_time()
    pool = WEIGHTED + GRID_KEYS + DIALOG_KEYS
    demo_keys, other_keys = presses(700), presses(300)
    seen = await random_keys(WorkbenchApp(load(str(DEMO))), demo_keys, seed=1, keys=pool)
    assert seen["keys"] > 0.95 * demo_keys and seen["resizes"] > 0.005 * demo_keys
    assert seen["edits"] > 0.04 * demo_keys and seen["checks"] > 0.005 * demo_keys
    assert 0.02 * demo_keys < seen["dialogs"] < 0.7 * demo_keys
    text = (DEMO.parent / "basic-suspend-wake.yaml").read_text()
    seen = await random_keys(app_on(text), other_keys, seed=2, keys=pool)
    assert seen["keys"] > 0.9 * other_keys
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    total = demo_keys + other_keys
    print(f"random keys, small: {total} presses, {wall:.1f} s ({cpu:.1f} s CPU)", seen)


async def test_random_keys_at_4096_vcpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start, cpu = time.perf_counter(), time.process_time()
    # A flush at all 4096 vCPUs is 12k atomic steps; here `f` fires at the
    # marked vCPUs, so mark one first wherever `f` comes up.
    pool = [k for k in WEIGHTED + GRID_KEYS + DIALOG_KEYS if k != "f"] + ["m f"] * 3
    count = presses(200)
    seen = await random_keys(WorkbenchApp(scenario(BIG)), count, seed=3, keys=pool)
    assert seen["keys"] > 0.9 * count
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"random keys, 4096 vCPUs: {count} presses, {wall:.1f} s ({cpu:.1f} s CPU)", seen)


def test_the_reference_replay_agrees_with_a_replay_from_scratch():
    bench = Bench.open(load(str(DEMO)))
    bench.advance(9)
    assert Replay().state(bench) == replayed_state(bench) == bench.session.state
