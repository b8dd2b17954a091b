"""CPU time from a keypress to the frame that shows it, at 64, 1024 and 4096 vCPUs.

    python benchmarks/bench_workbench.py [--presses N] [--sizes 64,1024,4096]

Prints, in one run, the median and p99 CPU time (time.process_time, not wall
time: the Pilot's waits cost wall time, not CPU) per keypress for step
forward, step back, toggle inhibit and a cursor move, and the time to the
first frame. The grid alone (a host app with just VcpuGrid and its legend)
is measured next to the whole workbench, so a slow frame can be pinned on
the grid or on the panels around it.

A keypress's cost runs from just before the key is sent to the end of the
last frame the key caused (Screen._compositor_refresh: the compositor
renders every dirty line, as it does for a terminal). Headless: writing the
escape codes to a real terminal is not included. Targets (CONTRACT): median
<= 8 ms and p99 <= 16 ms at 4096 vCPUs; first frame <= 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
import unicodedata
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.binding import Binding  # noqa: E402
from textual.keys import _get_unicode_name_from_key  # noqa: E402
from textual.screen import Screen  # noqa: E402

from hvtui.scenario.load import Scenario, parse, replay  # noqa: E402
from hvtui.tui.grid import VcpuGrid  # noqa: E402
from hvtui.tui.legend import VcpuLegend  # noqa: E402

SIZE = (120, 40)
QUIET = 0.05  # seconds without a frame after which a keypress counts as done
# An unbound key: what the event loop costs with nothing to do.
FLOOR = "unbound (floor)"


def bench_scenario(vcpus: int) -> Scenario:
    """Sixteen busy vCPUs in a machine of `vcpus`: flushes that suspend, wake and complete.

    vcpu0 flushes the inhibited vcpu7 and suspends on it; the others flush
    their neighbours; the VMM clears vcpu7's flag (after an exit, which the
    ioctl's mutex needs) so the suspended vCPUs wake and retry.
    """
    lines = [f"name: bench-{vcpus}", f"vcpus: {vcpus}", "initial: {inhibit: [7]}", "actors:"]
    lines.append("  vcpu0: [{id: f0, op: flush, targets: [7]}]")
    for c in range(1, 16):
        targets = sorted({(c + d) % vcpus for d in (1, 2, 3)} | {vcpus - 1})
        ops = ", ".join(f"{{id: f{c}x{k}, op: flush, targets: {targets}}}" for k in range(3))
        lines.append(f"  vcpu{c}: [{ops}]")
    lines.append("  vmm:")
    lines.append("    - {id: kick, op: exit, vcpu: 7}")
    lines.append("    - {id: clr, op: set_inhibit, vcpu: 7, value: false}")
    lines.append("    - {id: run7, op: run, vcpu: 7}")
    return parse("\n".join(lines) + "\n", f"<bench-{vcpus}>")


class FrameClock:
    """The CPU time at the end of each frame the screen renders.

    A frame is a compositor refresh (dirty lines) or a layout refresh (after
    a resize, a scroll or a widget changing size): the two ways Textual paints.
    """

    PAINTERS = ("_compositor_refresh", "_refresh_layout")

    def __init__(self) -> None:
        self.frames: list[float] = []
        self._originals = {name: getattr(Screen, name) for name in self.PAINTERS}

    def __enter__(self) -> FrameClock:
        for name, original in self._originals.items():
            setattr(Screen, name, self._timed(original))
        return self

    def _timed(self, original):
        def timed(screen: Screen, *args, **kwargs):
            result = original(screen, *args, **kwargs)
            self.frames.append(time.process_time())
            return result

        return timed

    def __exit__(self, *exc: object) -> None:
        for name, original in self._originals.items():
            setattr(Screen, name, original)


class GridAlone(App):
    """Just the grid and its legend over a session: `n` steps, `p` steps back."""

    BINDINGS = [Binding("n", "step", "Step"), Binding("p", "back", "Back")]

    def __init__(self, scenario: Scenario):
        super().__init__()
        self.session = replay(scenario)

    def compose(self) -> ComposeResult:
        yield VcpuGrid()
        yield VcpuLegend()

    def on_mount(self) -> None:
        self.query_one(VcpuGrid).focus()
        self._show()

    def _show(self) -> None:
        self.query_one(VcpuGrid).show(self.session.engine, self.session.state)

    def action_step(self) -> None:
        self.session.step_default()
        self._show()

    def action_back(self) -> None:
        self.session.back()
        self._show()


def send_key(app: App, key: str) -> None:
    """What a terminal driver does with a keypress: one Key event, no waiting.

    The Pilot's press() also walks every widget waiting for the screen to
    settle, which costs CPU a real keypress never pays; so keys go in this
    way and the benchmark waits on the wall clock instead, which is free.
    """
    char = key if len(key) == 1 else None
    with contextlib.suppress(KeyError):
        char = unicodedata.lookup(_get_unicode_name_from_key(key))
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def settle(clock: FrameClock) -> None:
    """Wait (wall time, no CPU) until QUIET seconds have passed without a frame."""
    quiet_since = time.monotonic()
    frames = len(clock.frames)
    while time.monotonic() - quiet_since < QUIET:
        await asyncio.sleep(0.005)
        if len(clock.frames) != frames:
            frames = len(clock.frames)
            quiet_since = time.monotonic()


async def measure(make_app, keys: dict[str, str], presses: int) -> dict[str, object]:
    """First-frame time, then `presses` presses of each key, in the order given."""
    results: dict[str, object] = {}
    with FrameClock() as clock:
        start = time.process_time()
        app = make_app()
        async with app.run_test(size=SIZE):
            await settle(clock)
            results["first frame"] = clock.frames[0] - start if clock.frames else None
            for label, key in keys.items():
                costs = []
                unseen = 0
                for _ in range(presses):
                    clock.frames.clear()
                    before = time.process_time()
                    send_key(app, key)
                    await settle(clock)
                    if clock.frames:
                        costs.append(clock.frames[-1] - before)
                    else:  # nothing on screen changed (e.g. a step that only moves a pc)
                        unseen += 1
                        costs.append(time.process_time() - before)
                results[label] = costs
                results[f"{label} (no frame)"] = unseen
    return results


def workbench_factory(scenario: Scenario):
    try:
        from hvtui.tui.app import WorkbenchApp
    except ImportError:
        return None
    return lambda: WorkbenchApp(scenario)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def report(title: str, rows: dict[int, dict[str, object]]) -> None:
    print(f"\n{title}  (CPU ms per keypress -> frame; {SIZE[0]}x{SIZE[1]} terminal)")
    print(f"{'vcpus':>6}  {'key':<16} {'median':>8} {'p99':>8} {'max':>8}")
    for vcpus, results in rows.items():
        for label, value in results.items():
            if label == "first frame" or label.endswith("(no frame)"):
                continue
            median = statistics.median(value)
            p99 = statistics.quantiles(value, n=100, method="inclusive")[98]
            unseen = results[f"{label} (no frame)"]
            note = f"  ({unseen} of them drew nothing)" if unseen and label != FLOOR else ""
            print(f"{vcpus:>6}  {label:<16} {ms(median)} {ms(p99)} {ms(max(value))}{note}")
    for vcpus, results in rows.items():
        first = results["first frame"]
        print(f"{vcpus:>6}  first frame: {ms(first) if first is not None else '   (none)'} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--sizes", default="64,1024,4096")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    grid_rows = {}
    bench_rows = {}
    for vcpus in sizes:
        scenario = bench_scenario(vcpus)
        keys = {"step forward": "n", "step back": "p", "cursor right": "right", FLOOR: "f12"}
        grid_rows[vcpus] = asyncio.run(measure(partial(GridAlone, scenario), keys, args.presses))
        factory = workbench_factory(scenario)
        if factory is not None:
            keys = {
                "step forward": "right_square_bracket",
                "step back": "left_square_bracket",
                "toggle inhibit": "i",
                "cursor right": "right",
                FLOOR: "f12",
            }
            bench_rows[vcpus] = asyncio.run(measure(factory, keys, args.presses))

    report("VcpuGrid alone", grid_rows)
    if bench_rows:
        report("WorkbenchApp", bench_rows)
    else:
        print("\nWorkbenchApp: hvtui.tui.app.WorkbenchApp is not there yet; grid alone only.")


if __name__ == "__main__":
    main()
