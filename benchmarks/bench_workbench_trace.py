"""The workbench on long traces: does a key stay cheap at 1k, 10k and 100k events?

    python benchmarks/bench_workbench_trace.py [--sizes 1000,10000,100000] [--presses 40]

Prints, for traces of each size (2 vCPUs; vcpu0 flushes vcpu1 over and over,
5 atomic steps a flush), in one run so the sizes compare:

- open: WorkbenchApp(at_end=True), i.e. the run to the end before the first frame;
- step / back: CPU per key ([ and ] at the end of the trace), key to frame;
- rows drawn: event-log rows built per key (the Line API draws what is in view);
- edit: CPU of `i` (toggle inhibit), which replays the whole trace on the new program;
- variant: CPU of switching the variant (a replay too).

CPU time (time.process_time), so a busy machine inflates it less than wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402
from textual.keys import _get_unicode_name_from_key  # noqa: E402

from hvtui.scenario.load import parse  # noqa: E402
from hvtui.tui.app import WorkbenchApp  # noqa: E402
from hvtui.tui.panels import EventLog  # noqa: E402


def scenario(events_wanted: int):
    flushes = max(1, events_wanted // 5)
    ops = "".join(f"    - {{id: f{i}, op: flush, targets: [1]}}\n" for i in range(flushes))
    text = f"name: long-{events_wanted}\nvcpus: 2\nactors:\n  vcpu0:\n{ops}"
    return parse(text, f"long-{events_wanted}.yaml")


async def key(pilot, name: str) -> float:
    """CPU seconds from sending the key to the app having handled it and drawn."""
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(name))
    except KeyError:
        char = name if len(name) == 1 else None
    start = time.process_time()
    pilot.app.post_message(events.Key(name, char))
    await pilot.pause()
    await pilot.pause()
    return time.process_time() - start


async def measure(size: int, presses: int) -> dict:
    s = scenario(size)
    start = time.process_time()
    app = WorkbenchApp(s, at_end=True)
    opened = time.process_time() - start
    rows = 0
    real_row = EventLog.row

    def counting_row(self, i):
        nonlocal rows
        rows += 1
        return real_row(self, i)

    EventLog.row = counting_row
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            events_count = len(app.bench.session.events)
            backs, steps = [], []
            rows = 0
            for _ in range(presses):
                backs.append(await key(pilot, "left_square_bracket"))
            for _ in range(presses):
                steps.append(await key(pilot, "right_square_bracket"))
            rows_per_key = rows / (2 * presses)
            edit = await key(pilot, "i")
            await key(pilot, "escape")
            variant = time.process_time()
            app.use_variant("no-sync")
            await pilot.pause()
            variant = time.process_time() - variant
    finally:
        EventLog.row = real_row
    return {
        "events": events_count,
        "open": opened,
        "back": statistics.median(backs),
        "step": statistics.median(steps),
        "rows": rows_per_key,
        "edit": edit,
        "variant": variant,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'events':>8} {'open':>8} {'step':>8} {'back':>8} {'rows/key':>9} "
        f"{'edit (i)':>9} {'variant':>9}"
    )
    for size in sizes:
        r = asyncio.run(measure(size, args.presses))
        print(
            f"{r['events']:>8} {r['open']:>7.2f}s {r['step'] * 1000:>6.1f}ms "
            f"{r['back'] * 1000:>6.1f}ms {r['rows']:>9.1f} {r['edit']:>8.2f}s "
            f"{r['variant']:>8.2f}s"
        )


if __name__ == "__main__":
    main()
