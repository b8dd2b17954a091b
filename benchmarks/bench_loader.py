"""How long loading takes as scenarios grow, and what a refusal costs through the CLI.

    python benchmarks/bench_loader.py

Prints CPU seconds (process time, so other load on the machine matters less)
for the three layers of `hvtui.scenario.load.parse` -- libyaml's events, the
positioned document, the format's rules -- at 1k, 10k and 100k ops, the
same for saving, and the wall time of `hvtui run` refusing a bad file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from hvtui.scenario.load import load, parse, to_yaml
from hvtui.scenario.rules import check
from hvtui.scenario.yamlpos import _PARSER
from hvtui.scenario.yamlpos import load as load_yaml

ROOT = Path(__file__).resolve().parent.parent


def many_ops(count: int) -> str:
    ops = "".join(f"    - {{id: x{i}, op: exit, vcpu: 1}}\n" for i in range(count))
    return f"name: many\nvcpus: 4\nactors:\n  vmm:\n{ops}"


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    print(f"libyaml: {yaml.__with_libyaml__}")
    print(
        f"{'ops':>7} {'bytes':>10} {'events':>8} {'document':>9} {'rules':>7} {'total':>7}"
        f" {'us/op':>6} {'to_yaml':>8}"
    )
    for count in (1_000, 10_000, 100_000):
        text = many_ops(count)
        events = cpu(lambda t=text: sum(1 for _ in yaml.parse(t, Loader=_PARSER)))
        document = cpu(lambda t=text: load_yaml(t, "bench.yaml"))
        doc = load_yaml(text, "bench.yaml")
        rules = cpu(lambda d=doc: check(d, "bench.yaml"))
        scenario = parse(text, "bench.yaml")
        total = cpu(lambda t=text: parse(t, "bench.yaml"))
        save = cpu(lambda s=scenario: to_yaml(s))
        print(
            f"{count:>7} {len(text):>10,} {events:>8.2f} {document - events:>9.2f}"
            f" {rules:>7.2f} {total:>7.2f} {1e6 * total / count:>6.1f} {save:>8.2f}"
        )
    big = ROOT / "scenarios" / "many-vcpus-4096.yaml"
    if big.exists():
        scenario = load(str(big))
        print(
            f"{big.name}: load {cpu(lambda: load(str(big))):.2f} s, "
            f"to_yaml {cpu(lambda: to_yaml(scenario)):.2f} s"
        )
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder) / "bad.yaml"
        bad.write_text("name: bad\nvcpus: 1e9\nactors: {}\n")
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "hvtui", "run", str(bad)], capture_output=True)
            runs.append(time.perf_counter() - start)
        print(f"`hvtui run` refusing a bad file: {min(runs):.3f} s wall (best of 5)")


if __name__ == "__main__":
    main()
