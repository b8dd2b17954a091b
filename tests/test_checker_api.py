"""The Python API the workbench drives: check() in a thread, progress, cancel."""

import threading
from pathlib import Path

import pytest

from hvtui.check import search as checker
from hvtui.check.search import Options, Progress, check
from hvtui.model.properties import INCOMPLETE, PROPERTIES
from hvtui.scenario import load as scenarios

DATA = Path(__file__).parent / "data" / "check"

# Three twins flushing one vCPU that the VMM clears, inhibits and clears
# again: some ten thousand states, enough for progress reports and a cancel.
THREE_TWINS = """
name: three-twins
vcpus: 4
variant: no-sync
initial: {inhibit: [0], mode: {0: user}}
actors:
  vcpu1: [{id: f1, op: flush, targets: [0]}]
  vcpu2: [{id: f2, op: flush, targets: [0]}]
  vcpu3: [{id: f3, op: flush, targets: [0]}]
  vmm:
    - {id: clr, op: set_inhibit, vcpu: 0, value: false}
    - {id: inh, op: set_inhibit, vcpu: 0, value: true}
    - {id: clr2, op: set_inhibit, vcpu: 0, value: false}
"""


@pytest.fixture
def big():
    return scenarios.parse(THREE_TWINS, "three-twins.yaml")


def test_the_result_names_everything_the_workbench_shows(big):
    result = check(scenarios.load(str(DATA / "inhibit-window.yaml")))
    assert (result.file, result.variant, result.complete) == (
        str(DATA / "inhibit-window.yaml"),
        "posted",
        True,
    )
    assert result.states > 0 and result.transitions >= result.states - 1
    assert result.seconds > 0
    assert list(result.properties) == list(PROPERTIES)
    cx = result.properties["no-flush-while-inhibited"]
    assert cx.verdict == "violated" and cx.schedule[-1] == "vcpu1" and cx.detail
    assert result.properties["inhibit-holds"].schedule is None


def test_progress_reports_grow_and_name_their_phase(big, monkeypatch):
    monkeypatch.setattr(checker, "_REPORT_EVERY", 0.0)  # every poll reports
    seen: list[Progress] = []
    result = check(big, options=Options(por=False), progress=seen.append)
    assert len(seen) >= 5
    assert all(p.phase == "explore" for p in seen)
    states = [p.states for p in seen]
    assert states == sorted(states) and states[-1] <= result.states
    assert all(p.rate > 0 and p.depth >= 0 for p in seen)


def test_with_por_and_a_failure_the_shortening_pass_reports_too(big, monkeypatch):
    monkeypatch.setattr(checker, "_REPORT_EVERY", 0.0)
    seen: list[Progress] = []
    result = check(big, options=Options(), progress=seen.append)
    assert result.violated
    assert {p.phase for p in seen} == {"explore", "shorten"}


def test_the_shortening_pass_reports_its_own_rate(big, monkeypatch):
    """Its states over its own time: over the whole check's, the 90k states
    of a pass that followed 212 s of exploring showed as 381 states/s."""
    monkeypatch.setattr(checker, "_REPORT_EVERY", 0.0)
    seen: list[Progress] = []
    check(big, options=Options(), progress=seen.append)
    explored = max(p.seconds for p in seen if p.phase == "explore")
    shortening = [p for p in seen if p.phase == "shorten"]
    assert shortening
    for p in shortening:
        assert p.seconds - p.phase_seconds >= explored
        assert p.rate == p.states / p.phase_seconds


def test_cancel_stops_within_one_poll_and_leaves_nothing_decided_falsely(big):
    polls = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) >= 3

    result = check(big, options=Options(por=False), cancel=cancel)
    assert not result.complete and result.bound == "cancelled"
    # it stopped at the third poll: polls come every _POLL expansions and transitions
    assert result.transitions <= 3 * checker._POLL
    assert result.states <= result.transitions + 1
    for verdict in result.properties.values():
        assert verdict.verdict in (INCOMPLETE, "violated")


def test_checks_in_threads_do_not_see_each_other(big):
    window = scenarios.load(str(DATA / "inhibit-window.yaml"))
    alone = [check(big), check(window, "no-sync")]
    results: dict[int, checker.Result] = {}

    def run(k, scenario, variant=None):
        results[k] = check(scenario, variant)

    threads = [
        threading.Thread(target=run, args=(0, big)),
        threading.Thread(target=run, args=(1, window, "no-sync")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, expected in enumerate(alone):
        got = results[k]
        assert (got.states, got.transitions, got.properties) == (
            expected.states,
            expected.transitions,
            expected.properties,
        )
