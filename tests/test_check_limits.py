"""A check ends by itself: memory by default, --max-states, --max-seconds, Ctrl-C.

Each limit stops the search where it stands; what was decided by then keeps
its verdict, the rest is `incomplete`, and the result names the limit.
Ctrl-C prints the verdicts so far and exits 130.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT, SCENARIOS, interrupt_check, run_cli

from hvtui.check import limits
from hvtui.check.search import Options, check
from hvtui.model.properties import PROPERTIES
from hvtui.scenario.load import load

BIG = "scenarios/many-vcpus-4096.yaml"
RACE = "scenarios/reviewer-race.yaml"


def _result(out: str) -> dict:
    (result,) = json.loads(out)["results"]
    return result


def test_by_default_the_only_limit_is_a_share_of_the_machines_memory():
    options = Options()
    assert (options.max_states, options.max_seconds) == (None, None)
    assert options.max_memory == int(limits.total_memory() * limits.MEMORY_SHARE)


def test_help_states_the_default_memory_limit():
    code, out, _ = run_cli("check", "--help")
    text = " ".join(out.split())
    share = f"{limits.MEMORY_SHARE:.0%}"
    assert f"(default {share} of this machine's {limits.format_size(limits.total_memory())}" in text
    assert "--max-states N" in text and "--max-seconds S" in text


def test_a_small_scenario_completes_under_the_defaults():
    code, out, _ = run_cli("check", "--json", RACE)
    result = _result(out)
    assert (code, result["complete"], result["bound"]) == (0, True, None)


@pytest.mark.parametrize(
    "flags, bound",
    [
        (["--max-states", "300"], "--max-states 300"),
        (["--max-seconds", "0.5"], "--max-seconds 0.5"),
        (["--max-memory", "1M"], "--max-memory 1.0M"),  # the process alone is more
    ],
)
def test_each_limit_ends_the_search_and_is_named_in_the_verdict(flags, bound):
    code, out, _ = run_cli("check", "--json", *flags, BIG)
    result = _result(out)
    assert code == 1  # nothing decided is not a pass
    assert (result["complete"], result["bound"]) == (False, bound)
    assert {v["verdict"] for v in result["properties"].values()} == {"incomplete"}
    assert bound in result["properties"]["inhibit-holds"]["detail"]

    code, out, _ = run_cli("check", *flags, BIG)
    assert f"INCOMPLETE: stopped by {bound}" in out


def test_what_was_found_before_a_limit_keeps_its_verdict():
    # the request-first race is violated within a few hundred states; the
    # search goes on for the others and stops at the bound
    full = check(load(str(SCENARIOS / "reviewer-race-request-first.yaml")), "request-first")
    cut = check(
        load(str(SCENARIOS / "reviewer-race-request-first.yaml")),
        "request-first",
        Options(max_states=full.states // 2),
    )
    assert full.complete and not cut.complete
    assert cut.bound == f"--max-states {full.states // 2}"
    violated = [p for p, v in cut.properties.items() if v.verdict == "violated"]
    assert violated and set(violated) <= set(full.violated)
    holds = {p for p, v in full.properties.items() if v.verdict == "holds"}
    assert {cut.properties[p].verdict for p in holds} == {"incomplete"}


@pytest.mark.parametrize("text", ["0", "-1", "x", "inf", "nan"])
def test_bad_max_seconds_is_refused(text):
    code, out, err = run_cli("check", "--max-seconds", text, RACE)
    assert (code, out) == (2, "")
    assert "--max-seconds" in err


@pytest.mark.parametrize("text, size", [("2G", 2 << 30), ("500M", 500 << 20), ("1.5K", 1536)])
def test_memory_sizes_read_as_people_write_them(text, size):
    assert limits.parse_size(text) == size
    assert limits.parse_size(limits.format_size(size)) == size


def test_a_percentage_of_ram_is_a_size():
    assert limits.parse_size("25%") == int(limits.total_memory() * 0.25)
    code, _, err = run_cli("check", "--max-memory", "lots", RACE)
    assert code == 2 and "'lots' is not a size" in err


def test_progress_shows_states_depth_rate_and_memory():
    # 5 s: at 4096 vCPUs the partial order's tables take a loaded machine a second or two
    code, _, err = run_cli("check", "--progress", "--max-seconds", "5", BIG)
    lines = [line for line in err.splitlines() if line.startswith("checking ")]
    assert code == 1 and lines, err
    shape = r"checking \S+ \(posted\): [\d,]+ states, depth \d+, [\d,]+ states/s, "
    shape += r"memory [\d.]+[KMGT] of [\d.]+[KMGT]"
    assert all(re.fullmatch(shape, line) for line in lines), lines


def test_ctrl_c_prints_the_verdicts_so_far_marked_incomplete_and_exits_130():
    code, out, err, shown, _ = interrupt_check(BIG)
    assert shown[0].startswith("checking scenarios/many-vcpus-4096.yaml (posted): ")
    assert code == 130, err
    assert "INCOMPLETE: stopped by Ctrl-C" in out
    assert out.count(" incomplete\n") == len(PROPERTIES)  # every property undecided
    assert "Traceback" not in err
    assert err.rstrip().endswith(
        "hvtui check: interrupted (Ctrl-C): the verdicts above are those found so far"
    )


def test_ctrl_c_with_json_still_prints_one_document():
    code, out, _, _, _ = interrupt_check("--json", "--variant", "all", BIG)
    (result,) = json.loads(out)["results"]  # the variants after it never started
    assert code == 130
    assert (result["variant"], result["complete"], result["bound"]) == ("posted", False, "Ctrl-C")


def test_the_python_api_stops_on_ctrl_c_and_hands_over_the_result():
    script = f"""
import os, signal
from hvtui.check.search import Interrupted, check
from hvtui.scenario.load import load

def progress(p):
    os.kill(os.getpid(), signal.SIGINT)

try:
    check(load({BIG!r}), progress=progress)
except Interrupted as stop:
    r = stop.result
    print(r.complete, r.bound, r.states > 0, set(v.verdict for v in r.properties.values()))
print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.splitlines() == ["False Ctrl-C True {'incomplete'}", "True"], proc.stderr


def test_the_python_api_stops_at_its_time_limit_and_on_cancel():
    scenario = load(BIG)
    assert check(scenario, options=Options(max_seconds=0.3)).bound == "--max-seconds 0.3"
    assert check(scenario, cancel=lambda: True).bound == "cancelled"
