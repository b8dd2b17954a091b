"""The three-flushers family (three-flushers-vs-vcpu3.yaml) under every
variant, with every reduction on and with none: one check's states and CPU
seconds at a time.

    python benchmarks/family_rate.py        # one JSON object per check

It touches only the API every tree since the family was first measured has
(`check`, `Options`, `VARIANTS`, `load`), and finds the reductions by
introspecting `Options`, so `bench_checker.py --against REV` runs this file
on an older tree to put its figures beside today's, on the same machine.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import hvtui
from hvtui.check.search import Options, check
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load

FILE = Path(__file__).resolve().parent / "three-flushers-vs-vcpu3.yaml"
OFF_BOUND = 300_000  # states per unreduced check: request-first alone has millions
KEEP = {"dedup", "shortest"}  # switches that are not reductions


def configs() -> dict[str, Options]:
    """ "all": the defaults, without a state bound (old trees had one); "none":
    every boolean switch but KEEP off, bounded at OFF_BOUND."""
    fields = dataclasses.fields(Options)
    switches = [f.name for f in fields if f.type in (bool, "bool") and f.name not in KEEP]
    return {
        "all": dataclasses.replace(Options(), max_states=None),
        "none": dataclasses.replace(
            Options(), max_states=OFF_BOUND, **dict.fromkeys(switches, False)
        ),
    }


def checks() -> Iterator[tuple[str, str, object, float]]:
    """(config, variant, Result, CPU seconds) for each check, "all" first."""
    scenario = load.load(str(FILE))
    for config, options in configs().items():
        for variant in VARIANTS:
            started = time.process_time()
            result = check(scenario, variant, options)
            yield config, variant, result, time.process_time() - started


def main() -> None:
    print(json.dumps({"hvtui": hvtui.__file__}), flush=True)
    for config, variant, result, seconds in checks():
        line = {"config": config, "variant": variant, "states": result.states}
        line |= {"complete": result.complete, "seconds": seconds}
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
