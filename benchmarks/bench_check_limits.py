"""How a check that cannot finish ends: memory per state, time to the default limit, Ctrl-C.

    python benchmarks/bench_check_limits.py [--seconds S] [FILE]

On scenarios/many-vcpus-4096.yaml (by default), through the real CLI:

1. `check --progress --max-seconds S`: from its progress lines, states/s
   and resident memory per stored state, so the time the default limit
   (half of RAM) takes to end the search can be projected;
2. `check --progress`, SIGINT once the first progress line is out: how
   long from the signal to exit 130 with the verdict table printed (the
   clock is read every 512 units of work, a state's expansion weighing
   as much as its live actors).
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from hvtui.check.limits import default_max_memory, format_size, parse_size

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"([\d,]+) states, depth \d+, ([\d,]+) states/s, memory ([\d.]+[KMGT])")


def check(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hvtui", "check", "--progress", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def growth(path: str, seconds: float) -> None:
    proc = check("--max-seconds", str(seconds), path)
    out, err = proc.communicate()
    points = [
        (int(m[1].replace(",", "")), int(m[2].replace(",", "")), parse_size(m[3]))
        for m in map(LINE.search, err.splitlines())
        if m
    ]
    (first, _, mem0), (last, rate, mem1) = points[0], points[-1]
    per_state = (mem1 - mem0) / max(1, last - first)
    limit = default_max_memory()
    print(f"check --max-seconds {seconds:g}: exit {proc.returncode}, {last:,} states")
    print(f"  {rate:,} states/s; {per_state:,.0f} bytes resident per stored state")
    if limit:
        states = (limit - mem0) / per_state
        print(
            f"  default limit {format_size(limit)}: reached after ~{states:,.0f} states, "
            f"~{states / rate / 60:.0f} min at this rate"
        )
    print("  " + next(line for line in out.splitlines() if "INCOMPLETE" in line).strip())


def ctrl_c(path: str) -> None:
    proc = check(path)
    shown = proc.stderr.readline().strip()
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate()
    took = time.perf_counter() - sent
    print(f"Ctrl-C after `{shown[:60]}...`:")
    print(f"  exit {proc.returncode} {took * 1000:.0f} ms after SIGINT (wall)")
    print("  " + next(line for line in out.splitlines() if "INCOMPLETE" in line).strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default="scenarios/many-vcpus-4096.yaml")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    growth(args.file, args.seconds)
    ctrl_c(args.file)


if __name__ == "__main__":
    main()
