"""`hvtui export --format promela`: a model assembled from the step table,
the same bytes for the same scenario; `check --engine spin` without SPIN.
(tests/test_spin.py runs the models through SPIN.)"""

from __future__ import annotations

import re
from dataclasses import replace

from conftest import SCENARIOS, run_cli

from hvtui.exports import promela
from hvtui.model.steps import STEPS
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

RACE = str(SCENARIOS / "reviewer-race.yaml")


def test_the_same_scenario_gives_the_same_bytes(tmp_path):
    out = [tmp_path / "a.pml", tmp_path / "b.pml"]
    for path in out:
        assert run_cli("export", RACE, "--format", "promela", "-o", str(path))[0] == 0
    assert out[0].read_bytes() == out[1].read_bytes()
    code, stdout, _ = run_cli("export", RACE, "--format", "promela")
    assert code == 0 and stdout.encode() == out[0].read_bytes()


def test_the_header_names_scenario_variant_version_and_patches():
    code, text, _ = run_cli("export", RACE, "--format", "promela", "--variant", "request-first")
    assert code == 0
    header = text.split("*/")[0]
    assert "scenario reviewer-race (reviewer-race.yaml), variant request-first" in header
    assert re.search(r"hvtui \d+\.\d+\.\d+", header)
    assert "patches 2/7, 3/7, 5/7" in header
    assert "#define REQUEST_FIRST 1" in text and "#define SYNC 1" in text


def test_one_model_per_variant():
    scenario = scenarios.load(RACE)
    texts = {v: promela.render(replace(scenario, variant=v)) for v in VARIANTS}
    assert len(set(texts.values())) == len(VARIANTS)
    # no-sync has no sync steps at all: StepDef.applies leaves them out
    assert "/* sync (inh) */" in texts["posted"]
    assert "/* sync (inh) */" not in texts["no-sync"]
    assert "/* s2 */" not in texts["merged-state"] and "/* s2 */" in texts["posted"]


def test_every_step_is_one_d_step_of_its_actor():
    scenario = scenarios.load(RACE)
    model = promela.generate(scenario)
    text = model.text
    for d in STEPS:  # every StepDef has its Promela
        assert d.promela.effect
    # no placeholder is left unbound
    body = text.split("init {")[1]
    assert not re.search(r"\b(C|T|X|B|TH|ME|W|NT|LAST)\b|EACH\(|ALL\(|ANY\(|ANY_TARGET\(", body)
    # vcpu0's flush of [1, 2]: a check and a request per target, one enter, one complete
    vcpu0 = text.split("proctype p_vcpu0()")[1].split("proctype")[0]
    assert vcpu0.count("/* check (f) */") == 2 and vcpu0.count("/* request (f) */") == 2
    assert vcpu0.count("/* enter (f) */") == 1 and vcpu0.count("/* complete (f) */") == 1
    assert vcpu0.count("d_step") == 3 + 1 + 2 + 2 + 2 + 1 + 1 + 1  # + s1 x2, s2, s3
    # vcpu3 can never step (no ops, nothing names it): no process
    assert model.pids == (None, 0, 1, 2, 4, None)


def test_past_spins_processes_the_actors_share_one_scheduler(tmp_path):
    lines = ["name: many-threads", "vcpus: 1", "initial: {mode: {0: user}}", "actors:"]
    lines += [f"  vmm:t{i:03d}: [{{id: r{i}, op: run, vcpu: 0}}]" for i in range(300)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    model = promela.generate(scenarios.load(str(path)))
    assert model.text.count("proctype") == 2  # the scheduler and the watcher
    assert "pids: 0=init, 1=scheduler, 2=watcher" in model.text
    # each d_step's line names its actor: vcpu0's three always-available steps,
    # then thread i (actor 1 + i) its one `run`
    text = model.text.splitlines()
    assert sorted(model.lines.values()) == [0, 0, 0, *range(1, 301)]
    for line, actor in model.lines.items():
        assert text[line - 1].startswith("  :: d_step")
        if actor:
            assert f"(top[{actor - 1}] == 0 && tpc[{actor - 1}] == 0)" in text[line - 1]


def test_an_actor_with_more_ops_than_a_byte_counts_is_refused(tmp_path):
    ops = ", ".join(f"{{id: k{i}, op: exit, vcpu: 0}}" for i in range(256))
    path = tmp_path / "long.yaml"
    path.write_text(f"name: long\nvcpus: 1\nactors:\n  vmm: [{ops}]\n")
    code, out, err = run_cli("export", str(path), "--format", "promela")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}: actors.vmm: 256 ops (expected at most 255 for SPIN, whose model keeps an "
        "actor's op in a byte; hvtui's own engine, without --engine spin, takes any number)"
    ]


def test_check_with_spin_missing_says_how_to_install_it():
    code, out, err = run_cli("check", "--engine", "spin", RACE, env={"PATH": "/nonexistent"})
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "hvtui check --engine spin: spin is not installed: apt-get install spin "
        "(the Debian package), then try again"
    ]
