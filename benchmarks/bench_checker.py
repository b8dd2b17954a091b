"""`hvtui check` speed: states/s and time, with and without each reduction.

    python benchmarks/bench_checker.py [--quick] [--max-states N] [--only TEXT]
    python benchmarks/bench_checker.py --workload three-flushers

Three workloads, printed as one table:

- `three-flushers` (benchmarks/three-flushers-vs-vcpu3.yaml): 4 vCPUs, three
  flushers (all, mask 0x9, [3]) against vcpu3, inhibited in user mode while
  the VMM clears, sets and clears its flag; under every variant, with all
  reductions on and with none, no state bound. The speed figure of record;
- every scenario in scenarios/ (whatever is there), under its own variant;
- a family that grows: `n` vCPUs of which `f` flush (twins: the same flush
  of every other vCPU) and `t` VMM threads, each kicking one of the flushed
  vCPUs out, inhibiting it, running it, and clearing the flag again.

Each line is one check under one configuration: all reductions on, then
each one switched off, then none (dedup alone), and for the smallest
sizes the tree search (no dedup). "vs none" is the configuration's states
as a fraction of the unreduced search's (same verdicts: the tests prove
it). A check that hits --max-states says so in the "end" column; its
counts are lower bounds. Times are CPU time (time.process_time): the
machine is shared, and wall clock would count the others' work.
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

ALL = Options()
CONFIGS = {
    "all": ALL,
    "no-generations": replace(ALL, generations=False),
    "no-symmetry": replace(ALL, symmetry=False),
    "no-por": replace(ALL, por=False),
    "no-slicing": replace(ALL, slicing=False),
    "no-banks": replace(ALL, banks=False),
    "no-commuting": replace(ALL, commuting=False),
    "none": Options(generations=False, slicing=False, symmetry=False, por=False),
    "tree": Options(dedup=False, generations=False, slicing=False, symmetry=False, por=False),
}
OFF_BOUND = 300_000  # states per unreduced check of the three-flushers family
TREE_UP_TO = 150  # the tree search only where the unreduced graph is this small

SIZES = [
    (2, 1, 1),
    (3, 1, 1),
    (3, 2, 1),
    (4, 2, 1),
    (4, 3, 1),
    (4, 2, 2),
    (5, 3, 1),
    (5, 3, 2),
    (6, 3, 2),
]
QUICK_SIZES = [(2, 1, 1), (3, 2, 1), (4, 2, 2)]


def family(n: int, flushers: int, threads: int) -> scenarios.Scenario:
    """n vCPUs: vcpu0..f-1 flush all the others; VMM thread j cycles vcpu f+j."""
    targets = list(range(flushers, n))
    lines = [f"name: family-{n}v-{flushers}f-{threads}t", f"vcpus: {n}", "actors:"]
    for c in range(flushers):
        lines.append(f"  vcpu{c}: [{{id: f{c}, op: flush, targets: {targets}}}]")
    for j in range(threads):
        x = targets[j % len(targets)]
        name = "vmm" if j == 0 else f"vmm:{j}"
        lines.append(f"  '{name}':")
        for k, (op, extra) in enumerate(
            [
                ("exit", ""),
                ("set_inhibit", ", value: true"),
                ("run", ""),
                ("exit", ""),
                ("set_inhibit", ", value: false"),
                ("run", ""),
            ]
        ):
            lines.append(f"    - {{id: t{j}o{k}, op: {op}, vcpu: {x}{extra}}}")
    return scenarios.parse("\n".join(lines) + "\n", f"family({n},{flushers},{threads})")


def measure(
    scenario: scenarios.Scenario, options: Options, variant: str | None = None
) -> tuple[Result, float]:
    """The check's result and the CPU seconds it took."""
    started = time.process_time()
    result = check(scenario, variant, options)
    return result, time.process_time() - started


def signature(result: Result) -> str:
    """The verdicts, short: which properties fail (with lengths) and progress."""
    failing = [
        f"{p.split('-')[0]}{p.split('-')[1][:1] if '-' in p else ''}({len(v.schedule)})"
        for p, v in result.properties.items()
        if v.verdict == "violated"
    ]
    return " ".join(failing) or "-"


def row(label: str, config: str, result: Result, seconds: float, baseline: int | None) -> str:
    rate = result.states / seconds if seconds > 0 else 0.0
    ratio = f"{result.states / baseline:6.2f}" if baseline and result.complete else "     -"
    end = "complete" if result.complete else "BOUND"
    return (
        f"{label:<34} {config:<15} {result.states:>9,} {result.transitions:>10,} "
        f"{seconds:>8.2f} {rate:>9,.0f} {ratio} {end:<8} {signature(result)}"
    )


def bench(label: str, scenario: scenarios.Scenario, max_states: int) -> list[str]:
    out = []
    plain, plain_s = measure(scenario, replace(CONFIGS["none"], max_states=max_states))
    baseline = plain.states if plain.complete else None
    for config, options in CONFIGS.items():
        if config == "tree" and (baseline is None or baseline > TREE_UP_TO):
            continue
        if config == "none":
            result, seconds = plain, plain_s
        else:
            result, seconds = measure(scenario, replace(options, max_states=max_states))
        out.append(row(label, config, result, seconds, baseline))
        print(out[-1], flush=True)
    return out


def three_flushers() -> dict[str, tuple[int, float]]:
    """The issue's family under every variant, all reductions on and none (that
    one bounded at OFF_BOUND states): prints a line each, returns config ->
    (states, CPU seconds) summed."""
    scenario = scenarios.load(str(THREE_FLUSHERS))
    totals: dict[str, tuple[int, float]] = {}
    shortening = {"all": 0, "none": 0}  # states of the shortening passes (all: no-sync's)
    for config in ("all", "none"):
        states = seconds = 0.0
        for variant in VARIANTS:
            # unreduced, request-first alone has millions of states: a rate, not a verdict
            options = (
                CONFIGS[config]
                if config == "all"
                else replace(CONFIGS[config], max_states=OFF_BOUND)
            )
            result, took = measure(scenario, options, variant)
            print(row(f"three-flushers {variant}", config, result, took, None), flush=True)
            states += result.states
            seconds += took
            shortening[config] += result.reductions.get("shorten", {}).get("states", 0)
        totals[config] = (int(states), seconds)
    for config, (states, seconds) in totals.items():
        print(
            f"three-flushers, every variant, {config:<5} {states:>9,} states "
            f"{seconds:7.2f} s CPU {states / seconds:>9,.0f} states/s"
        )
        if shortening[config]:  # its time is in the figure above, its states are not
            both = states + shortening[config]
            print(
                f"  and {shortening[config]:,} states in the passes that shorten "
                f"counterexamples: {both / seconds:,.0f} states/s explored in all"
            )
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three family sizes, no scenarios")
    parser.add_argument("--max-states", type=int, default=100_000)
    parser.add_argument("--only", default="", help="only lines whose label contains this")
    parser.add_argument(
        "--workload",
        choices=["all", "three-flushers"],
        default="all",
        help="three-flushers: only the issue's family, every variant",
    )
    args = parser.parse_args()

    header = (
        f"{'scenario':<34} {'config':<15} {'states':>9} {'transitions':>10} "
        f"{'seconds':>8} {'states/s':>9} {'vs none':>6} {'end':<8} violated (length)"
    )
    print(header)
    print("-" * len(header))
    three_flushers()
    if args.workload == "three-flushers":
        return
    work: list[tuple[str, scenarios.Scenario]] = []
    if not args.quick:
        for path in sorted((ROOT / "scenarios").glob("*.yaml")):
            work.append((path.name, scenarios.load(str(path))))
    for n, f, t in QUICK_SIZES if args.quick else SIZES:
        work.append((f"family {n} vCPUs, {f} flushers, {t} VMM", family(n, f, t)))
    started = time.process_time()
    for label, scenario in work:
        if args.only in label:
            bench(label, scenario, args.max_states)
    print(f"\ntotal {time.process_time() - started:.1f} s CPU; --max-states {args.max_states:,}")


if __name__ == "__main__":
    main()
