"""Bad input, a third round: each case here once broke the rule that a refusal
is one printable line `FILE:LINE:COL: ...` (or `OPTION: ...`), exit 2, nothing
on stdout, before any work, found by hand or by random mutation of the
scenarios. Every one goes through the real CLI in a subprocess.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, SCENARIOS, run_cli

RACE = str(SCENARIOS / "reviewer-race.yaml")
TRACE = str(ROOT / "tests" / "data" / "traces" / "reviewer-race.report")
HEAD = "name: t\nvcpus: 3\n"


def refused(*args: str) -> str:
    code, out, err = run_cli(*args)
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    # str.splitlines() breaks at NEL and the line separators too, as editors do
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    line = err.rstrip("\n")
    assert line.isprintable(), repr(line)  # no ESC for the terminal to obey
    return line


def scenario(tmp_path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- what the user wrote, echoed raw into the message ---------------------------------
# A key is quoted escaped, but the field path joined it as it was: a NEL or a
# U+2028 broke the one line in two, an ESC drove the reader's terminal.


@pytest.mark.parametrize(
    "key, shown",
    [("\\x85", "\\x85"), ("\\u2028", "\\u2028"), ("\\e]0;pwned\\a", "\\x1b]0;pwned\\x07")],
    ids=["nel", "line-separator", "osc-title"],
)
def test_a_control_character_in_an_op_key_is_escaped_in_the_path(key, shown, tmp_path):
    ops = f'  vmm:\n    - {{"{key}": 1, op: run, vcpu: 1}}\n'
    path = scenario(tmp_path, HEAD + "actors:\n" + ops)
    assert refused("run", path) == (
        f"{path}:5:8: actors.vmm[0].{shown}: unknown key '{shown}' "
        "(expected id, op, vcpu in a run op)"
    )


def test_a_line_break_in_an_actor_name_is_escaped_in_the_path(tmp_path):
    path = scenario(tmp_path, HEAD + 'actors:\n  "vcpu\\x85": []\n')
    assert refused("check", path) == (
        f"{path}:4:3: actors.vcpu\\x85: unknown actor 'vcpu\\x85' "
        "(expected vcpuN, vmm or vmm:<name>)"
    )


def test_a_file_name_with_an_escape_sequence_is_shown_escaped(tmp_path):
    path = tmp_path / "\x1b[2Jgone\x85.yaml"
    assert refused("run", str(path)) == (
        f"{tmp_path}/\\x1b[2Jgone\\x85.yaml: cannot read the file: "
        "no such file or directory (expected a scenario file)"
    )


def test_an_unknown_argument_with_an_escape_sequence_is_shown_escaped():
    assert refused("schema", "\x1b[2J") == (
        "hvtui schema: unrecognized arguments: \\x1b[2J (see hvtui schema --help)"
    )


# -- an output path that can only fail, refused before the work -----------------------
# `-o newdir/`, `-o x/..` and `-o missing/../out` passed the early check (a path
# normalised by abspath() has a directory that exists) and failed only when the
# export, check or trace search was done: a bad scenario file shows which came first.


@pytest.mark.parametrize(
    "out, says",
    [
        ("newdir/", "names a directory, not a file (expected a file name to write)"),
        ("x/..", "names a directory, not a file (expected a file name to write)"),
        (
            "missing/../out.txt",
            "cannot write here: No such file or directory (expected a writable directory)",
        ),
        (
            "/proc/hvtui-out.txt",
            "cannot write here: No such file or directory (expected a writable directory)",
        ),
    ],
    ids=["trailing-slash", "dot-dot", "missing-then-dot-dot", "proc"],
)
@pytest.mark.parametrize("command", ["export", "check", "trace"])
def test_an_output_path_that_cannot_be_a_file_is_refused_first(command, out, says, tmp_path):
    bad = scenario(tmp_path, HEAD + "actors: []\n")  # refused too, but after the output
    args = {
        "export": ["export", bad, "-f", "diagram", "-o", out],
        "check": ["check", bad, "--save", out],
        "trace": ["trace", bad, "--save", out],
    }[command]
    code, stdout, err = run_cli(*args, cwd=tmp_path)
    assert (code, stdout, err) == (2, "", f"{out}: {says}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # no temp file left


def test_a_check_saved_under_a_trailing_slash_prints_nothing_first(tmp_path):
    # it used to print the whole check on stdout, then refuse the save
    code, out, err = run_cli("check", RACE, "--save", "newdir/", cwd=tmp_path)
    assert (code, out) == (2, ""), err
    assert err == "newdir/: names a directory, not a file (expected a file name to write)\n"


def test_an_output_into_a_real_directory_is_still_written(tmp_path):
    (tmp_path / "d").mkdir()
    code, out, err = run_cli("export", RACE, "-f", "diagram", "-o", "d/../d/r.txt", cwd=tmp_path)
    assert (code, out, err) == (0, "", "")
    assert (tmp_path / "d" / "r.txt").read_text().startswith("reviewer-race")


def test_an_output_onto_a_device_is_written_through(tmp_path):
    code, out, err = run_cli("export", RACE, "-f", "diagram", "-o", "/dev/null", "--force")
    assert (code, out, err) == (0, "", "")


# -- an empty name names the option it came from ---------------------------------------


def test_an_empty_trace_file_name_is_named_as_empty():
    # it read "cannot read the file: no such file or directory", as if '' were a name
    assert refused("trace", "") == (
        "hvtui: an empty file name (expected the text of trace-cmd report or of tracefs trace)"
    )
