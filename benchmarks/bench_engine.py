"""Headless replay speed: atomic steps per second at 4 to 4096 vCPUs.

    python benchmarks/bench_engine.py [--sizes N...] [--repeat K] [--profile N]

The workload (see `workload`) is what `hvtui run` does with a scenario that
has no schedule: `Session.run()` in the round-robin default order, with
the property monitor judging every step and the history the workbench
keeps (who stepped, what each step violated, a checkpoint state every
CHECKPOINT steps; events are made from it when read, which is not timed
here). Every vCPU issues
flushes to its two neighbours while the VMM keeps inhibiting two vCPUs and
clearing them again, so vCPUs suspend, the unsuspend scan walks all N
vCPUs, and finished vCPUs pile up for the round robin to skip. The flush
count is scaled so each size runs ~100k+ steps: enough to time, and the
same shape of work at every size. `--repeat K` times each size K times
and keeps the least CPU time: on a shared machine the others' load only
ever adds to it.

Also: the wall time of `hvtui run --help` (the CLI's cold start) and the
heaviest imports on that path, from `python -X importtime`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

from hvtui.model.engine import Engine
from hvtui.model.session import Session
from hvtui.model.state import Exit, Flush, Program, Run, SetInhibit
from hvtui.model.variants import POSTED

ROOT = Path(__file__).resolve().parent.parent
SIZES = (4, 64, 1024, 4096)
TOTAL_FLUSHES = 16384  # over all vCPUs, whatever N: keeps the step count comparable


def inhibited(n: int) -> list[int]:
    """The few vCPUs the VMM inhibits: two, far apart (one when N = 1)."""
    return sorted({1 % n, (n // 2 + 1) % n})


def workload(n: int, total_flushes: int = TOTAL_FLUSHES) -> Program:
    """Every vCPU flushes its two neighbours; the VMM inhibits and clears a few.

    Each vCPU gets total_flushes / n flushes; the VMM runs one inhibit/clear
    cycle per four flushes a vCPU makes, so it is busy for the whole run at
    every N. A VMM cycle kicks each inhibited vCPU out of KVM_RUN (`exit`),
    sets its flag and lets it run again, then does the same to clear it:
    the clear wakes every vCPU suspended on it.
    """
    per_vcpu = max(1, total_flushes // n)
    vcpu_ops = tuple(
        tuple(
            Flush(f"f{c}.{j}", tuple(sorted({(c + 1) % n, (c + 2) % n}))) for j in range(per_vcpu)
        )
        for c in range(n)
    )
    ops: list = []
    for r in range(max(1, per_vcpu // 4)):
        for value in (True, False):
            for x in inhibited(n):
                tag = f"{r}.{x}.{int(value)}"
                ops += [
                    Exit(f"kick{tag}", x),
                    SetInhibit(f"inh{tag}", x, value),
                    Run(f"run{tag}", x),
                ]
    return Program(n, vcpu_ops, (("vmm", tuple(ops)),))


def replay(n: int) -> tuple[Session, float]:
    """Session.run() to the end, as `hvtui run` does; returns it and CPU seconds."""
    session = Session(Engine(workload(n), POSTED))
    start = time.process_time()
    session.run()
    return session, time.process_time() - start


def cli_help_ms(runs: int = 5) -> float:
    """Best wall time of `python -m hvtui run --help`, in ms."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hvtui", "run", "--help"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        best = min(best, time.perf_counter() - start)
    return best * 1000


def python_startup_ms(runs: int = 5) -> float:
    """Best wall time of a bare `python -c pass`: the floor under any CLI."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def heaviest_imports(top: int = 8) -> list[tuple[int, str]]:
    """(cumulative us, module) of the slowest imports of `hvtui run --help`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hvtui", "run", "--help"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if not name.startswith(" "):  # top-level imports only: children are inside them
            rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=1, metavar="K", help="best of K runs")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile the replay at N vCPUs")
    args = parser.parse_args()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(replay, args.profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    print(f"headless replay (Session.run, round robin, monitor + history), pid {os.getpid()}")
    print(f"best of {args.repeat}, CPU time")
    print(f"{'vcpus':>6} {'steps':>8} {'cpu s':>7} {'steps/s':>9}")
    for n in args.sizes:
        session, seconds = min((replay(n) for _ in range(args.repeat)), key=lambda r: r[1])
        assert session.at_end and session.progress().verdict == "holds", session.progress()
        print(f"{n:>6} {session.pos:>8} {seconds:>7.2f} {session.pos / seconds:>9,.0f}")
    print()
    print(f"python -c pass:      {python_startup_ms():6.1f} ms wall (best of 5)")
    print(f"hvtui run --help:    {cli_help_ms():6.1f} ms wall (best of 5)")
    print("heaviest top-level imports of `run --help` (python -X importtime, cumulative):")
    for us, name in heaviest_imports():
        print(f"  {us / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
