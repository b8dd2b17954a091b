"""CI's seeded share of benchmarks/sweep_engines.py: three computations agree.

Scenario files drawn by tests/sweep_scenarios.py (the reviewer's race and
its neighbours, uninhibit scans, hot-plugged vCPUs, self-flushes, random
ops), written out and read back through the loader, decided under every
variant by the reference model and by `hvtui check` with every reduction,
with none and with all but one (each in turn); every counterexample
replayed on the reference and through `hvtui run --schedule`.
`python benchmarks/sweep_engines.py --scenarios N --seed S [--spin K]`
runs thousands, SPIN too.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from reference.engines import ONE_OFF, Claim, decide, disagreements, read_independently
from scenario_strategies import yaml_text
from sweep_scenarios import FAMILIES, scenario

from hvtui.model.variants import VARIANTS
from hvtui.scenario.load import load

SEED = 11  # a seed whose sample draws every family and feature below, most of it small
SAMPLE = 20  # scenarios, each under every variant
BOUND = 5_000  # states of the reference's search
FEATURES = ("no_hyperv", "hyperv_init", "kernel_work", "mask: 0", "sparse", "all", "vmm:c")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    rng = random.Random(SEED)
    tmp = tmp_path_factory.mktemp("sweep")
    out = []
    for i in range(SAMPLE):
        doc = scenario(rng, i)
        path = tmp / f"sweep-{i}.yaml"
        path.write_text(yaml_text(doc))
        out.append((doc, str(path)))
    return out


def test_the_sample_draws_every_family_and_feature(sample):
    """The seed is one that reaches what the sweep is for, so the batch
    below cannot pass by deciding only trivial files."""
    text = "".join(yaml_text(doc) for doc, _ in sample)
    families = {doc["name"].rsplit("-", 1)[1] for doc, _ in sample}
    assert families == set(FAMILIES)
    for feature in FEATURES:
        assert feature in text, feature


def test_the_loader_reads_every_sample_file_as_it_is_meant(sample):
    """The three computations share the loader's Program: here it is held
    to one read from the document without it (every target form)."""
    for doc, path in sample:
        assert load(path).program == read_independently(doc), doc["name"]


def test_three_computations_agree_on_the_sample(sample):
    found = []
    compared = 0
    for i, (doc, path) in enumerate(sample):
        for k, variant in enumerate(VARIANTS):
            off = ONE_OFF[(i * len(VARIANTS) + k) % len(ONE_OFF)]
            decided = decide(path, variant, BOUND, big=False, off=off)
            compared += {"ref", "full", "none", "off"} <= set(decided.claims)
            found += [
                f"{doc['name']} {variant} {pair}: {what}" for pair, what in disagreements(decided)
            ]
    assert not found, "\n".join(found)
    assert compared >= 0.7 * SAMPLE * len(VARIANTS)


def test_a_wrong_verdict_length_or_schedule_is_a_disagreement():
    """The comparison itself can fail: each engine's claim tampered with in
    one way the sweep looks for is named, with the pair or engine."""
    decided = decide("scenarios/reviewer-race.yaml", "no-sync")
    assert disagreements(decided) == []
    right = decided.claims["full"]["inhibit-holds"]
    tampered = {
        "verdict": replace(right, verdict="holds", schedule=None, length=None),
        "length": replace(right, length=right.length + 1),
        "schedule": Claim("violated", right.length - 1, right.schedule[:-1]),
    }
    for how, claim in tampered.items():
        decided.claims["full"] = {**decided.claims["none"], "inhibit-holds": claim}
        said = {who for who, _ in disagreements(decided)}
        assert said & {"ref~full", "full~none", "full"}, how
    # a progress claim that `hvtui run` does not end on
    ends = Claim("blocked-by-design", right.length, right.schedule, shortest=False)
    decided.claims["full"] = {**decided.claims["none"], "progress": ends}
    assert any(who == "full" and "progress" in what for who, what in disagreements(decided)), (
        "a schedule that does not end there"
    )


def test_the_reference_alone_refutes_a_schedule_that_stops_short():
    """With the `hvtui run` replay left out, the replay on the reference still
    names the engine whose schedule ends a step before its violation."""
    decided = decide("scenarios/reviewer-race.yaml", "no-sync")
    right = decided.claims["full"]["inhibit-holds"]
    short = Claim("violated", right.length - 1, right.schedule[:-1])
    decided.claims["full"] = {**decided.claims["none"], "inhibit-holds": short}
    said = [what for who, what in disagreements(decided, run_cli=False) if who == "full"]
    assert said == [
        f"inhibit-holds: violated in {right.length - 1} {list(short.schedule)}: "
        "the reference does not reach that verdict there"
    ]
