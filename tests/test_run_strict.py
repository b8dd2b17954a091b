"""`hvtui run` without an `expect` block, and `run --strict`.

A run is one interleaving: without expectations it still says what broke
along the way, but only `--strict` makes a violation the scenario did not
list (in `expect.violations`) a failure, exit 1.
"""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import SCENARIOS, run_cli

# The lost wake-up of scenarios/lost-wakeup-no-sync.yaml, with no expect block:
# no-lost-wakeup breaks at step 10 and the run ends deadlocked (progress).
RACE = """\
name: lost
description: no expect block
vcpus: 2
variant: no-sync
initial: {inhibit: [1], mode: {1: user}}
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
  vmm:
    - {id: clr, op: set_inhibit, vcpu: 1, value: false}
    - {id: run1, op: run, vcpu: 1}
schedule: [vcpu0, vcpu0, vmm, vmm, vmm, vmm, vmm, vmm, vcpu0, vcpu0, vcpu0]
"""

# Nothing breaks: vcpu0 flushes vcpu1, nobody is inhibited.
CALM = """\
name: calm
description: nothing to see
vcpus: 2
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
"""


def write(tmp_path, text: str, expect: str = "") -> str:
    (tmp_path / "s.yaml").write_text(text + expect)
    return "s.yaml"


def test_without_expect_run_says_so_lists_what_broke_and_exits_0(tmp_path):
    code, out, err = run_cli("run", "-q", write(tmp_path, RACE), cwd=tmp_path)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "violated: no-lost-wakeup at step 10" in lines
    assert any(line.startswith("progress: violated") for line in lines)
    assert lines[-1] == "no expectations"
    assert "expect: met" not in out


def test_without_expect_the_json_document_says_nothing_was_checked(tmp_path):
    code, out, _ = run_cli("run", "--json", write(tmp_path, RACE), cwd=tmp_path)
    doc = json.loads(out)
    assert code == 0
    assert doc["expect"] == {"met": None, "failed": []}
    assert doc["violations"] == {"no-lost-wakeup": {"step": 10}}


def test_strict_without_expect_fails_on_every_violation_of_the_run(tmp_path):
    code, out, err = run_cli("run", "-q", "--strict", write(tmp_path, RACE), cwd=tmp_path)
    assert (code, err) == (1, "")
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert failed == [
        "FAILED no-lost-wakeup violated at step 10, not listed in expect.violations (--strict)",
        "FAILED progress violated at step 12, not listed in expect.violations (--strict)",
    ]


def test_strict_passes_a_run_that_breaks_nothing(tmp_path):
    code, out, _ = run_cli("run", "-q", "--strict", write(tmp_path, CALM), cwd=tmp_path)
    assert code == 0
    assert out.splitlines()[-1] == "expect: met"


def test_strict_accepts_exactly_what_expect_violations_lists(tmp_path):
    listed = "expect:\n  violations: [no-lost-wakeup, progress]\n"
    code, out, _ = run_cli("run", "-q", "--strict", write(tmp_path, RACE, listed), cwd=tmp_path)
    assert (code, out.splitlines()[-1]) == (0, "expect: met")

    partly = "expect:\n  violations: [progress]\n"
    code, out, _ = run_cli("run", "-q", "--strict", write(tmp_path, RACE, partly), cwd=tmp_path)
    assert code == 1
    assert "FAILED no-lost-wakeup violated at step 10" in out
    assert "FAILED progress" not in out


def test_a_listed_violation_the_run_does_not_reach_is_not_a_failure(tmp_path):
    # one interleaving cannot be held to every counterexample: check finds those
    listed = "expect:\n  violations: [inhibit-holds]\n"
    code, out, _ = run_cli("run", "-q", "--strict", write(tmp_path, CALM, listed), cwd=tmp_path)
    assert (code, out.splitlines()[-1]) == (0, "expect: met")


def test_without_strict_a_violations_list_alone_is_no_run_expectation(tmp_path):
    listed = "expect:\n  violations: [progress]\n"
    code, out, _ = run_cli("run", "-q", write(tmp_path, RACE, listed), cwd=tmp_path)
    assert code == 0
    assert out.splitlines()[-1].startswith("no expectations for run")


def test_strict_reads_the_per_variant_mapping_for_the_variant_run(tmp_path):
    mapping = "expect:\n  violations: {no-sync: [no-lost-wakeup, progress], posted: []}\n"
    path = write(tmp_path, RACE, mapping)
    assert run_cli("run", "-q", "--strict", path, cwd=tmp_path)[0] == 0
    everything = "expect:\n  violations: {no-sync: [], posted: [no-lost-wakeup, progress]}\n"
    path = write(tmp_path, RACE, everything)
    code, out, _ = run_cli("run", "-q", "--strict", path, cwd=tmp_path)
    assert code == 1
    assert out.count("FAILED") == 2


def test_a_plain_list_is_about_the_files_own_variant_not_an_override(tmp_path):
    # the reviewer's race: its schedule ends with vcpu1 flushing inside its
    # window under posted, and under merged-state too
    doc = yaml.safe_load((SCENARIOS / "reviewer-race.yaml").read_text())
    doc["expect"] = {"violations": ["no-flush-while-inhibited"]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    code, out, _ = run_cli("run", "-q", "--strict", "s.yaml", cwd=tmp_path)
    assert (code, out.splitlines()[-1]) == (0, "expect: met")
    code, out, _ = run_cli(
        "run", "-q", "--strict", "--variant", "merged-state", "s.yaml", cwd=tmp_path
    )
    assert code == 1
    assert "FAILED no-flush-while-inhibited violated at step 17" in out


@pytest.mark.parametrize("kind", ["final", "progress", "stuck"])
def test_each_kind_of_unmet_run_expectation_exits_1(tmp_path, kind):
    wrong = {
        "final": "  final: {vcpu0: {suspended: false}}\n",
        "progress": "  progress: holds\n",
        "stuck": "  stuck: []\n",
    }[kind]
    code, out, err = run_cli("run", "-q", write(tmp_path, RACE, "expect:\n" + wrong), cwd=tmp_path)
    assert (code, err) == (1, "")
    assert f"FAILED expect.{kind}" in out


@pytest.mark.parametrize("flag", ["--json", "--jsonl"])
def test_strict_in_the_machine_formats_exits_1_and_says_why(tmp_path, flag):
    code, out, err = run_cli("run", flag, "--strict", write(tmp_path, RACE), cwd=tmp_path)
    expect = (
        json.loads(out)["expect"]
        if flag == "--json"
        else json.loads(out.splitlines()[-1])["expect"]
    )
    assert (code, err) == (1, "")
    assert expect["met"] is False
    assert [line.split(" violated")[0] for line in expect["failed"]] == [
        "no-lost-wakeup",
        "progress",
    ]
