"""`hvtui [FILE] [--schedule ...] [--variant V]`: what opens, and what is refused before
anything is drawn.

Bad input is one line on stderr and exit 2, with nothing on stdout: the
terminal is never switched to the workbench's screen for a mistake.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from workbench_support import DEMO, ROOT

from hvtui.cli.workbench import configure, open_scenario
from hvtui.errors import InputError
from hvtui.tui.app import WorkbenchApp
from hvtui.view.library import builtin_dir, demo_path


def args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser)
    return parser.parse_args(argv)


def test_without_a_file_the_builtin_demo_opens():
    scenario = open_scenario(args())
    assert scenario.name == "reviewer-race"
    assert scenario.file == "scenarios/reviewer-race.yaml"  # relative: run from the checkout


def test_the_demo_is_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert builtin_dir() == DEMO.parent
    assert demo_path() == str(DEMO)
    assert open_scenario(args()).name == "reviewer-race"


def test_schedule_and_variant_open_that_interleaving_at_step_0():
    scenario = open_scenario(
        args(str(DEMO), "--schedule", "vcpu0, vcpu0 vmm", "--variant", "no-sync")
    )
    app = WorkbenchApp(scenario)
    assert app.bench.variant == "no-sync"
    assert app.bench.session.pos == 0
    assert app.bench.trace() == ["vcpu0", "vcpu0", "vmm"]


def test_a_schedule_that_cannot_be_replayed_is_refused_when_the_app_is_made():
    scenario = open_scenario(args(str(DEMO), "--schedule", "vcpu1"))
    with pytest.raises(
        InputError, match=r"^--schedule:1:1: schedule\[0\]: vcpu1 cannot take step 1"
    ):
        WorkbenchApp(scenario)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such.yaml"], "no-such.yaml: cannot read the file: no such file or directory"),
        (
            ["--schedule", "vcpu0,vpcu1"],
            "--schedule:1:7: schedule[1]: unknown actor 'vpcu1' (did you mean 'vcpu1'?)",
        ),
        (
            ["--schedule", "vcpu1 vcpu1 vcpu1"],
            "--schedule:1:1: schedule[0]: vcpu1 cannot take step 1: it has finished its ops",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_screen(cli, argv, message):
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""  # no screen was drawn
    assert err.count("\n") == 1 and err.startswith(message)
    assert "Traceback" not in err


def test_the_command_module_does_not_import_textual_until_it_runs():
    probe = (
        "import sys, hvtui.cli.workbench, hvtui.view.bench, hvtui.view.library; "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
