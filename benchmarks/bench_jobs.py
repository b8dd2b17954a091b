"""Does `hvtui check --jobs N` pay? Wall time and CPU time, --jobs 1 against 2.

    python benchmarks/bench_jobs.py [--jobs 1,2] [--runs R]

Two workloads through the real CLI (a subprocess each, so the CPU time is
the command's own plus its workers', as the shell's `time` reports it):

- family: `check benchmarks/three-flushers-vs-vcpu3.yaml --variant all`
  (8 checks, one of them, request-first, most of the work);
- scenarios: `check scenarios/*.yaml --variant all` without
  many-vcpus-4096.yaml, which does not end (it stops at the memory limit,
  after as long as the machine has RAM; see bench_targets.py's stretch rows).

Workers pay if the wall time falls while the CPU time stays about the same
(the extra CPU is the workers' interpreters starting and the results crossing
the pipe). The load average is printed before and after: on a shared machine
a second worker only gets a second core if nobody else holds it. Each run's
output, with its clock figures blanked, must be the same for every N.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from hvtui.model.variants import VARIANTS

ROOT = Path(__file__).resolve().parent.parent
FAMILY = ["benchmarks/three-flushers-vs-vcpu3.yaml"]
SCENARIOS = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "scenarios").glob("*.yaml")
    if p.name != "many-vcpus-4096.yaml"
)
_CLOCK = re.compile(r"\d+\.\d\d s \([\d,]+ states/s\)")


def measure(files: list[str], jobs: int) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its workers, output without clocks)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hvtui", "check", "--quiet", "--variant", "all",
         "--jobs", str(jobs), *files],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"--jobs {jobs}: exit {done.returncode}\n{done.stderr}")
    return wall, cpu, _CLOCK.sub("-", done.stdout)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1,2", help="the --jobs values, comma-separated")
    parser.add_argument("--runs", type=int, default=1, help="runs of each; the fastest is kept")
    args = parser.parse_args()
    counts = [int(n) for n in args.jobs.split(",")]
    print(f"{os.cpu_count()} CPUs; load average {load()} (1, 5, 15 min) before")
    print(f"{'workload':<10} {'checks':>6} {'--jobs':>6} {'wall s':>8} {'CPU s':>8} "
          f"{'wall vs 1':>9} {'CPU vs 1':>9}")  # fmt: skip
    for name, files in (("family", FAMILY), ("scenarios", SCENARIOS)):
        first = None
        for jobs in counts:
            runs = [measure(files, jobs) for _ in range(args.runs)]
            wall, cpu, out = min(runs)
            if first is None:
                first = (wall, cpu, out)
            elif out != first[2]:
                raise SystemExit(f"{name}: --jobs {jobs} printed something else than {counts[0]}")
            print(
                f"{name:<10} {len(files) * len(VARIANTS):>6} {jobs:>6} {wall:>8.2f} {cpu:>8.2f} "
                f"{wall / first[0]:>8.2f}x {cpu / first[1]:>8.2f}x"
            )
    print(f"load average {load()} after; outputs identical for every --jobs")


if __name__ == "__main__":
    main()
