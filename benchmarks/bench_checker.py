"""`hvtui check` speed: states/s and time, with and without each reduction.

    python benchmarks/bench_checker.py [--quick] [--max-states N] [--only TEXT]
    python benchmarks/bench_checker.py --workload three-flushers [--against REV]

Three workloads, printed as one table:

- `three-flushers` (benchmarks/three-flushers-vs-vcpu3.yaml): 4 vCPUs, three
  flushers (all, mask 0x9, [3]) against vcpu3, inhibited in user mode while
  the VMM clears, sets and clears its flag; under every variant, with all
  reductions on and with none, no state bound. The speed figure of record;
  `--against REV` runs the same checks on revision REV's tree (870f5cf: the
  tree the family was first measured on) and prints the ratios;
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
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import family_rate

from hvtui.check.search import Options, Result, check
from hvtui.scenario import load as scenarios

ROOT = Path(__file__).resolve().parent.parent

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
    """The issue's family under every variant, all reductions on and none
    (bounded at family_rate.OFF_BOUND states): prints a line each, returns
    config -> (states, CPU seconds) summed."""
    totals: dict[str, tuple[int, float]] = {}
    shortening = {"all": 0, "none": 0}  # states of the shortening passes (all: no-sync's)
    for config, variant, result, took in family_rate.checks():
        print(row(f"three-flushers {variant}", config, result, took, None), flush=True)
        states, seconds = totals.get(config, (0, 0.0))
        totals[config] = (states + result.states, seconds + took)
        shortening[config] += result.reductions.get("shorten", {}).get("states", 0)
    for config, (states, seconds) in totals.items():
        print(total_line(config, states, seconds))
        if shortening[config]:  # its time is in the figure above, its states are not
            both = states + shortening[config]
            print(
                f"  and {shortening[config]:,} states in the passes that shorten "
                f"counterexamples: {both / seconds:,.0f} states/s explored in all"
            )
    return totals


def total_line(config: str, states: int, seconds: float, tree: str = "") -> str:
    return (
        f"three-flushers, every variant, {config:<5} {states:>9,} states "
        f"{seconds:7.2f} s CPU {states / seconds:>9,.0f} states/s{tree}"
    )


def against(rev: str, today: dict[str, tuple[int, float]]) -> None:
    """The family on the tree of `rev` (git archive into a temporary directory,
    family_rate.py in a child whose PYTHONPATH puts that tree first), beside
    today's figures: the before/after in one run, on one machine."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "hvtui"], capture_output=True, check=True
    ).stdout
    print(f"\n{rev}'s tree, the same checks:")
    before: dict[str, tuple[int, float, int]] = {}  # config -> states, seconds, variants
    with tempfile.TemporaryDirectory() as tree:
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(tree, filter="data")
        env = {**os.environ, "PYTHONPATH": tree}
        command = [sys.executable, family_rate.__file__]
        with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as child:
            imported = json.loads(child.stdout.readline())["hvtui"]
            if not imported.startswith(tree):
                sys.exit(f"--against {rev}: the child imported {imported}, not {rev}'s tree")
            for line in map(json.loads, child.stdout):
                end = "complete" if line["complete"] else "BOUND"
                print(
                    f"  {line['variant']:<20} {line['config']:<5} {line['states']:>9,} "
                    f"states {line['seconds']:7.2f} s CPU {end}",
                    flush=True,
                )
                states, seconds, variants = before.get(line["config"], (0, 0.0, 0))
                before[line["config"]] = (
                    states + line["states"],
                    seconds + line["seconds"],
                    variants + 1,
                )
        if child.returncode:
            sys.exit(f"--against {rev}: family_rate.py exited {child.returncode}")
    for config, (states, seconds, variants) in before.items():
        print(total_line(config, states, seconds, f"  ({rev}: {variants} variants)"))
        now_states, now_seconds = today[config]
        print(
            f"  today: {now_states / now_seconds / (states / seconds):.1f}x the states/s; "
            f"the family in {now_seconds / seconds:.0%} of the CPU time"
        )


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
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also run the family on git revision REV's hvtui/ and compare, e.g. "
        "870f5cf (the tree the family was first measured on: 19k states/s)",
    )
    args = parser.parse_args()

    header = (
        f"{'scenario':<34} {'config':<15} {'states':>9} {'transitions':>10} "
        f"{'seconds':>8} {'states/s':>9} {'vs none':>6} {'end':<8} violated (length)"
    )
    print(header)
    print("-" * len(header))
    today = three_flushers()
    if args.against:
        against(args.against, today)
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
