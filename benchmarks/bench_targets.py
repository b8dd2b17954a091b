"""`hvtui check`'s targets, met or not, as one table (CPU time, one run).

    python benchmarks/bench_targets.py [--quick] [--stretch-seconds S]

- every scenario in scenarios/ checks completely under `--variant all` in at
  most 60 s of CPU per file (many-vcpus-4096 is the stretch, below);
- many-vcpus at 256 vCPUs (generated: 4 banks of 64, the first and last
  banks' heads inhibited in user mode, every other vCPU flushing its bank's
  head and itself, as the 4096 file does) completely, every variant, in at
  most 60 s;
- the family of benchmarks/three-flushers-vs-vcpu3.yaml, every variant, in
  at most 15 s;
- stretch: many-vcpus at 1024 (generated, 16 banks) and the 4096 file, under
  `posted`, stopped at --stretch-seconds (wall) each: states, seconds and
  CPU milliseconds per state (the cost of expanding one, replaying the
  witness included).

`--quick` skips the stretch rows.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from hvtui.check.search import Options, Result, check
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

ROOT = Path(__file__).resolve().parent.parent
THREE_FLUSHERS = Path(__file__).resolve().parent / "three-flushers-vs-vcpu3.yaml"
BANK = 64  # vCPUs per sparse bank


def many_vcpus(n: int, heads_flush: bool = False) -> scenarios.Scenario:
    """many-vcpus-4096's shape at n vCPUs: the first and last banks' heads are
    inhibited in user mode; every other vCPU flushes its bank's head and itself.
    With `heads_flush`, as in the 4096 file, an uninhibited head flushes itself."""
    heads = [0, n - BANK] if n > BANK else [0]
    lines = [
        f"name: many-vcpus-{n}",
        f"vcpus: {n}",
        "variant: posted",
        "initial:",
        f"  inhibit: {heads}",
        "  mode: {" + ", ".join(f"{h}: user" for h in heads) + "}",
        "actors:",
    ]
    for c in range(n):
        head = c - c % BANK
        targets = [head, c] if c % BANK else [c] if heads_flush and c not in heads else None
        if targets:
            lines.append(f"  vcpu{c}: [{{id: f{c}, op: flush, targets: {targets}}}]")
    return scenarios.parse("\n".join(lines) + "\n", f"many-vcpus-{n} (generated)")


def every_variant(scenario: scenarios.Scenario, options: Options) -> tuple[list[Result], float]:
    """`--variant all`: the results and the CPU seconds they took together."""
    started = time.process_time()
    results = [check(scenario, variant, options) for variant in VARIANTS]
    return results, time.process_time() - started


def row(target: str, results: list[Result], seconds: float, limit: float | None) -> str:
    states = sum(r.states for r in results)
    complete = all(r.complete for r in results)
    if limit is None:
        met = "stretch"
    else:
        met = "met" if complete and seconds <= limit else "NOT MET"
    bounds = {r.bound for r in results if r.bound}
    end = "complete" if complete else f"incomplete ({', '.join(sorted(bounds))})"
    budget = f"{limit:g}" if limit is not None else "-"
    return f"{target:<50} {states:>10,} {seconds:>8.2f} {budget:>6} {met:<8} {end}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="no stretch rows")
    parser.add_argument("--stretch-seconds", type=float, default=120.0)
    args = parser.parse_args()
    header = f"{'target':<50} {'states':>10} {'CPU s':>8} {'limit':>6} {'':<8} end"
    print(header)
    print("-" * len(header))
    options = Options()
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if path.name == "many-vcpus-4096.yaml":
            continue  # the stretch row
        results, seconds = every_variant(scenarios.load(str(path)), options)
        print(row(f"{path.name} --variant all", results, seconds, 60), flush=True)
    results, seconds = every_variant(many_vcpus(256), options)
    print(row("many-vcpus-256 --variant all", results, seconds, 60), flush=True)
    results, seconds = every_variant(scenarios.load(str(THREE_FLUSHERS)), options)
    print(row("three-flushers-vs-vcpu3 --variant all", results, seconds, 15), flush=True)
    if args.quick:
        return
    stretch = replace(options, max_seconds=args.stretch_seconds)
    file_4096 = scenarios.load(str(ROOT / "scenarios" / "many-vcpus-4096.yaml"))
    for label, scenario in (
        ("many-vcpus-1024 posted", many_vcpus(1024)),
        ("many-vcpus-4096.yaml posted", file_4096),
    ):
        started = time.process_time()
        result = check(scenario, "posted", stretch)
        seconds = time.process_time() - started
        print(row(label, [result], seconds, None), flush=True)
        per_state = seconds / max(result.states, 1) * 1000
        print(f"{'':<50} {per_state:>10.3f} ms of CPU per state", flush=True)


if __name__ == "__main__":
    main()
