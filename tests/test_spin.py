"""`hvtui check --engine spin` gives the hvtui engine's verdicts, and its
counterexamples replay through `hvtui run` to the same violation.

SPIN must be installed (apt-get install spin); .ci/run installs it, and
with CI set a missing SPIN fails these tests instead of skipping them.
Compiled pans are cached by model hash, so a rerun costs the searches only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis_programs import programs, variants

from hvtui.check.search import Options, check
from hvtui.cli.main import main
from hvtui.exports import promela
from hvtui.model.properties import BLOCKED_BY_DESIGN, PROGRESS, PROPERTIES, VIOLATED
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios
from hvtui.scenario.load import Scenario
from hvtui.scenario.save import save
from hvtui.spin import check as spin
from hvtui.spin import toolchain

ROOT = Path(__file__).parent.parent
RACE = str(ROOT / "scenarios" / "reviewer-race.yaml")
PLAIN = Options(generations=False, symmetry=False, por=False, max_states=20_000)


@pytest.fixture(autouse=True)
def needs_spin():
    if shutil.which("spin") is None or shutil.which(toolchain.compiler()) is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set and spin or gcc is missing: .ci/run installs them")
        pytest.skip("SPIN is not installed (apt-get install -y spin); .ci/run installs it")


def outcome(result) -> dict[str, tuple[str, int | None]]:
    """Each property's verdict and its counterexample's length."""
    return {
        p: (v.verdict, None if v.schedule is None else len(v.schedule))
        for p, v in result.properties.items()
    }


def replays_through_run(path: str, variant: str, result, capsys) -> None:
    """Every counterexample, given to `hvtui run --schedule`, ends at its violation."""
    for prop, verdict in result.properties.items():
        if verdict.schedule is None:
            continue
        capsys.readouterr()
        args = ["run", path, "--variant", variant, "--schedule", ",".join(verdict.schedule)]
        main([*args, "--json"])
        out, err = capsys.readouterr()
        assert not err, err
        doc = json.loads(out)
        if prop == PROGRESS:  # nothing can step where the schedule ends
            assert doc["steps"] == len(verdict.schedule)
            assert doc["progress"] == {"verdict": verdict.verdict, "detail": verdict.detail}
        else:  # the schedule's last step is the first to violate it
            first = [e["time"] for e in doc["events"] if prop in e.get("violations", ())]
            assert first and first[0] == len(verdict.schedule), (prop, first)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_reviewers_race_gets_the_same_verdicts_from_both_engines(variant, capsys):
    scenario = scenarios.load(RACE)
    ours = check(scenario, variant)
    theirs = spin.check(scenario, variant)
    assert theirs.complete and ours.complete
    assert outcome(theirs) == outcome(ours)
    # one pan state per hvtui state: the plain search (no reductions) counts the same
    assert theirs.states == check(scenario, variant, PLAIN).states
    assert theirs.expected == ours.expected and theirs.met == ours.met
    replays_through_run(RACE, variant, theirs, capsys)


@settings(
    max_examples=6,
    derandomize=True,
    phases=(Phase.generate,),  # a shrink would recompile pan hundreds of times
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(program=programs(), variant=variants)
def test_random_small_programs_get_the_same_verdicts(program, variant, tmp_path, capsys):
    scenario = Scenario(
        str(tmp_path / "random.yaml"), "random", "", program.vcpus, variant, program
    )
    plain = check(scenario, variant, PLAIN)
    theirs = spin.check(scenario, variant)
    if not plain.complete:  # too big for the budget: nothing to compare
        return
    assert theirs.complete
    assert outcome(theirs) == outcome(check(scenario, variant)) == outcome(plain)
    assert theirs.states == plain.states
    path = str(tmp_path / "random.yaml")
    save(scenario, path, overwrite=True)
    replays_through_run(path, variant, theirs, capsys)


def table(text: str) -> list[str]:
    """The verdict rows of `check`'s text: "  <property>  <verdict>"."""
    return [line for line in text.splitlines() if line[2:].split(" ")[0] in PROPERTIES]


def test_the_cli_prints_the_hvtui_engines_table_and_json(capsys):
    args = ["check", RACE, "--variant", "no-sync", "-q"]
    assert main(args) == 0
    ours = capsys.readouterr().out
    assert main([*args, "--engine", "spin"]) == 0
    theirs = capsys.readouterr().out
    # the same verdict table (the schedules may differ: both are shortest)
    rows = [line for line in ours.splitlines() if line.split()[:1] in ([p] for p in PROPERTIES)]
    assert len(rows) == len(PROPERTIES)
    assert rows == [
        line for line in theirs.splitlines() if line.split()[:1] in ([p] for p in PROPERTIES)
    ]
    assert theirs.splitlines()[-1] == ours.splitlines()[-1]  # expected to fail: ... -- met
    assert main(["check", RACE, "--engine", "spin", "--json", "--variant", "all"]) == 0  # all met
    doc = json.loads(capsys.readouterr().out)
    by_variant = {r["variant"]: r for r in doc["results"]}
    assert set(by_variant) == set(VARIANTS)
    entry = by_variant["no-sync"]["properties"]["inhibit-holds"]
    assert entry["verdict"] == VIOLATED and entry["shortest"] and entry["length"] == 12
    assert by_variant["posted"]["properties"]["progress"]["verdict"] == BLOCKED_BY_DESIGN


def test_a_counterexample_saved_from_spin_runs_to_its_violation(tmp_path, capsys):
    out = tmp_path / "cex.yaml"
    main(["check", RACE, "--engine", "spin", "--variant", "request-first", "--save", str(out)])
    capsys.readouterr()
    assert main(["run", str(out), "--json"]) == 0  # its expect block names what check found
    doc = json.loads(capsys.readouterr().out)
    assert doc["violations"]


def test_pan_is_compiled_once_per_model(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    scenario = scenarios.load(RACE)
    first = spin.check(scenario, "posted")
    again = spin.check(scenario, "posted")
    assert not first.times.cached and first.times.cc > 0
    assert again.times.cached and again.times.cc == 0 and again.times.spin == 0
    assert len(list((tmp_path / "hvtui" / "pan").iterdir())) == 1
    other = spin.check(scenario, "no-sync")  # another variant is another model
    assert not other.times.cached
    assert outcome(again) == outcome(first)


def test_bitstate_cannot_say_holds(capsys):
    scenario = scenarios.load(RACE)
    result = spin.check(scenario, "posted", spin.SpinOptions(cc_flags=("-DBITSTATE",)))
    verdicts = {p: v.verdict for p, v in result.properties.items()}
    assert verdicts["no-flush-while-inhibited"] == VIOLATED  # a violation found is one
    assert verdicts["inhibit-holds"] == "incomplete"
    assert not result.complete and "bitstate" in result.bound


# Four flushers and two VMM threads: two violations within 14 steps, then
# more states than pan stores in a minute
WIDE = """
name: wide
vcpus: 6
initial: {inhibit: [4], mode: {4: user, 5: user}}
actors:
  vcpu0: [{id: fa, op: flush, targets: all}]
  vcpu1: [{id: fm, op: flush, targets: {mask: 0x30}}]
  vcpu2: [{id: fl, op: flush, targets: [0, 5]}, {id: k, op: kernel_work}]
  vcpu3: [{id: fs, op: flush, targets: {sparse: {0: 0x11}}}]
  vmm: [{id: c4, op: set_inhibit, vcpu: 4, value: false}, {id: r4, op: run, vcpu: 4}]
  'vmm:b':
    - {id: s5, op: set_inhibit, vcpu: 5, value: true}
    - {id: r5, op: run, vcpu: 5}
    - {id: e5, op: exit, vcpu: 5}
    - {id: c5, op: set_inhibit, vcpu: 5, value: false}
"""


def test_max_seconds_is_the_whole_checks_and_pan_stopped_by_it_tells_its_states(monkeypatch):
    """Each pan run gets what the earlier runs left of --max-seconds (each got
    all of it, so three runs could take three times as long), and the one it
    stops is interrupted as Ctrl-C would: pan then prints how far it got,
    where killed it said nothing and the check reported 0 states."""
    timeouts = []
    search = toolchain.search

    def timed(pan, checked, flags, timeout, cancel):
        timeouts.append(timeout)
        return search(pan, checked, flags, timeout, cancel)

    monkeypatch.setattr(toolchain, "search", timed)
    result = spin.check(
        scenarios.parse(WIDE, "wide.yaml"), "posted", spin.SpinOptions(max_seconds=8)
    )
    assert not result.complete and result.bound == "--max-seconds (pan was stopped)"
    assert result.properties["no-flush-while-inhibited"].verdict == VIOLATED
    assert result.properties["inhibit-holds"].verdict == "incomplete"
    assert result.states > 10_000 and result.depth > 14
    assert len(timeouts) == 3 and 8 > timeouts[0] > timeouts[1] > timeouts[2]


def test_ctrl_c_stops_pan_where_it_stands_and_hands_over_the_verdicts_so_far():
    """The first Ctrl-C (here, as the third pan run starts, after two runs
    found a violation each) stops that run as it stops hvtui's search:
    Interrupted carries both violations, the states pan had stored and every
    other property incomplete, where a bare KeyboardInterrupt carried nothing."""
    script = f"""
import os, signal
from hvtui.check.search import Interrupted
from hvtui.scenario.load import parse
from hvtui.spin import check as spin, toolchain

search, calls = toolchain.search, []

def third_is_interrupted(*args):
    calls.append(args)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGINT)
    return search(*args)

toolchain.search = third_is_interrupted
try:
    spin.check(parse({WIDE!r}, "wide.yaml"), "posted")
except Interrupted as stop:
    r = stop.result
    print(r.bound, r.complete, r.states > 0, len(calls))
    print(*sorted((v.verdict, p) for p, v in r.properties.items() if v.verdict != "incomplete"))
    print(sorted({{v.verdict for v in r.properties.values()}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.splitlines() == [
        "Ctrl-C False True 3",
        "('violated', 'no-flush-while-inhibited') ('violated', 'sync-waits-for-flushes-only')",
        "['incomplete', 'violated']",
    ], proc.stderr


def test_a_drifted_model_is_caught_by_the_replay(monkeypatch):
    """Were the Promela to allow what the Python does not, SPIN's schedule would
    not replay on hvtui's engine, and the check says so instead of reporting it."""
    from hvtui.model import steps

    service = steps.BY_KIND["service"]
    # a request serviced even outside KVM_RUN: a shorter way to violate
    # no-flush-while-inhibited than any hvtui allows
    drifted = replace(service, promela=service.promela._replace(guard="pending_flush[C]"))
    monkeypatch.setattr(
        "hvtui.exports.promela.ANYTIME",
        tuple(drifted if d is service else d for d in steps.ANYTIME),
    )
    with pytest.raises(spin.ModelDrift, match="cannot step"):
        spin.check(scenarios.load(RACE), "posted")


def test_past_spins_processes_one_scheduler_takes_every_actors_steps(tmp_path, capsys):
    """260 VMM threads race to run vcpu0 (in user mode): the first one wins and
    the rest wait for its mutex forever, a deadlock after one step."""
    lines = ["name: many-threads", "vcpus: 1", "initial: {mode: {0: user}}", "actors:"]
    lines += [f"  vmm:t{i:03d}: [{{id: r{i}, op: run, vcpu: 0}}]" for i in range(260)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    scenario = scenarios.load(str(path))
    assert "proctype p_scheduler()" in promela.render(scenario)
    theirs = spin.check(scenario, "posted")
    plain = check(scenario, "posted", PLAIN)
    assert theirs.states == plain.states == 261
    assert outcome(theirs) == outcome(plain)
    assert theirs.properties[PROGRESS].schedule == ("vmm:t000",)
    replays_through_run(str(path), "posted", theirs, capsys)
