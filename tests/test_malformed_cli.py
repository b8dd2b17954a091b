"""Malformed command lines and output paths, through the real CLI.

Each case is a crack an outside user found: the answer must be what a bad
scenario gets, exit 2, nothing on stdout, one line on stderr naming what is
wrong and what was expected, never a traceback, and no file written over.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT, SCENARIOS, run_cli

RACE = str(SCENARIOS / "reviewer-race.yaml")
TRACE = str(ROOT / "tests" / "data" / "traces" / "reviewer-race.report")


def refused(*args: str, cwd=ROOT) -> str:
    code, out, err = run_cli(*args, cwd=cwd)
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    return err.rstrip("\n")


# argparse would print its usage block and then `prog: error: ...`: two lines
# or more, unlike every other refusal; the usage is one --help away.
@pytest.mark.parametrize(
    "args, line",
    [
        (["run"], "hvtui run: the following arguments are required: FILE (see hvtui run --help)"),
        (
            ["run", RACE, "--bogus"],
            "hvtui run: unrecognized arguments: --bogus (see hvtui run --help)",
        ),
        (
            ["check", RACE, "--max-states", "-1"],
            "--max-states: '-1' is not a positive number of states (see hvtui check --help)",
        ),
        (
            ["check", RACE, "--max-seconds", "nan"],
            "--max-seconds: 'nan' is not a positive number of seconds (see hvtui check --help)",
        ),
        (
            ["export", RACE, "-f", "bogus"],
            "--format: 'bogus' is not a choice (expected one of diagram, markdown, mermaid, "
            "svg, ftrace, json, cast, perfetto, promela)",
        ),
        (
            ["export", RACE],
            "hvtui export: the following arguments are required: --format/-f "
            "(see hvtui export --help)",
        ),
        (
            ["run", RACE, "--json", "--jsonl"],
            "--jsonl: not allowed with argument --json (see hvtui run --help)",
        ),
        (
            ["check", RACE, "--spin-cc", "-O2"],
            "--spin-cc: expected one argument (a value that starts with '-' is written "
            "--spin-cc=VALUE)",
        ),
        (["steps", "extra"], "hvtui steps: unrecognized arguments: extra (see hvtui steps --help)"),
        (["--bogus"], "hvtui: unrecognized arguments: --bogus (see hvtui --help)"),
    ],
    ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else "",
)
def test_a_command_line_mistake_is_one_line(args, line):
    assert refused(*args) == line


def test_an_ambiguous_option_names_the_candidates():
    line = refused("check", RACE, "--max", "3")
    assert line.startswith("hvtui check: ambiguous option: --max could match --max-")


@pytest.mark.parametrize(
    "args",
    [
        ["export", RACE, "-f", "diagram", "-o", "{dir}", "--force"],
        ["schema", "-o", "{dir}", "--force"],
        ["trace", TRACE, "--save", "{dir}", "--force"],
        ["check", RACE, "--save", "{dir}", "--force"],
    ],
    ids=lambda a: a[0],
)
def test_forcing_an_output_onto_a_directory_is_refused(args, tmp_path):
    (tmp_path / "keep").write_text("mine\n")
    args = [a.format(dir=tmp_path) for a in args]
    assert refused(*args) == f"{tmp_path}: is a directory (expected a file name to write)"
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]


def test_schema_never_writes_over_a_file_unasked(tmp_path):
    target = tmp_path / "scenario.yaml"
    target.write_text("name: mine\n")
    assert refused("schema", "-o", str(target)) == (
        f"{target}: already exists (expected a new file, or --force to replace it)"
    )
    assert target.read_text() == "name: mine\n"
    code, out, err = run_cli("schema", "-o", str(target), "--force")
    assert (code, out, err) == (0, "", "")
    assert target.read_text().startswith('{\n  "$schema"')


@pytest.mark.parametrize(
    "args",
    [
        ["check", RACE, "--save", "{dir}/no/such/out.yaml"],
        ["trace", TRACE, "--save", "{dir}/no/such/out.yaml"],
    ],
    ids=lambda a: a[0],
)
def test_a_save_into_a_missing_directory_is_refused_before_the_work(args, tmp_path):
    args = [a.format(dir=tmp_path) for a in args]
    assert refused(*args) == (
        f"{tmp_path}/no/such/out.yaml: cannot write here: No such file or directory "
        "(expected a writable directory)"
    )


def test_an_empty_output_name_is_refused():
    assert refused("export", RACE, "-f", "diagram", "-o", "") == (
        "--output: an empty file name (expected a path to write to)"
    )


def test_a_diagram_of_no_actors_is_refused():
    assert refused("export", RACE, "-f", "diagram", "--actors", ", ,") == (
        "--actors:1:1: no actor named (expected some of CPU0, CPU1, CPU2, CPU3, VMM)"
    )


def test_comparing_a_variant_with_itself_is_refused():
    assert refused("compare", RACE, "--variants", "posted, posted") == (
        "--variants:1:9: 'posted' twice (expected two different variants, e.g. posted,no-sync)"
    )


# Ctrl-C while the command's modules still import (Rich, YAML, the model: a
# tenth of a second) escaped main() as a traceback; inside the import
# machinery CPython even printed "Exception ignored" and went on running.
INTERRUPT_WHILE_IMPORTING = """
import importlib, os, signal, sys
import hvtui.cli.main as cli
real = importlib.import_module
def slow_import(name, *args):
    os.kill(os.getpid(), signal.SIGINT)
    return real(name, *args)
importlib.import_module = slow_import
sys.exit(cli.main(sys.argv[1:]))
"""

INTERRUPT_WHILE_RUNNING = """
import os, signal, sys
import hvtui.cli.main as cli, hvtui.runs.runner as runner
def replay_to_end(*args):
    os.kill(os.getpid(), signal.SIGINT)
runner.replay_to_end = replay_to_end
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("program", [INTERRUPT_WHILE_IMPORTING, INTERRUPT_WHILE_RUNNING])
def test_ctrl_c_ends_quietly_with_130(program):
    proc = subprocess.run(
        [sys.executable, "-c", program, "export", RACE, "-f", "diagram"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (130, "", "")


@pytest.mark.parametrize("args", [[""], ["run", ""], ["export", "", "-f", "json"]], ids=repr)
def test_an_empty_file_name_is_refused_not_read_as_no_file(args):
    # `hvtui ""` opened the built-in demo, as if no file had been named
    assert refused(*args) == "hvtui: an empty file name (expected a scenario file)"


def test_a_dash_says_scenarios_are_not_read_from_stdin(tmp_path):
    assert refused("run", "-", cwd=tmp_path) == (
        "-: cannot read the file: no such file or directory "
        "(expected a scenario file: a scenario is read from a file, not stdin)"
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_that_is_not_utf8_gets_the_grid_not_a_traceback(encoding):
    # Rich's grid has an ellipsis and box lines: a UnicodeEncodeError ended `run`
    code, out, err = run_cli("run", RACE, env={"PYTHONIOENCODING": encoding})
    assert (code, err) == (0, ""), err
    assert out.startswith("reviewer-race (") and "| vcpu |" in out


def _with_streams(args, stdout, close=()):
    """`hvtui ARGS` with stdout where given and the descriptors `close` closed."""
    proc = subprocess.run(
        [sys.executable, "-m", "hvtui", *args],
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: [os.close(fd) for fd in close],
    )
    return proc.returncode, proc.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args", [["run", RACE], ["check", "--json", RACE], ["export", RACE, "-f", "diagram"]]
)
def test_a_full_disk_under_stdout_is_one_line(args):
    with open("/dev/full", "w") as full:
        code, err = _with_streams(args, full)
    assert (code, err) == (
        2,
        "hvtui: cannot write the output: No space left on device (expected room for it)\n",
    )


def test_a_closed_stdout_is_one_line():
    code, err = _with_streams(["run", RACE], subprocess.DEVNULL, close=(1,))
    assert (code, err) == (
        2,
        "hvtui: stdout is closed (expected a terminal, a file or a pipe; >/dev/null to see "
        "nothing)\n",
    )


def test_a_closed_stderr_keeps_the_error_off_stdout(tmp_path):

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nvcpus: 0\nactors: {}\n")
    out = tmp_path / "out"
    with open(out, "w") as f:
        code, _ = _with_streams(["run", str(bad)], f, close=(2,))
    assert code == 2 and out.read_text() == ""
