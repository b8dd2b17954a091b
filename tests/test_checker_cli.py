"""`hvtui check` through the real CLI: exit codes, JSON, the matrix, --save.

Every counterexample the checker prints is replayed by the real
`hvtui run`, which must reach the same violation at the schedule's last
step (or, for progress, end stuck where the schedule ends).
"""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from hvtui.check.search import check
from hvtui.model.properties import PROGRESS, PROPERTIES, VIOLATED
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

DATA = Path(__file__).parent / "data" / "check"
WINDOW = str(DATA / "inhibit-window.yaml")


def test_exit_0_when_exactly_the_expected_properties_fail(cli):
    code, out, err = cli("check", WINDOW)
    assert code == 0, err
    assert re.search(r"^  no-flush-while-inhibited +violated \(14\)$", out, re.M)
    assert "expected to fail: no-flush-while-inhibited -- met" in out
    assert err == ""


def test_exit_1_when_a_property_fails_that_nobody_expected(cli, tmp_path):
    quiet = tmp_path / "quiet.yaml"
    text = (DATA / "inhibit-window.yaml").read_text()
    quiet.write_text(text[: text.index("expect:")])
    code, out, _ = cli("check", str(quiet))
    assert code == 1
    assert "expected to fail: nothing; failed: no-flush-while-inhibited -- NOT MET" in out


def test_exit_1_when_an_expected_failure_does_not_happen(cli, tmp_path):
    # the VMM kicks vcpu0 out before clearing: nothing fails under posted ...
    code, out, _ = cli("check", str(DATA / "self-flush-exit.yaml"), "--variant", "posted")
    assert code == 0 and "expected to fail: nothing -- met" in out
    # ... so a file that expects progress to fail there is wrong, and says so
    claims = tmp_path / "claims-a-deadlock.yaml"
    text = (DATA / "self-flush-exit.yaml").read_text()
    claims.write_text(text[: text.index("expect:")] + "expect:\n  violations: [progress]\n")
    code, out, _ = cli("check", str(claims))
    assert code == 1
    assert "expected to fail: progress; failed: nothing -- NOT MET" in out
    # a deadlock is found, and named with its length, even without the partial-order reduction
    code, out, _ = cli("check", str(DATA / "self-flush-stuck.yaml"), "--no-por")
    assert code == 0 and re.search(r"^  progress +violated \(5\): ", out, re.M)


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.yaml"], r"^missing\.yaml: cannot read the file"),
        (["BAD"], r"^\S+bad-op\.yaml:\d+:\d+: actors\.vcpu0\[0\]\.op: "),
        (
            [WINDOW, "--save", WINDOW],
            r"inhibit-window\.yaml: already exists \(expected a new file, or --force",
        ),
        ([WINDOW, "--property", "progress"], r"^(hvtui: )?--property picks what --save writes"),
    ],
)
def test_exit_2_with_one_line_and_no_traceback_on_bad_input(cli, tmp_path, args, message):
    bad = tmp_path / "bad-op.yaml"
    bad.write_text("name: bad\nvcpus: 2\nactors:\n  vcpu0:\n    - {id: f, op: flushh}\n")
    args = [str(bad) if a == "BAD" else a for a in args]
    code, out, err = cli("check", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err.strip()), err
    assert "Traceback" not in err


def test_a_bound_that_is_not_a_positive_number_is_refused(cli):
    code, _, err = cli("check", WINDOW, "--max-states", "0")
    assert code == 2 and "positive" in err


def test_json_is_one_document_with_the_contract_keys(cli):
    code, out, err = cli("check", "--json", "--variant", "all", WINDOW)
    assert code == 0, err
    doc = json.loads(out)  # one document, nothing else on stdout
    results = doc["results"]
    assert [r["variant"] for r in results] == list(VARIANTS)
    for r in results:
        assert {
            "file",
            "variant",
            "complete",
            "states",
            "transitions",
            "seconds",
            "properties",
        } <= set(r)
        assert r["file"] == WINDOW and r["complete"] and r["met"]
        assert list(r["properties"]) == list(PROPERTIES)
        for prop, verdict in r["properties"].items():
            if verdict["verdict"] == VIOLATED:
                assert verdict["length"] == len(verdict["schedule"]) and verdict["shortest"]
            elif prop != PROGRESS:
                assert "schedule" not in verdict
    posted = results[0]["properties"]
    assert posted["no-flush-while-inhibited"]["verdict"] == "violated"
    assert posted["inhibit-holds"] == {"verdict": "holds"}


def without_seconds(out: str) -> str:
    doc = json.loads(out)
    for r in doc["results"]:
        r.pop("seconds")
    return json.dumps(doc)


def test_the_same_input_gives_the_same_output_whatever_the_hash_seed(cli):
    runs = [
        cli(
            "check",
            "--json",
            "--variant",
            "all",
            str(DATA / "twin-flushers.yaml"),
            env={"PYTHONHASHSEED": seed},
        )
        for seed in ("1", "2", "12345")
    ]
    assert {code for code, _, _ in runs} == {0}
    assert len({without_seconds(out) for _, out, _ in runs}) == 1
    text = [
        cli("check", str(DATA / "bystanders.yaml"), env={"PYTHONHASHSEED": s})[1]
        for s in ("3", "4")
    ]
    timeless = [re.sub(r"\d+\.\d\d s \([\d,]+ states/s\)", "", t) for t in text]
    assert timeless[0] == timeless[1]


def test_variant_all_prints_one_matrix_that_fits_in_a_mail(cli):
    code, out, _ = cli("check", "-q", "--variant", "all", WINDOW)
    assert code == 0
    table = out[out.index("inhibit-window: verdict per variant") :].splitlines()[1:]
    assert all(len(line) <= 100 for line in table)
    rows = {line.split()[0]: line for line in table if line.split()[0] in VARIANTS}
    assert list(rows) == list(VARIANTS)
    posted = dict(
        zip(PROPERTIES, rows["posted"].replace("FAIL ", "FAIL:").split()[1:], strict=True)
    )
    assert posted == {p: "holds" for p in PROPERTIES} | {"no-flush-while-inhibited": "FAIL:14"}
    assert "FAIL 19" in rows["no-sync"]


def test_a_bound_ends_with_incomplete_verdicts_and_names_itself(cli):
    code, out, _ = cli("check", "--json", "--max-states", "40", WINDOW)
    assert code == 1
    r = json.loads(out)["results"][0]
    assert not r["complete"] and r["bound"] == "--max-states 40" and r["states"] == 40
    assert {v["verdict"] for v in r["properties"].values()} <= {"incomplete", "violated"}
    code, out, _ = cli("check", "--max-states", "40", WINDOW)
    assert "INCOMPLETE: stopped by --max-states 40" in out
    assert "NOT MET (the search is incomplete)" in out


def test_progress_goes_to_stderr_when_asked(cli, capsys, monkeypatch):
    from hvtui.check import search
    from hvtui.cli.main import main

    big = str(Path(__file__).parent.parent / "scenarios" / "three-waiters.yaml")
    monkeypatch.setattr(search, "_REPORT_EVERY", 0.0)  # every poll reports: no clock involved
    assert main(["check", "-q", "--progress", "--no-por", "--no-generations", big]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines and all(
        re.match(r"checking \S+ \(posted\): [\d,]+ states, depth \d+", ln) for ln in lines
    )
    assert "checking" not in out
    _, _, quiet = cli("check", "-q", big)
    assert quiet == ""  # not a terminal, not asked


@pytest.mark.parametrize(
    "flag, name",
    [
        ("--no-dedup", "self-flush-exit.yaml"),  # a tree search: only tiny scenarios
        ("--no-generations", "second-target.yaml"),
        ("--no-symmetry", "twin-flushers.yaml"),
        ("--no-por", "second-target.yaml"),
    ],
)
def test_each_reduction_can_be_switched_off_and_changes_no_verdict(cli, flag, name):
    def verdicts(*flags):
        code, out, _ = cli("check", "--json", "--variant", "all", *flags, str(DATA / name))
        assert code == 0
        return [
            {p: (v["verdict"], v.get("length")) for p, v in r["properties"].items()}
            for r in json.loads(out)["results"]
        ]

    assert verdicts(flag) == verdicts()


# -- counterexamples, replayed by `hvtui run` -------------------------------------------


def test_save_writes_a_scenario_that_run_replays_and_check_accepts(cli, tmp_path):
    out = tmp_path / "cx.yaml"
    code, _, err = cli("check", WINDOW, "--variant", "no-sync", "--save", str(out))
    assert code == 0, err
    assert "saved: " in err
    saved = scenarios.load(str(out))
    assert saved.variant == "no-sync" and saved.name == "inhibit-window-no-sync-inhibit-holds-at-10"
    expected = check(scenarios.load(WINDOW), "no-sync").properties["inhibit-holds"]
    assert saved.schedule == expected.schedule  # the first in PROPERTIES order
    code, run_out, _ = cli("run", "--json", str(out))
    assert code == 0
    assert json.loads(run_out)["violations"]["inhibit-holds"]["step"] == len(saved.schedule)
    code, _, _ = cli("check", str(out))
    assert code == 0  # its expect names what fails under no-sync

    code, _, err = cli(
        "check", WINDOW, "--variant", "no-sync", "--save", str(out), "--property", "no-lost-wakeup"
    )
    assert code == 2 and "already exists" in err
    code, _, _ = cli(
        "check",
        WINDOW,
        "--variant",
        "no-sync",
        "--save",
        str(out),
        "--property",
        "no-lost-wakeup",
        "--force",
    )
    assert code == 0
    assert scenarios.load(str(out)).name == "inhibit-window-no-sync-no-lost-wakeup-at-19"


def test_save_with_nothing_failing_writes_nothing(cli, tmp_path):
    out = tmp_path / "none.yaml"
    code, _, err = cli("check", str(DATA / "self-flush-exit.yaml"), "--save", str(out))
    assert code == 0 and not out.exists()
    assert "nothing saved" in err


def test_every_counterexample_replays_through_run_to_its_violation(cli, tmp_path):
    cases = []
    for path in sorted(DATA.glob("*.yaml")):
        scenario = scenarios.load(str(path))
        for variant in VARIANTS:
            for prop, verdict in check(scenario, variant).properties.items():
                if verdict.verdict != VIOLATED:
                    continue
                file = tmp_path / f"{path.stem}.{variant}.{prop}.yaml"
                cx = replace(
                    scenarios.with_schedule(scenario, verdict.schedule),
                    variant=variant,
                    expect=scenarios.Expect(),
                )
                scenarios.save(cx, str(file))
                cases.append((str(file), prop, len(verdict.schedule)))
    assert len(cases) > 40
    code, out, err = cli("run", "--json", "-q", *[f for f, _, _ in cases])
    assert code == 0, err
    results = json.loads(out)["results"]
    for (file, prop, length), doc in zip(cases, results, strict=True):
        assert doc["file"] == file
        if prop == PROGRESS:
            assert doc["steps"] == length and doc["progress"]["verdict"] == VIOLATED, file
        else:
            assert doc["violations"][prop]["step"] == length, file


def test_the_check_path_never_imports_textual():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from hvtui.cli.main import main\n"
        f"rc = main(['check', '-q', {WINDOW!r}])\n"
        "assert rc == 0, rc\n"
        "assert 'textual' not in sys.modules\n"
        "import hvtui.check.search, hvtui.check.por\n"
        "import hvtui.check.symmetry, hvtui.check.generations\n"
        "assert 'textual' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_a_progress_verdict_names_the_first_waiters_and_counts_the_rest(cli, tmp_path):
    """Hundreds of suspended vCPUs would be one screen-wide line: the text names
    eight and counts the others; --json keeps every one."""
    flushers = "".join(
        f"  vcpu{c}: [{{id: f{c}, op: flush, targets: [0]}}]\n" for c in range(1, 13)
    )
    path = tmp_path / "crowd.yaml"
    path.write_text(
        f"name: crowd\nvcpus: 13\ninitial: {{inhibit: [0], mode: {{0: user}}}}\nactors:\n{flushers}"
    )
    code, out, _ = cli("check", str(path))
    line = next(line for line in out.splitlines() if line.startswith("  progress "))
    assert "blocked-by-design: vcpu1 waits at resume" in line
    assert line.count(" waits at ") == 8
    assert line.endswith("; and 4 more (--json lists them all)")
    code, out, _ = cli("check", str(path), "--json")
    detail = json.loads(out)["results"][0]["properties"][PROGRESS]["detail"]
    assert detail.count(" waits at ") == 12
