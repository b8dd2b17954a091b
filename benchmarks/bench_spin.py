"""Both engines side by side: every scenario in scenarios/ under every variant,
then benchmarks/three-flushers-vs-vcpu3.yaml (three flushers against vCPU3
while the VMM clears, sets and clears its flag) under every variant, end to
end.

For each check: states and CPU seconds of `hvtui check` (default
reductions) and of `check --engine spin`, SPIN's split into spin -a, gcc
and pan (children's CPU time), plus the Python side (model generation,
trail replay). Pans are compiled into a fresh cache, so SPIN's figures
include the compiler, as a first check does; `--warm` reruns SPIN with the
cache full. `runs`: pan runs (one per violation found, plus one).
Verdicts must agree; a disagreement is printed and fails.

    .venv/bin/python benchmarks/bench_spin.py [--family-only] [--warm] [FILE...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from hvtui.check.search import check
from hvtui.errors import InputError
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios
from hvtui.spin import check as spin

ROOT = Path(__file__).resolve().parent.parent
FAMILY = ROOT / "benchmarks" / "three-flushers-vs-vcpu3.yaml"
BIG = "many-vcpus-4096.yaml"


def verdicts(result) -> dict:
    return {
        p: (v.verdict, None if v.schedule is None else len(v.schedule))
        for p, v in result.properties.items()
    }


def measure(fn, *args):
    """(fn(*args), CPU seconds of this process)."""
    start = time.process_time()
    out = fn(*args)
    return out, time.process_time() - start


def bench(path: Path, warm: bool) -> tuple[list[str], dict, bool]:
    scenario = scenarios.load(str(path))
    rows, totals, agree = [], dict.fromkeys(("hvtui", "spin", "cc", "pan", "warm"), 0.0), True
    for variant in VARIANTS:
        ours, ours_cpu = measure(check, scenario, variant)
        try:
            theirs, py_cpu = measure(spin.check, scenario, variant)
        except InputError as refused:
            rows.append(f"{path.name:34} {variant:18} {ours.states:>9,} {ours_cpu:7.2f}  {refused}")
            totals["hvtui"] += ours_cpu
            continue
        t = theirs.times
        spin_cpu = t.total + py_cpu
        same = verdicts(ours) == verdicts(theirs) if ours.complete and theirs.complete else None
        agree &= same is not False
        line = (
            f"{path.name:34} {variant:18} {ours.states:>9,} {ours_cpu:7.2f} "
            f"{theirs.states:>9,} {spin_cpu:7.2f} {t.spin:6.2f} {t.cc:6.2f} {t.pan:6.2f} "
            f"{py_cpu:6.2f} {t.runs:4}"
        )
        if warm:
            again, again_py = measure(spin.check, scenario, variant)
            w = again.times.total + again_py
            totals["warm"] += w
            line += f" {w:6.2f}"
        rows.append(line + ("" if same else "  DISAGREE" if same is False else "  incomplete"))
        for key, value in (("hvtui", ours_cpu), ("spin", spin_cpu), ("cc", t.cc), ("pan", t.pan)):
            totals[key] += value
    return rows, totals, agree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--family-only", action="store_true")
    parser.add_argument("--warm", action="store_true", help="also SPIN again, pans cached")
    args = parser.parse_args()
    files = args.files or ([] if args.family_only else sorted((ROOT / "scenarios").glob("*.yaml")))
    if not args.files and files:
        # 4096 vCPUs: neither engine completes it (hvtui runs to its memory limit; the
        # Promela model is 19 MB of one scheduler process); benchmarks/bench_checker.py
        # measures the hvtui side
        files = [f for f in files if f.name != BIG]
        print(f"left out: scenarios/{BIG} (name it to include it)")
    header = (
        f"{'file':34} {'variant':18} {'hv states':>9} {'hv cpu':>7} "
        f"{'spin st.':>9} {'spin':>7} {'spin-a':>6} {'gcc':>6} {'pan':>6} {'py':>6} {'runs':>4}"
        + (f" {'warm':>6}" if args.warm else "")
    )
    ok = True
    for group, paths in (("matrix", files), ("family", [FAMILY])):
        if not paths:
            continue
        print(f"\n== {group}: CPU seconds; spin = spin -a + gcc + pan + Python\n{header}")
        grand = dict.fromkeys(("hvtui", "spin", "cc", "pan", "warm"), 0.0)
        for path in paths:
            rows, totals, agree = bench(path, args.warm)
            ok &= agree
            print("\n".join(rows), flush=True)
            for key in grand:
                grand[key] += totals[key]
        print(
            f"-- {group} total: hvtui {grand['hvtui']:.1f} s; spin {grand['spin']:.1f} s "
            f"(gcc {grand['cc']:.1f}, pan {grand['pan']:.1f})"
            + (f"; spin with pans cached {grand['warm']:.1f} s" if args.warm else "")
        )
    if not ok:
        print("the engines DISAGREE somewhere above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-spin-cache-") as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # pans compiled afresh, removed after
        sys.exit(main())
