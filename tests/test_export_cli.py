"""`hvtui export` as a user types it: where the bytes go, what it refuses, what it never imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli

DEMO = "scenarios/reviewer-race.yaml"


def test_output_file_is_written_and_then_never_clobbered_without_force(tmp_path):
    out = tmp_path / "race.txt"
    code, stdout, err = run_cli("export", DEMO, "--format", "diagram", "-o", str(out))
    assert (code, stdout, err) == (0, "", "")
    first = out.read_text()
    assert first.startswith("reviewer-race: the series as posted (patches 2/7 and 5/7)\n")

    out.write_text("my notes\n")
    code, stdout, err = run_cli("export", DEMO, "--format", "markdown", "-o", str(out))
    assert code == 2
    assert err == f"{out}: already exists (expected a new file, or --force to replace it)\n"
    assert out.read_text() == "my notes\n"

    code, _, err = run_cli("export", DEMO, "--format", "diagram", "-o", str(out), "--force")
    assert (code, err) == (0, "")
    assert out.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["race.txt"]  # no temp file left behind


def test_json_flag_prints_one_document_saying_where_the_export_went(tmp_path):
    out = tmp_path / "race.mmd"
    code, stdout, err = run_cli("export", DEMO, "-f", "mermaid", "-o", str(out), "--json")
    assert (code, err) == (0, "")
    doc = json.loads(stdout)
    assert doc == {
        "file": DEMO,
        "format": "mermaid",
        "steps": 17,
        "output": str(out),
        "bytes": len(out.read_bytes()),
    }


def test_json_flag_without_output_carries_the_export_itself():
    code, stdout, _ = run_cli("export", DEMO, "-f", "diagram", "--json")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["content"].startswith("reviewer-race: the series as posted")
    code, stdout, _ = run_cli("export", DEMO, "-f", "json", "--json")
    assert json.loads(stdout)["content"]["violations"] == {"no-flush-while-inhibited": {"step": 17}}


def test_variant_override_exports_the_run_under_another_variant():
    code, stdout, _ = run_cli(
        "export", "scenarios/target-forms.yaml", "-f", "diagram", "--variant", "request-first"
    )
    assert code == 0
    assert stdout.startswith("target-forms: the reviewer's proposal on 5/7")
    # the reviewer's order: the first request goes out before the first flag is read
    assert stdout.index("kvm_make_request(") < stdout.index("READ_ONCE(")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--format", "svg", "--size", "120"],
            "--size: '120' is not a terminal size (expected WxH, e.g. 120x40)\n",
        ),
        (
            ["--format", "diagram", "--size", "80x24"],
            "--size: only applies to --format svg or cast, not diagram\n",
        ),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args, message):
    code, stdout, err = run_cli("export", DEMO, *args)
    assert (code, stdout, err) == (2, "", message)


def test_a_broken_scenario_is_reported_with_its_position(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nvcpus: 2\nactors:\n  vcpu0:\n    - {op: flush, targets: [7]}\n")
    code, stdout, err = run_cli("export", str(bad), "-f", "diagram")
    assert (code, stdout) == (2, "")
    assert re.fullmatch(rf"{re.escape(str(bad))}:5:\d+: .*out of range.*\n", err)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "fmt", ["diagram", "markdown", "mermaid", "json", "svg", "cast", "perfetto"]
)
def test_two_exports_of_the_same_run_are_byte_identical(fmt):
    first = run_cli("export", DEMO, "--format", fmt)
    second = run_cli("export", DEMO, "--format", fmt)
    assert first[0] == 0
    assert first == second


@pytest.mark.parametrize("fmt", ["svg", "cast"])
def test_a_recovery_file_left_for_the_scenario_stays_out_of_the_picture(tmp_path, fmt):
    """A workbench session on the file that ended without a save left work to
    recover: the workbench offers it, an export of the run shows the run."""
    from hvtui.scenario.load import load
    from hvtui.view import recovery

    state = {"HVTUI_STATE_DIR": str(tmp_path)}
    _, clean, _ = run_cli("export", DEMO, "-f", fmt, "--size", "100x30", env=state)
    os.environ["HVTUI_STATE_DIR"] = str(tmp_path)  # where recovery.write puts it
    try:
        recovery.write(str(ROOT / DEMO), load(str(ROOT / DEMO)))
    finally:
        del os.environ["HVTUI_STATE_DIR"]
    code, shot, err = run_cli("export", DEMO, "-f", fmt, "--size", "100x30", env=state)
    assert (code, err) == (0, "")
    assert "without a save" not in shot and shot == clean


def test_svg_is_the_workbench_at_the_end_at_the_chosen_size():
    code, small, _ = run_cli("export", DEMO, "-f", "svg", "--size", "100x30")
    assert code == 0
    code, large, _ = run_cli("export", DEMO, "-f", "svg")
    assert small.startswith("<svg") and large.startswith("<svg")
    assert "hvtui:&#160;reviewer-race" in large  # the screenshot's title (spaces escaped)
    # the terminal's width in cells sets the SVG's width: 120 columns draw wider than 100
    widths = [float(re.search(r'viewBox="0 0 ([0-9.]+)', s).group(1)) for s in (small, large)]
    assert widths[0] < widths[1]


def test_a_saved_counterexample_exports_like_any_scenario(tmp_path):
    saved = tmp_path / "cex.yaml"
    code, _, err = run_cli(
        "check",
        "scenarios/lost-wakeup-no-sync.yaml",
        "-q",
        "--save",
        str(saved),
        "--property",
        "no-lost-wakeup",
    )
    assert saved.exists(), err
    code, stdout, err = run_cli("export", str(saved), "-f", "diagram")
    assert (code, err) == (0, "")
    assert stdout.startswith("lost-wakeup-no-sync-no-lost-wakeup-at-10: ")
    assert "* after 10, CPU0 is suspended waiting on CPU1" in stdout


def test_text_exports_never_import_textual():
    """Textual costs ~150 ms at start-up; only --format svg and cast may pay it."""
    probe = (
        "import sys; from hvtui.cli.main import main\n"
        "for fmt in ('diagram', 'markdown', 'mermaid', 'json', 'perfetto'):\n"
        f"    assert main(['export', '{DEMO}', '-f', fmt, '-o', '/dev/null', '--force']) == 0\n"
        "print('textual' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False\n"
