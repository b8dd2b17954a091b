"""`hvtui check --jobs N`: the same output as one process, Ctrl-C, memory shares, bad values.

Through the real CLI in a subprocess (the workers are spawned interpreters,
as a user's are). The only bytes allowed to differ between runs are the
wall-clock figures, which differ between two runs of `--jobs 1` as well.
"""

import json
import os
import pickle
import pty
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, descendants, interrupt_check, run_cli

from hvtui.check.search import Options, check
from hvtui.model.properties import PROPERTIES
from hvtui.scenario import load as scenarios
from hvtui.spin import toolchain

BIG = "scenarios/many-vcpus-4096.yaml"
FAMILY = "benchmarks/three-flushers-vs-vcpu3.yaml"
# some fail under some variants (no-sync loses wake-ups, request-first requests
# an inhibited vCPU), some under their own variant, one holds everywhere
FILES = [
    "scenarios/reviewer-race.yaml",
    "scenarios/lost-wakeup-no-sync.yaml",
    "scenarios/two-waiters.yaml",
    "scenarios/retry-second-target.yaml",
    "scenarios/basic-suspend-wake.yaml",
]
_CLOCK = re.compile(r"\d+\.\d\d s \([\d,]+ states/s\)")


def _text(out: str) -> str:
    return _CLOCK.sub("TIME", out)


def _json(out: str) -> dict:
    document = json.loads(out)
    for result in document["results"]:
        result.pop("seconds")
    return document


@pytest.mark.parametrize(
    "args",
    [
        ["--variant", "all", *FILES],
        ["--variant", "all", "--quiet", *FILES[:2]],
        FILES,  # each under its own variant
        ["--variant", "no-sync", "--no-por", *FILES[1:3]],
    ],
    ids=["all-variants", "quiet", "own-variants", "no-sync-unreduced"],
)
def test_two_workers_print_what_one_process_prints(args):
    one, two = run_cli("check", *args), run_cli("check", "--jobs", "2", *args)
    assert one[0] == two[0] == 0  # every file's expect block is met
    assert _text(two[1]) == _text(one[1])
    assert "FAIL" in one[1] or "violated (" in one[1]
    assert one[2] == two[2] == ""  # not a terminal: no progress


def test_two_workers_write_the_same_json_and_exit_code():
    one = run_cli("check", "--json", "--variant", "all", *FILES)
    two = run_cli("check", "--json", "--jobs", "2", "--variant", "all", *FILES)
    assert one[0] == two[0] == 0
    assert _json(two[1]) == _json(one[1])
    results = _json(one[1])["results"]
    assert [r["file"] for r in results][::8] == FILES  # file by file, variants in order
    assert any(p["verdict"] == "violated" for r in results for p in r["properties"].values())


def test_an_unexpected_violation_exits_1_with_workers_too(tmp_path):
    text = (ROOT / FILES[1]).read_text()
    unexpected = tmp_path / "no-expect.yaml"  # it fails under no-sync, and says nothing
    unexpected.write_text(text[: text.index("expect:")])
    args = ("--variant", "all", FILES[0], str(unexpected))
    one, two = run_cli("check", *args), run_cli("check", "-j", "auto", *args)
    assert one[0] == two[0] == 1
    assert _text(two[1]) == _text(one[1])
    assert "-- NOT MET" in one[1]


def test_save_writes_the_same_counterexample(tmp_path):
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    a = run_cli("check", "--variant", "all", "--save", str(one), *FILES)
    b = run_cli("check", "--variant", "all", "--jobs", "2", "--save", str(two), *FILES)
    assert a[0] == b[0] == 0
    assert one.read_text() == two.read_text()
    assert a[2].replace(str(one), "OUT") == b[2].replace(str(two), "OUT")


def test_results_and_scenarios_cross_a_pipe_pickled():
    scenario = scenarios.load(str(ROOT / FILES[1]))
    result = check(scenario, "no-sync", Options())
    assert pickle.loads(pickle.dumps(scenario)) == scenario
    assert pickle.loads(pickle.dumps(result)) == result
    assert result.violated  # a counterexample among what crossed


@pytest.mark.parametrize("value", ["-1", "x", "1.5", ""])
def test_a_bad_job_count_is_one_line_and_exit_2(value):
    code, out, err = run_cli("check", f"--jobs={value}", FILES[0])
    assert code == 2 and out == ""
    assert err == f"--jobs: {value!r} is not a number of processes (expected N >= 0 or auto)\n"


def test_help_says_what_auto_picks_and_how_memory_is_shared():
    code, out, _ = run_cli("check", "--help")
    flat = " ".join(out.split())
    assert code == 0
    assert f"one per CPU as os.cpu_count() counts them ({os.cpu_count()} here)" in flat
    assert "each with 1/N of the memory limit, default or --max-memory (both are totals)" in flat


def test_each_worker_gets_its_share_of_the_memory_limit():
    # 4M is less than any interpreter holds (a bare python3 is over 8M): each
    # check stops at its first look at memory, and names the limit it had
    args = ("check", "--json", "--max-memory", "4M", "--variant", "all", FAMILY)
    for jobs, limit in (("1", "4.0M"), ("2", "2.0M"), ("4", "1.0M")):
        code, out, err = run_cli(*args[:1], "--jobs", jobs, *args[1:])
        results = json.loads(out)["results"]
        assert code == 1 and len(results) == 8, err
        assert {r["bound"] for r in results} == {f"--max-memory {limit}"}, jobs


def test_one_check_runs_in_this_process_with_the_whole_limit():
    # --jobs 2 with a single check starts no worker: it keeps all of the limit.
    # The family starts at once (the 4096-vCPU file's setup could outlast a short
    # --max-seconds on a loaded machine, before any progress line) and runs seconds.
    code, _, err = run_cli("check", "--progress", "--jobs", "2", "--max-memory", "3G",
                           "--max-seconds", "2", "--no-por", "--variant", "request-first",
                           FAMILY)  # fmt: skip
    lines = [line for line in err.splitlines() if line.startswith("checking ")]
    assert code == 1 and lines, err
    assert all(line.endswith(" of 3.0G") for line in lines), lines


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone(pids: list[int]) -> list[int]:
    """Those of `pids` still running after a few seconds' grace (none, we hope)."""
    for _ in range(100):
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return left


def test_ctrl_c_stops_every_worker_prints_the_table_so_far_and_exits_130():
    code, out, err, _, started = interrupt_check("--jobs", "2", "--variant", "all", BIG, checks=2)
    assert len(started) >= 2  # two workers (and spawn's resource tracker)
    assert code == 130, err
    assert "Traceback" not in err
    assert err.rstrip().endswith(
        "hvtui check: interrupted (Ctrl-C): the verdicts above are those found so far"
    )
    # the two running checks, each stopped where it stood; the six after them not started
    assert out.count("INCOMPLETE: stopped by Ctrl-C") == 2, out
    assert len(re.findall(r"^  \S+ +incomplete$", out, re.M)) == 2 * len(PROPERTIES)
    table = out[out.index("\n-----") :].splitlines()[2:]  # the rows under the header's rule
    assert [row.split()[0] for row in table if row[:1].isalpha()] == ["posted", "request-first"]
    assert _gone(started) == []


def test_ctrl_c_with_json_and_workers_prints_one_document():
    args = ("--json", "--jobs", "2", "--variant", "all", BIG)
    code, out, _, _, started = interrupt_check(*args, checks=2)
    results = json.loads(out)["results"]
    assert code == 130
    assert [(r["variant"], r["complete"], r["bound"]) for r in results] == [
        ("posted", False, "Ctrl-C"),
        ("request-first", False, "Ctrl-C"),
    ]
    assert _gone(started) == []


def test_on_a_terminal_each_worker_has_a_line_and_they_are_erased_at_the_end():
    main, tty = pty.openpty()
    # --no-por --no-dedup: a tree search of the family, which no machine finishes
    # before the bound it must be stopped by (with dedup alone each variant
    # completes in a few seconds, with the reductions in one)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hvtui", "check", "--jobs", "2", "--variant", "all",
         "--max-seconds", "1.5", "--no-por", "--no-dedup", FAMILY],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=tty, env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    os.close(tty)
    out, _ = proc.communicate(timeout=300)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end has closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    text = shown.decode()
    assert proc.returncode == 1 and b"INCOMPLETE: stopped by --max-seconds 1.5" in out, out[-500:]
    # two lines drawn, then the cursor back up one to redraw them in place
    assert "\x1b[1F\x1b[J" in text
    frames = [re.sub(r"\x1b\[\d*F|\r", "", f) for f in text.split("\x1b[J")]
    lines = [f.split("\n") for f in frames if f]
    assert max(map(len, lines)) == 2  # a line per worker, never more
    assert all(len(line) < 100 for frame in lines for line in frame)  # none wraps
    assert all(line.startswith("checking ") for frame in lines for line in frame)
    assert text.endswith("\x1b[J")  # nothing left on screen before the verdicts
    assert "Traceback" not in text


@pytest.mark.skipif(toolchain.spin_path() is None, reason="SPIN is not installed")
def test_spin_runs_in_workers_with_the_same_verdicts(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    args = ("check", "--json", "--engine", "spin", "--variant", "no-sync", *FILES[:2])
    two = run_cli(*args[:1], "--jobs", "2", *args[1:], env=env)  # two compilers at once
    one = run_cli(*args, env=env)
    assert one[0] == two[0] == 0, two[2]
    assert _json(two[1]) == _json(one[1])
    # pan's -DMEMLIM is each worker's share: 2 models x 2 limits, each compiled once
    assert len(list(tmp_path.glob("hvtui/pan/*/pan"))) == 4


@pytest.mark.skipif(toolchain.spin_path() is None, reason="SPIN is not installed")
def test_ctrl_c_stops_spin_workers_and_their_compilers(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hvtui", "check", "--engine", "spin", "--jobs", "2",
         "--variant", "all", FAMILY],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)},  # nothing cached: gcc runs
    )  # fmt: skip
    try:
        for _ in range(600):  # until a worker's compiler (or pan) is running
            started = descendants(proc.pid)
            # named now: once stopped, a process's name is gone (or its pid reused)
            running = {_command(p) for p in started}
            if running & {"gcc", "cc1", "pan"}:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted (Ctrl-C)" in err
    assert {"gcc", "cc1"} & running
    assert _gone(started) == []


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""
