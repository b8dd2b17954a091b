"""`hvtui run --schedule`: a counterexample pasted from `check` replays to its violation."""

import json

from conftest import SCENARIOS, run_cli

LOST = str(SCENARIOS / "lost-wakeup-no-sync.yaml")


def test_a_check_counterexample_pasted_into_run_reaches_its_violation():
    code, out, _ = run_cli("check", LOST, "--json")
    verdict = json.loads(out)["results"][0]["properties"]["no-lost-wakeup"]
    assert (code, verdict["verdict"]) == (0, "violated")
    schedule = verdict["schedule"]

    code, out, err = run_cli("run", LOST, "--json", "--schedule", ", ".join(schedule))

    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["schedule"][: len(schedule)] == schedule
    assert doc["violations"]["no-lost-wakeup"] == {"step": len(schedule)}


def test_a_schedule_naming_an_unknown_actor_is_one_positioned_line():
    code, out, err = run_cli("run", LOST, "--schedule", "vcpu0 vmm vcpu9")
    assert (code, out) == (2, "")
    assert err == (
        "--schedule:1:11: schedule[2]: unknown actor 'vcpu9' "
        "(the scenario has 2 vCPUs: vcpu0..vcpu1)\n"
    )
