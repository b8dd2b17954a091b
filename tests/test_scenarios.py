"""The scenario library keeps its promises: `run` and `check` agree with every file's expect.

Each file's `expect` block is the claim its description makes (who ends
suspended, which property breaks under which variant); these tests run the
real CLI on every file so a change to the engine that changes a story shows
up here, named by the scenario that tells it.
"""

from __future__ import annotations

import json

import pytest
import yaml

from hvtui.scenario.load import load
from tests.conftest import ROOT, SCENARIOS, run_cli

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))
BIG = SCENARIOS / "many-vcpus-4096.yaml"
# the 4096-vCPU file checks completely in about 45 s of CPU: benchmarks/bench_wide.py
# times it; here it is checked to a bound
CHECKABLE = [p for p in LIBRARY if p != BIG]


def rel(path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_run_meets_every_expectation(path):
    # the grid and the log too, but at 4096 vCPUs they are 32,000 lines
    code, out, err = run_cli("run", *(["-q"] if path == BIG else []), rel(path))
    assert (code, err) == (0, ""), out + err
    assert out.rstrip().endswith("expect: met")


@pytest.mark.parametrize("path", CHECKABLE, ids=lambda p: p.stem)
def test_check_under_every_variant_finds_exactly_the_expected_violations(path):
    code, out, err = run_cli("check", "-q", "--variant", "all", rel(path))
    assert code == 0, out + err


@pytest.mark.parametrize("path", CHECKABLE, ids=lambda p: p.stem)
def test_each_counterexample_replays_through_run_to_its_violation(path):
    """What `check` prints as a schedule, `run --schedule` takes to the same step."""
    code, out, err = run_cli("check", "--json", rel(path))
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    for prop, verdict in result["properties"].items():
        if verdict["verdict"] != "violated":
            continue
        schedule = ",".join(verdict["schedule"])
        code, out, err = run_cli("run", "--json", "-q", "--schedule", schedule, rel(path))
        assert code in (0, 1), err  # the file's own `final` may not hold after another schedule
        doc = json.loads(out)
        if prop == "progress":
            assert doc["steps"] == len(verdict["schedule"]), prop
            assert doc["progress"]["verdict"] == "violated", prop
        else:
            assert doc["violations"][prop]["step"] == len(verdict["schedule"]), prop


def test_check_on_4096_vcpus_stops_at_its_bound_and_says_incomplete():
    code, out, err = run_cli("check", "--json", "--max-states", "500", rel(BIG))
    assert code == 1, err  # not a pass: nothing was decided
    (result,) = json.loads(out)["results"]
    assert result["complete"] is False
    assert {v["verdict"] for v in result["properties"].values()} == {"incomplete"}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_file_tells_the_reader_what_to_notice_and_what_to_expect(path):
    scenario = load(rel(path))
    assert "otice" in scenario.description  # "Notice ..." / "notice ..."
    assert scenario.expect.progress is not None  # what `run` must end with
    # a claim for `check --variant all` to test (variants it does not name expect none)
    assert scenario.expect.violations is not None or scenario.expect.by_variant


def test_the_three_target_forms_resolve_to_the_same_set():
    doc = yaml.safe_load((SCENARIOS / "target-forms.yaml").read_text())
    forms = [op["targets"] for op in doc["actors"]["vcpu0"]]
    assert forms == ["all", {"mask": 0xF}, {"sparse": {0: 0xF}}]
    scenario = load("scenarios/target-forms.yaml")
    assert {f.targets for f in scenario.program.vcpu_ops[0]} == {(0, 1, 2, 3)}
