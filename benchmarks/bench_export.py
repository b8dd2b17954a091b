"""How long each export takes as the machine grows: prints a table, asserts nothing.

    python benchmarks/bench_export.py [--sizes 64,512,4096]

The program is many-vcpus-4096's at N vCPUs: five bank leaders inhibited,
every other vCPU flushes its bank's leader and itself. `replay` is the run
every export starts from (`hvtui run`'s); each format column is the render
alone; `lines` is the diagram's length (wrapped rows make it longer than the
step count, folding shorter); `compare` is `hvtui compare --variants
posted,no-sync` without its printing. The cast export is left out: it drives
the workbench, whose frame cost benchmarks/bench_workbench.py measures.
"""

from __future__ import annotations

import argparse
import time

from hvtui.cli.export import render
from hvtui.model.engine import Engine
from hvtui.model.variants import VARIANTS
from hvtui.runs.compare import compare_variants
from hvtui.runs.runner import replay_to_end
from hvtui.scenario.load import parse

FORMATS = ("diagram", "markdown", "mermaid", "json", "perfetto")


def program(n: int) -> str:
    leaders = sorted(
        {0, 64 * (n // 64 // 5), 64 * (n // 64 // 2), 64 * (n // 64 - 1)} & set(range(0, n, 64))
    )
    lines = [
        f"name: bench-{n}",
        f"vcpus: {n}",
        "initial:",
        f"  inhibit: [{', '.join(map(str, leaders))}]",
        "  mode: {" + ", ".join(f"{c}: user" for c in leaders) + "}",
        "actors:",
    ]
    for c in range(n):
        if c not in leaders:
            lead = 64 * (c // 64)
            targets = f"[{lead}, {c}]" if lead != c else f"[{c}]"
            lines.append(f"  vcpu{c}: [{{op: flush, targets: {targets}}}]")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,512,4096")
    sizes = [int(s) for s in ap.parse_args().sizes.split(",")]
    print(
        f"{'vcpus':>6} {'steps':>7} {'replay s':>9} "
        + " ".join(f"{f + ' s':>10}" for f in FORMATS)
        + f" {'lines':>7} {'compare s':>10}"
    )
    for n in sizes:
        scenario = parse(program(n), f"bench-{n}.yaml")
        t0 = time.perf_counter()
        session = replay_to_end(scenario)
        replay = time.perf_counter() - t0
        cells = []
        lines = 0
        for fmt in FORMATS:
            t0 = time.perf_counter()
            text = render(fmt, scenario, session)
            cells.append(time.perf_counter() - t0)
            if fmt == "diagram":
                lines = text.count("\n")
        t0 = time.perf_counter()
        engines = [Engine(scenario.program, VARIANTS[v]) for v in ("posted", "no-sync")]
        compare_variants(*engines, scenario.schedule, ("posted", "no-sync"))
        compared = time.perf_counter() - t0
        print(
            f"{n:>6} {session.pos:>7} {replay:>9.2f} "
            + " ".join(f"{c:>10.2f}" for c in cells)
            + f" {lines:>7} {compared:>10.2f}"
        )


if __name__ == "__main__":
    main()
