"""Three independent computations of the verdicts, on thousands of random scenarios.

    .venv/bin/python benchmarks/sweep_engines.py --scenarios 2000 --seed 1
    .venv/bin/python benchmarks/sweep_engines.py --scenarios 40 --spin 40 --seed 7

Each scenario is drawn by tests/sweep_scenarios.py (the reviewer's race
and its neighbours, uninhibit scans, hot-plugged vCPUs, self-flushes,
random ops: every v2 feature, 2-6 vCPUs), written as a YAML file and read
back through the loader (its Program compared with one read from the
document independently), and decided under every variant by the reference
model (tests/reference/model.py, written from the series' code, no
reduction), by `hvtui check` with every reduction, with none, and with every one but
one (each of `--no-por`, `--no-symmetry`, ... in turn), and, for
the first --spin scenarios, by `hvtui check --engine spin`. Per variant
and per pair of engines it prints how many checks were compared and how
many disagreed; each counterexample is also replayed on the reference and
through `hvtui run --schedule`. Each disagreement is printed, and its
scenario written (shrunk: ops and initial entries dropped while the
disagreement stays) under --out. A scenario whose reference search passes
--max-states is decided by the hvtui engines only (counted as too big).

Exit 1 if anything disagreed. Printed last: the CPU time it took (spin,
gcc and pan included).
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reference.engines import (  # noqa: E402
    ONE_OFF,
    PAIRS,
    decide,
    disagreements,
    read_independently,
)
from scenario_strategies import yaml_text  # noqa: E402
from sweep_scenarios import FAMILIES, scenario  # noqa: E402

from hvtui.atomic import write_file  # noqa: E402
from hvtui.model.variants import VARIANTS  # noqa: E402
from hvtui.scenario.load import load  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spin", type=int, default=0, help="how many of them SPIN decides too")
    parser.add_argument("--max-states", type=int, default=30_000, help="the reference's bound")
    parser.add_argument("--family", choices=sorted(set(FAMILIES)), help="draw only this kind")
    parser.add_argument("--no-run", action="store_true", help="skip the `hvtui run` replays")
    parser.add_argument("--out", default="sweep-disagreements", help="where shrunk ones go")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    compared: Counter = Counter()  # (pair, variant) -> checks compared
    differ: Counter = Counter()  # (pair, variant) -> checks that disagreed
    seen: Counter = Counter()  # (variant, property, verdict) of the reference
    too_big = incomplete = misread = 0
    bad: list[str] = []
    start = cpu()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.scenarios):
            doc = scenario(rng, i, args.family)
            path = os.path.join(tmp, f"sweep-{i}.yaml")
            write_file(path, yaml_text(doc).encode(), overwrite=True)
            if load(path).program != read_independently(doc):
                misread += 1
                bad.append(f"MISREAD {path}: the loader's Program is not the file's")
                print(bad[-1], yaml_text(doc), sep="\n", flush=True)
            for k, variant in enumerate(VARIANTS):
                # one reduction off in turn, each over every variant alike
                off = ONE_OFF[(i * len(VARIANTS) + k) % len(ONE_OFF)]
                decided = decide(path, variant, args.max_states, spin=i < args.spin, off=off)
                if "ref" not in decided.claims:
                    too_big += 1
                if decided.incomplete:
                    incomplete += 1
                for prop, claim in decided.claims.get("ref", {}).items():
                    seen[variant, prop, claim.verdict] += 1
                found = disagreements(decided, run_cli=not args.no_run)
                for a, b in PAIRS:
                    if a in decided.claims and b in decided.claims:
                        compared[f"{a}~{b}", variant] += 1
                for pair in {pair for pair, _ in found}:
                    differ[pair, variant] += 1
                if found:
                    bad.append(report(doc, variant, found, off, args))
                    print(bad[-1], flush=True)
            if (i + 1) % 250 == 0 and i + 1 < args.scenarios:  # a long sweep's counts so far
                print_counts(compared, differ, seen, too_big, incomplete, misread, i + 1)
                print(f"cpu {cpu() - start:.1f} s; disagreements {len(bad)}")
    print_counts(compared, differ, seen, too_big, incomplete, misread, args.scenarios)
    print(f"cpu {cpu() - start:.1f} s; disagreements {len(bad)}")
    return 1 if bad else 0


def cpu() -> float:
    """This process's CPU time and its children's (spin, gcc, pan)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def print_counts(compared, differ, seen, too_big, incomplete, misread, scenarios) -> None:
    print(f"scenarios {scenarios}, checks {scenarios * len(VARIANTS)}", flush=True)
    print(f"files the loader read otherwise than tests/reference/engines.py: {misread}")
    print(f"reference beyond its bound: {too_big} checks; an hvtui engine incomplete: {incomplete}")
    pairs = [f"{a}~{b}" for a, b in PAIRS]
    print(f"{'variant':18}" + "".join(f"{p:>14}" for p in pairs) + "   (compared/disagreed)")
    for variant in VARIANTS:
        cells = [f"{compared[p, variant]}/{differ[p, variant]}" for p in pairs]
        print(f"{variant:18}" + "".join(f"{c:>14}" for c in cells), flush=True)
    print("reference verdicts seen (variant: property violated/holds/blocked-by-design):")
    props = sorted({p for _, p, _ in seen})
    for variant in VARIANTS:
        cells = [
            f"{prop}={seen[variant, prop, 'violated']}/{seen[variant, prop, 'holds']}"
            + (f"/{seen[variant, prop, 'blocked-by-design']}" if prop == "progress" else "")
            for prop in props
        ]
        print(f"  {variant}: " + " ".join(cells))


def report(doc: dict, variant: str, found, off: str, args) -> str:
    """The disagreement, and its scenario shrunk and written under --out
    with what the shrunk one disagrees on."""
    small, found = shrink(doc, variant, found, off, args)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{small['name']}-{variant}.yaml")
    lines = [f"# {pair}: {what}" for pair, what in found]
    write_file(path, ("\n".join(lines) + "\n" + yaml_text(small)).encode(), overwrite=True)
    return f"DISAGREE {variant} (off: --no-{off}) {path}\n" + "\n".join(
        f"  {p}: {w}" for p, w in found
    )


def shrink(doc: dict, variant: str, found, off: str, args):
    """Drop ops and initial entries one at a time while one of the pairs (or
    engines) of `found` still disagrees: the smallest document, and what it
    disagrees on."""
    pairs = {pair for pair, _ in found}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "shrink.yaml")

        def still(candidate: dict):
            try:
                write_file(path, yaml_text(candidate).encode(), overwrite=True)
                decided = decide(path, variant, args.max_states, "ref~spin" in pairs, off=off)
            except Exception:  # the loader refuses what dropping made (an empty actor ...)
                return None
            left = disagreements(decided, not args.no_run)
            return left if any(pair in pairs for pair, _ in left) else None

        changed = True
        while changed:
            changed = False
            for candidate in smaller(doc):
                left = still(candidate)
                if left:
                    doc, found, changed = candidate, left, True
                    break
    return doc, found


def smaller(doc: dict):
    """Each document with one op, one actor or one initial entry less."""
    for actor, ops in doc["actors"].items():
        for j in range(len(ops)):
            d = copy.deepcopy(doc)
            del d["actors"][actor][j]
            if not d["actors"][actor]:
                del d["actors"][actor]
            yield d
    for key, value in doc.get("initial", {}).items():
        items = list(value.items()) if isinstance(value, dict) else list(value)
        for j in range(len(items)):
            d = copy.deepcopy(doc)
            rest = items[:j] + items[j + 1 :]
            d["initial"][key] = dict(rest) if isinstance(value, dict) else rest
            if not rest:
                del d["initial"][key]
            if not d["initial"]:
                del d["initial"]
            yield d


if __name__ == "__main__":
    sys.exit(main())
