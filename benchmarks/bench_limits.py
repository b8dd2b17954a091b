"""Limits: 4096 vCPUs and 100k steps in bounded memory, step back in milliseconds.

    python benchmarks/bench_limits.py [--steps N] [--vcpus N]

Replays bench_engine's workload (every vCPU flushes its neighbours while
the VMM inhibits and clears a few) for 100k steps at 4096 vCPUs, then
prints the peak RSS of the process, the memory the session's history holds
(actors, events, verdicts, checkpoints: every object reachable from them,
counted once) split by part, and the CPU time of stepping back from the end
-- the worst case replays CHECKPOINT - 1 steps from the checkpoint below.
Targets: history <= 100 MB, one step back <= 16 ms of CPU.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import workload  # noqa: E402

from hvtui.model.engine import Engine  # noqa: E402
from hvtui.model.session import CHECKPOINT, Session  # noqa: E402
from hvtui.model.variants import POSTED  # noqa: E402

# Shared by every session, not history: types, modules, functions, code.
_NOT_DATA = (type, type(sys), type(len), type(lambda: 0), type((lambda: 0).__code__))


def deep_size(root: object, seen: set[int]) -> int:
    """Bytes of every object reachable from root not in `seen` (which it extends)."""
    total = 0
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _NOT_DATA):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def history_bytes(session: Session) -> dict[str, int]:
    """Memory held by each part of the history; shared objects count once, first part wins."""
    seen: set[int] = {id(session.engine)}
    seen.update(id(x) for x in (session.engine.program, session.engine.variant))
    parts = {
        "actors": session.actors,
        "events": session.events,
        "violations": session.violations,
        "checkpoints": session._checkpoints,
    }
    return {name: deep_size(part, seen) for name, part in parts.items()}


def step_back_ms(session: Session, count: int = 2 * CHECKPOINT) -> list[float]:
    """CPU ms of each of `count` successive step-backs from the end."""
    out = []
    for _ in range(count):
        start = time.process_time()
        session.back()
        out.append((time.process_time() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vcpus", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace allocations (slower, and it inflates the peak RSS)",
    )
    args = parser.parse_args()

    n, steps = args.vcpus, args.steps
    if args.tracemalloc:
        tracemalloc.start()
    session = Session(Engine(workload(n, total_flushes=steps // 6), POSTED))  # ~7 steps a flush
    start = time.process_time()
    taken = session.run(steps)
    seconds = time.process_time() - start
    traced, traced_peak = tracemalloc.get_traced_memory()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB
    print(
        f"{n} vCPUs, {taken} steps replayed in {seconds:.1f} s CPU "
        f"({taken / seconds:,.0f} steps/s), CHECKPOINT = {CHECKPOINT}"
    )
    assert taken == steps, "the workload ran out of steps: raise total_flushes"

    parts = history_bytes(session)
    total = sum(parts.values())
    print(f"history: {total / 2**20:.1f} MiB ({total / taken:.0f} B/step)")
    for name, size in parts.items():
        print(f"  {name:<12} {size / 2**20:7.1f} MiB")
    if args.tracemalloc:
        print(
            f"allocated by the replay (tracemalloc): {traced / 2**20:.1f} MiB now, "
            f"{traced_peak / 2**20:.1f} MiB at peak"
        )
    print(f"peak RSS of this process: {peak_rss:.1f} MiB")

    backs = step_back_ms(session)
    print(
        f"step back from step {taken}: median {statistics.median(backs):.2f} ms, "
        f"worst {max(backs):.2f} ms CPU over {len(backs)} steps back"
    )
    session.goto(taken)
    start = time.process_time()
    session.goto(0)
    print(f"goto(0) from the end: {(time.process_time() - start) * 1000:.2f} ms CPU")


if __name__ == "__main__":
    main()
