"""What the partial-order reduction's choice costs, apart from the rest of a check.

    python benchmarks/bench_por_cost.py [--repeat N] [VARIANT ...]

On the three-flushers family (benchmarks/three-flushers-vs-vcpu3.yaml), each
variant is checked with every reduction on, once to record the actors the
POR chooses at each state, then timed twice: as it is, and with the choice
read back from that record (the same states and transitions, the choice
free). The difference is the choice's cost; the second figure is the floor
that a cheaper choice could reach, in states/s with reductions on. CPU time
(time.process_time), the best of --repeat runs of each.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hvtui.check import flat
from hvtui.check.search import Options, check
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

THREE_FLUSHERS = Path(__file__).resolve().parent / "three-flushers-vs-vcpu3.yaml"
OPTIONS = Options(shortest=False)  # one pass: the shortening pass does not ask the POR


def recorded(scenario, variant: str) -> dict[tuple, list[int]]:
    """state key -> the actors Flat.ample chose there, in one check."""
    chosen: dict[tuple, list[int]] = {}
    reducer = flat.Flat.reducer

    def recording(graph, por):
        ample = reducer(graph, por)

        def record(key, *args):
            chosen[key] = out = ample(key, *args)
            return out

        return record

    flat.Flat.reducer = recording
    try:
        check(scenario, variant, OPTIONS)
    finally:
        flat.Flat.reducer = reducer
    return chosen


def timed(scenario, variant: str, repeat: int, chosen: dict | None) -> tuple[int, int, float]:
    """(states, transitions, best CPU seconds) of the check, its choices read
    from `chosen` if given."""
    reducer = flat.Flat.reducer
    if chosen is not None:
        flat.Flat.reducer = lambda graph, por: lambda key, *_: chosen[key]
    try:
        best = float("inf")
        for _ in range(repeat):
            started = time.process_time()
            result = check(scenario, variant, OPTIONS)
            best = min(best, time.process_time() - started)
    finally:
        flat.Flat.reducer = reducer
    return result.states, result.transitions, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    scenario = scenarios.load(str(THREE_FLUSHERS))
    print(
        f"{'variant':18} {'states':>8} {'check s':>8} {'states/s':>9} {'choice s':>9} "
        f"{'share':>6} {'floor s':>8} {'floor/s':>9}"
    )
    for variant in args.variants:
        chosen = recorded(scenario, variant)
        states, transitions, whole = timed(scenario, variant, args.repeat, None)
        again, again_transitions, floor = timed(scenario, variant, args.repeat, chosen)
        assert (again, again_transitions) == (states, transitions)  # the same search
        print(
            f"{variant:18} {states:8,} {whole:8.3f} {states / whole:9,.0f} {whole - floor:9.3f} "
            f"{(whole - floor) / whole:6.0%} {floor:8.3f} {states / floor:9,.0f}"
        )


if __name__ == "__main__":
    main()
