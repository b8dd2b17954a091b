"""The wide path's growth: many-vcpus at 256 to 4096 vCPUs (CPU time, one run).

    python benchmarks/bench_wide.py [--quick] [--max-seconds S]

The 64 banks of many-vcpus-4096 never touch each other (each flush names
its bank's head and itself; no VMM op), so with the partial order's
persistent sets the states a complete check needs grow with the sum of
the banks, not their product. Each row is one check: the scenario, its
banks, states, transitions, CPU seconds, CPU milliseconds per state, and
states per bank (which stays flat where the growth is a sum). Rows:

- many-vcpus-N as benchmarks/bench_targets.py makes it (bank heads do
  nothing) at 256 under every variant, and at 1024 and 2048 under `posted`;
- the 4096 file's own shape (uninhibited heads flush themselves too) at
  1024 and 2048, then the file itself, under `posted`.

`--quick` stops after 1024; `--max-seconds` bounds each check (wall clock).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench_targets import BANK, ROOT, many_vcpus

from hvtui.check.search import Options, check
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios


def row(label: str, scenario: scenarios.Scenario, variant: str, options: Options) -> None:
    started = time.process_time()
    result = check(scenario, variant, options)
    seconds = time.process_time() - started
    banks = scenario.program.vcpus // BANK
    end = "complete" if result.complete else f"incomplete ({result.bound})"
    print(
        f"{label:<34} {variant:<18} {banks:>5} {result.states:>9,} {result.transitions:>10,}"
        f" {seconds:>8.2f} {seconds / max(result.states, 1) * 1000:>8.3f}"
        f" {result.states / banks:>9.1f}  {end}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="stop after 1024 vCPUs")
    parser.add_argument("--max-seconds", type=float, default=None)
    args = parser.parse_args()
    options = Options(max_seconds=args.max_seconds)
    header = (
        f"{'scenario':<34} {'variant':<18} {'banks':>5} {'states':>9} {'trans':>10}"
        f" {'CPU s':>8} {'ms/state':>8} {'per bank':>9}  end"
    )
    print(header)
    print("-" * len(header))
    for variant in VARIANTS:
        row("many-vcpus-256", many_vcpus(256), variant, options)
    rows = [("many-vcpus-1024", many_vcpus(1024))]
    rows.append(("many-vcpus-1024 (heads flush)", many_vcpus(1024, heads_flush=True)))
    if not args.quick:
        rows.append(("many-vcpus-2048", many_vcpus(2048)))
        rows.append(("many-vcpus-2048 (heads flush)", many_vcpus(2048, heads_flush=True)))
        path = Path(ROOT) / "scenarios" / "many-vcpus-4096.yaml"
        rows.append(("many-vcpus-4096.yaml", scenarios.load(str(path))))
    for label, scenario in rows:
        row(label, scenario, "posted", options)


if __name__ == "__main__":
    main()
