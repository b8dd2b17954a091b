"""A saved counterexample names itself, says what it violates where, and expects what it does."""

from __future__ import annotations

from hvtui.runs.describe import HEADING, describe
from hvtui.scenario.load import load
from tests.conftest import run_cli

RACE = load("scenarios/reviewer-race.yaml")
# check's shortest counterexample for no-flush-while-inhibited under posted
SHORTEST = "vcpu0 vcpu0 vcpu0 vcpu0 vcpu0 vcpu0 vmm vcpu1 vmm vmm vmm vmm vmm vmm vmm vcpu1".split()


def test_the_name_and_description_say_what_is_violated_at_which_step():
    saved = describe(RACE, SHORTEST, violations=["no-flush-while-inhibited"])
    assert saved.name == "reviewer-race-no-flush-while-inhibited-at-16"
    # the author's prose is kept whole, first; the generated paragraph comes under it
    assert saved.description.startswith(RACE.description.rstrip() + "\n\n" + HEADING)
    generated = " ".join(saved.description.split(HEADING, 1)[1].split())
    assert "17 steps under posted" in generated
    assert (
        "Step 16 violates no-flush-while-inhibited: vcpu1 services the flush request at 16, "
        "after the ioctl that set vcpu1's flag returned at 14." in generated
    )
    assert all(len(line) <= 76 for line in saved.description.splitlines())


def test_the_expect_block_is_how_the_replay_ends():
    saved = describe(RACE, SHORTEST, violations=["no-flush-while-inhibited"])
    e = saved.expect
    assert e.violations == ("no-flush-while-inhibited",)
    assert dict(e.final) == {1: (("inhibit", True), ("flushes", 1)), 2: (("flushes", 1),)}
    assert (e.progress, e.stuck) == ("holds", ())
    unchecked = describe(RACE, SHORTEST)
    assert unchecked.expect.violations is None  # nothing claimed that was not checked


def test_describing_a_described_scenario_replaces_its_paragraph_and_suffix():
    once = describe(RACE, SHORTEST, violations=["no-flush-while-inhibited"])
    # vcpu0's flush completes before the VMM starts: nothing is violated
    clean = ["vcpu0"] * 6 + ["vcpu1", "vcpu2"]
    twice = describe(once, clean, source="the workbench")
    assert twice.name == "reviewer-race-17-steps"  # no violation: the run is named by its length
    assert twice.description.count(HEADING) == 1
    assert "the workbench" in twice.description
    assert "No property is violated along the run." in " ".join(twice.description.split())


def test_a_changed_variant_is_in_the_name():
    saved = describe(RACE, RACE.schedule, variant="no-sync")
    assert saved.name == "reviewer-race-no-sync-inhibit-holds-at-13"
    assert saved.variant == "no-sync"


def test_check_save_writes_a_file_that_run_and_check_both_verify(tmp_path):
    out = tmp_path / "cex.yaml"
    code, _, err = run_cli("check", "scenarios/reviewer-race.yaml", "-q", "--save", str(out))
    assert code == 0, err
    saved = load(str(out))
    assert saved.name == "reviewer-race-no-flush-while-inhibited-at-16"
    assert "Step 16 violates no-flush-while-inhibited" in saved.description
    assert saved.expect.final and saved.expect.violations == ("no-flush-while-inhibited",)
    code, stdout, _ = run_cli("run", str(out))
    assert code == 0 and stdout.rstrip().endswith("expect: met")
    code, stdout, _ = run_cli("check", str(out), "-q")
    assert code == 0 and "expected to fail: no-flush-while-inhibited -- met" in stdout


def test_a_saved_file_whose_expectation_is_broken_fails_run(tmp_path):
    """The generated expect block is a real claim: edit the run and `run` says so."""
    saved = describe(RACE, SHORTEST, violations=["no-flush-while-inhibited"])
    from hvtui.scenario.save import save

    path = tmp_path / "cex.yaml"
    save(saved, str(path))
    text = path.read_text().replace("flushes: 1\n    vcpu2", "flushes: 2\n    vcpu2")
    path.write_text(text)
    code, stdout, _ = run_cli("run", "-q", str(path))
    assert code == 1
    assert "FAILED expect.final.vcpu1.flushes: expected 2, got 1" in stdout
