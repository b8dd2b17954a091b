"""Exit 1 means a claim in the file is false: each kind of claim, both ways.

`hvtui run` checks how the replay ends (`final`, `progress`, `stuck`);
`hvtui check` checks which properties fail (`violations`), exactly: one
that fails unexpected, and one expected that does not fail, are both
exit 1. Each case here is a claim one edit away from a true one, so a
weakened comparison (`!=` to `==`, `==` to `<=`, a check skipped) turns
some case here red. The commands run in this process (`main([...])`), which
keeps the file fast enough for a mutation run (benchmarks/mutate.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS

from hvtui.check.search import Result, Verdict
from hvtui.cli.main import main
from hvtui.model.properties import HOLDS, INCOMPLETE, PROPERTIES, VIOLATED

DATA = Path(__file__).parent / "data" / "check"

# basic-suspend-wake, posted: vcpu0 suspends on vcpu1, is woken, retries and
# completes; vcpu1 flushes once; everyone finishes.
BASIC = (SCENARIOS / "basic-suspend-wake.yaml").read_text()
BASIC_BODY = BASIC[: BASIC.index("expect:")]
TRUE_FINAL = """\
  final:
    vcpu0: {suspended: false, waiting_on: -1, mode: guest, flushes: 0}
    vcpu1: {inhibit: false, mode: guest, flushes: 1, pending_flush: false}
"""

# self-flush-stuck: vcpu0 suspends on itself holding its own mutex; the
# VMM's clear waits for that mutex: two actors stuck, progress violated.
STUCK = (DATA / "self-flush-stuck.yaml").read_text()
STUCK_BODY = STUCK[: STUCK.index("expect:")]


def write(tmp_path: Path, body: str, expect: str) -> str:
    path = tmp_path / "claim.yaml"
    path.write_text(body + "expect:\n" + expect)
    return str(path)


@pytest.fixture
def hvtui(capsys):
    """`hvtui ARGS` in this process: (exit code, stdout); stderr must stay empty."""

    def call(*args: str) -> tuple[int, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        assert err == "", err
        return code, out

    return call


@pytest.fixture
def run(hvtui):
    return lambda path: hvtui("run", "-q", path)


# -- run: the end of the replay ---------------------------------------------------


def test_run_exits_0_when_every_claim_is_true(tmp_path, run):
    code, out = run(write(tmp_path, BASIC_BODY, "  progress: holds\n  stuck: []\n" + TRUE_FINAL))
    assert code == 0
    assert out.endswith("expect: met\n")


@pytest.mark.parametrize(
    "vcpu, field, wrong",
    [
        (0, "suspended", "true"),
        (0, "waiting_on", "1"),
        (0, "mode", "user"),
        (0, "flushes", "1"),
        (1, "inhibit", "true"),
        (1, "flushes", "2"),
        (1, "pending_flush", "true"),
    ],
)
def test_run_exits_1_for_each_final_field_that_differs(tmp_path, run, vcpu, field, wrong):
    expect = f"  final:\n    vcpu{vcpu}: {{{field}: {wrong}}}\n"
    code, out = run(write(tmp_path, BASIC_BODY, expect))
    assert code == 1
    assert f"FAILED expect.final.vcpu{vcpu}.{field}: expected " in out
    assert "expect: met" not in out


def test_a_failed_final_field_reads_as_the_file_writes_it(tmp_path, run):
    # the values were Python's: "expected True, got False" for `suspended: true`
    expect = "  final:\n    vcpu0: {suspended: true, mode: user}\n"
    code, out = run(write(tmp_path, BASIC_BODY, expect))
    assert code == 1
    assert "FAILED expect.final.vcpu0.suspended: expected true, got false\n" in out
    assert "FAILED expect.final.vcpu0.mode: expected 'user', got 'guest'\n" in out


def test_run_checks_every_final_field_not_only_the_first(tmp_path, run):
    # the first field of each vCPU is right, the last one wrong
    expect = "  final:\n    vcpu1: {inhibit: false, mode: guest, flushes: 7}\n"
    code, out = run(write(tmp_path, BASIC_BODY, expect))
    assert code == 1
    assert out.count("FAILED") == 1 and "vcpu1.flushes: expected 7, got 1" in out


@pytest.mark.parametrize("wrong", ["blocked-by-design", "violated"])
def test_run_exits_1_when_progress_ends_otherwise(tmp_path, run, wrong):
    code, out = run(write(tmp_path, BASIC_BODY, f"  progress: {wrong}\n"))
    assert code == 1
    assert f"FAILED expect.progress: expected {wrong}, got holds" in out


def test_run_exits_1_when_a_deadlock_is_claimed_to_hold(tmp_path, run):
    code, out = run(write(tmp_path, STUCK_BODY, "  progress: holds\n"))
    assert code == 1
    assert "FAILED expect.progress: expected holds, got violated" in out


def test_run_exits_1_when_the_stuck_actors_differ(tmp_path, run):
    code, out = run(write(tmp_path, BASIC_BODY, "  stuck: [vmm]\n"))
    assert code == 1
    assert "FAILED expect.stuck: expected ['vmm'], got []" in out
    code, out = run(write(tmp_path, STUCK_BODY, "  stuck: [vcpu0]\n"))  # one of two
    assert code == 1
    assert "FAILED expect.stuck:" in out


def test_stuck_is_a_set_in_any_order(tmp_path, run):
    code, out = run(write(tmp_path, STUCK_BODY, "  progress: violated\n  stuck: [vmm, vcpu0]\n"))
    assert (code, out.endswith("expect: met\n")) == (0, True)


def test_run_exits_1_when_any_file_fails_whatever_the_order(tmp_path, hvtui):
    good = write(tmp_path, BASIC_BODY, TRUE_FINAL)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASIC_BODY + "expect:\n  progress: violated\n")
    for files in ([good, str(bad)], [str(bad), good]):
        code, _ = hvtui("run", "-q", *files)
        assert code == 1, files
    code, _ = hvtui("run", "-q", good, good)
    assert code == 0


def test_run_json_says_what_failed_and_exits_1(tmp_path, hvtui):
    import json

    code, out = hvtui("run", "--json", write(tmp_path, BASIC_BODY, "  stuck: [vcpu0]\n"))
    assert code == 1
    assert json.loads(out)["expect"] == {
        "met": False,
        "failed": ["expect.stuck: expected ['vcpu0'], got []"],
    }


# -- check: which properties fail -------------------------------------------------


@pytest.mark.parametrize(
    "claimed, code",
    [
        ("[no-flush-while-inhibited]", 0),  # exactly what fails
        ("[]", 1),  # it fails unexpected
        ("[no-flush-while-inhibited, inhibit-holds]", 1),  # one expected does not fail
        ("[inhibit-holds]", 1),  # both
    ],
)
def test_check_exits_0_only_for_exactly_the_expected_failures(tmp_path, hvtui, claimed, code):
    text = (DATA / "inhibit-window.yaml").read_text()
    path = write(tmp_path, text[: text.index("expect:")], f"  violations: {claimed}\n")
    got, out = hvtui("check", "-q", path)
    assert got == code, out
    assert ("-- met" in out) == (code == 0)


def test_check_exits_1_when_a_complete_match_is_only_a_bound(hvtui):
    # the properties that failed before the bound are the expected ones; the
    # rest is undecided, so nothing is claimed met
    code, out = hvtui("check", "-q", "--max-states", "40", str(DATA / "inhibit-window.yaml"))
    assert code == 1 and "NOT MET (the search is incomplete)" in out


def result(violated: set[str], expected: set[str], complete: bool = True) -> Result:
    verdicts = {p: Verdict(VIOLATED if p in violated else HOLDS) for p in PROPERTIES}
    return Result("f.yaml", "posted", complete, 1, 0, 0.0, verdicts, tuple(sorted(expected)))


@pytest.mark.parametrize(
    "violated, expected, met",
    [
        (set(), set(), True),
        ({"progress"}, {"progress"}, True),
        ({"progress", "inhibit-holds"}, {"inhibit-holds", "progress"}, True),
        ({"progress"}, set(), False),  # unexpected failure: met would be `>=`
        (set(), {"progress"}, False),  # expected failure missing: met would be `<=`
        ({"progress"}, {"inhibit-holds"}, False),
    ],
)
def test_met_is_set_equality_of_failed_and_expected(violated, expected, met):
    assert result(violated, expected).met is met


def test_nothing_is_met_by_an_incomplete_search():
    assert not result(set(), set(), complete=False).met
    verdicts = {p: Verdict(INCOMPLETE) for p in PROPERTIES}
    assert not Result("f.yaml", "posted", False, 1, 0, 0.0, verdicts).met


# -- the verdicts behind check's exit code ------------------------------------------


def checked(name: str, **options):
    from hvtui.check.search import Options, check
    from hvtui.scenario.load import load

    return check(load(str(DATA / name)), options=Options(**options))


def test_a_bounded_search_proves_nothing_it_did_not_find():
    r = checked("inhibit-window.yaml", max_states=40)
    assert not r.complete and not r.met
    for prop, verdict in r.properties.items():
        if verdict.verdict != VIOLATED:
            assert verdict.verdict == INCOMPLETE and verdict.schedule is None, prop
    assert r.properties["progress"].verdict == INCOMPLETE  # not "holds", not "by design"


def test_progress_names_a_deadlock_with_its_schedule_and_holds_only_when_all_finish():
    stuck = checked("self-flush-stuck.yaml").properties["progress"]
    assert stuck.verdict == VIOLATED and stuck.schedule and "vmm waits" in stuck.detail
    fine = checked("self-flush-exit.yaml").properties["progress"]
    assert (fine.verdict, fine.schedule) == (HOLDS, None)
    assert fine.detail.startswith("every actor finishes")


def test_progress_blocked_by_design_is_neither_a_deadlock_nor_a_proof():
    from hvtui.check.search import check
    from hvtui.scenario.load import load

    r = check(load(str(SCENARIOS / "inhibit-during-flush.yaml")))
    progress = r.properties["progress"]
    assert progress.verdict == "blocked-by-design" and progress.schedule
    assert "progress" not in r.violated


def test_a_found_violation_comes_with_the_schedule_that_reaches_it():
    r = checked("inhibit-window.yaml")
    found = r.properties["no-flush-while-inhibited"]
    assert found.verdict == VIOLATED and found.shortest and len(found.schedule) == 14
    assert r.properties["inhibit-holds"] == Verdict(HOLDS)


def test_run_json_of_several_files_is_one_document_with_each(tmp_path, hvtui):
    import json

    good = write(tmp_path, BASIC_BODY, TRUE_FINAL)
    code, out = hvtui("run", "--json", good, good)
    assert code == 0
    assert [r["name"] for r in json.loads(out)["results"]] == ["basic-suspend-wake"] * 2
