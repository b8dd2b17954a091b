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


def refused(*args: str, **how) -> str:
    code, out, err = run_cli(*args, **how)
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


@pytest.mark.parametrize("escape, code", [("\\u202e", "202E"), ("\\u2067", "2067")])
def test_a_bidirectional_override_in_the_description_is_refused(escape, code, tmp_path):
    # it went as it was into export's diagram and markdown, shown in another order
    text = HEAD + f'description: "ok {escape}evil"\nactors: {{}}\n'
    path = scenario(tmp_path, text)
    assert refused("export", path, "-f", "markdown") == (
        f"{path}:3:14: description: control character U+{code} at character 4 of the "
        "text (expected prose: printable text, line breaks and tabs)"
    )


def test_ten_megabytes_of_whitespace_are_refused_at_a_position(tmp_path):
    # a file's text refused without a line and column: the one refusal of its kind
    path = tmp_path / "ws.yaml"
    path.write_bytes(b" " * (10 * 1024 * 1024))
    assert refused("check", str(path)) == (
        f"{path}:1:4194305: the file is 10,485,760 bytes (expected a scenario of at most "
        "4,194,304: it passes that here)"
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
        ("n" * 300, "cannot write here: File name too long (expected a file name to write)"),
    ],
    ids=["trailing-slash", "dot-dot", "missing-then-dot-dot", "proc", "name-too-long"],
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


def test_an_empty_skeleton_name_is_refused_not_taken_for_none():
    # `trace T --with ''` checked the trace with the inferred ops, exit 0
    assert refused("trace", TRACE, "--with", "") == (
        "--with: an empty file name (expected a scenario file)"
    )


def test_an_empty_schema_output_name_names_its_option():
    assert refused("schema", "-o", "") == (
        "--output: an empty file name (expected a path to write to)"
    )


def test_a_thread_name_with_an_escape_sequence_is_shown_escaped(tmp_path):
    # a comm is what the traced process named itself (PR_SET_NAME): `trace`
    # printed it raw on stdout, and the reader's terminal cleared itself
    path = tmp_path / "t.report"
    text = open(TRACE).read().replace("CPU 0/KVM-4821", "CPU 0/KVM\x1b[2J-4821", 1)
    path.write_text(text)
    code, out, err = run_cli("trace", str(path))
    assert code == 0, err
    assert "  pid 4821 (CPU 0/KVM\\x1b[2J) is vcpu0: kvm_exit vcpu field\n" in out
    assert all(line.isprintable() for line in (out + err).splitlines())


@pytest.mark.parametrize(
    "args, option",
    [
        (["export", RACE, "-f", "diagram", "-o", "-"], "--output"),
        (["check", RACE, "--save", "-"], "--save"),
        (["schema", "-o", "-"], "--output"),
    ],
    ids=["export", "check", "schema"],
)
def test_a_dash_for_an_output_is_refused_not_made_a_file(args, option, tmp_path):
    # `-o -` (stdout, elsewhere) wrote a file named '-' in the current directory
    code, out, err = run_cli(*args, cwd=tmp_path)
    assert (code, out) == (2, ""), err
    assert err == (
        f"{option}: '-' is not a file name here (expected a path to write to; ./- for that file)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_dash_for_the_trace_says_it_is_read_from_a_file(tmp_path):
    # `trace-cmd report | hvtui trace -` read "no such file or directory", no more
    code, out, err = run_cli("trace", "-", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == (
        "-: cannot read the file: no such file or directory (expected the text of trace-cmd "
        "report or of tracefs trace: a trace is read from a file, not stdin "
        "(trace-cmd report > run.txt))\n"
    )


# -- check --engine spin: flags a tool refuses, options an engine ignores ---------------
# An empty --spin-cc (an unset shell variable) or one gcc refuses ended in a
# ToolError traceback after the model was made; --spin-cc without --engine spin,
# and --max-states with it, were silently ignored: a bound the user set did not bind.

spin = pytest.mark.skipif(
    not __import__("shutil").which("spin"), reason="needs SPIN (apt-get install spin)"
)


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["--spin-cc=-DBITSTATE"],
            "--spin-cc: only with --engine spin (expected --engine spin too)",
        ),
        (["--spin-pan=-w28"], "--spin-pan: only with --engine spin (expected --engine spin too)"),
        (
            ["--engine", "spin", "--max-states", "10"],
            "--max-states: not with --engine spin "
            "(expected --max-memory or --max-seconds to bound pan)",
        ),
    ],
    ids=["cc-without-spin", "pan-without-spin", "max-states-with-spin"],
)
def test_an_option_the_engine_would_ignore_is_refused(args, line):
    assert refused("check", RACE, *args) == line


@spin
@pytest.mark.parametrize(
    "flag, line",
    [
        (
            "--spin-cc=",
            "--spin-cc: an empty flag (expected one flag per --spin-cc, e.g. -DBITSTATE)",
        ),
        ("--spin-pan=", "--spin-pan: an empty flag (expected one flag per --spin-pan, e.g. -w28)"),
        ("--spin-cc=-O2;x", "--spin-cc: gcc refuses '-O2;x': "),
        ("--spin-cc=-Wl,--no-such-linker-option", "--spin-cc: gcc refuses '-Wl,"),
    ],
    ids=["empty-cc", "empty-pan", "compiler-refuses", "linker-refuses"],
)
def test_a_spin_flag_the_tools_refuse_is_refused_before_the_model(flag, line):
    said = refused("check", RACE, "--engine", "spin", flag, env={"CC": "gcc"})
    assert said.startswith(line) and said.endswith("(expected flags it takes)") or said == line


@spin
def test_a_pan_that_does_not_compile_is_one_line():
    # the flag itself compiles a one-line program: only pan.c shows it wrong
    said = refused("check", RACE, "--engine", "spin", "--spin-cc=-DVECTORSZ=abc", env={"CC": "gcc"})
    assert said.startswith("hvtui check --engine spin: gcc failed (exit 1): "), said
    assert len(said) < 400


@spin
def test_a_pan_that_does_not_compile_in_a_worker_is_one_line():
    said = refused(
        "check",
        RACE,
        "--engine",
        "spin",
        "--spin-cc=-DVECTORSZ=abc",
        "--variant",
        "all",
        "-j",
        "2",
        env={"CC": "gcc"},
    )
    assert said.startswith("hvtui check --engine spin: gcc failed (exit 1): "), said


@spin
@pytest.mark.parametrize(
    "env, line",
    [
        (
            {"CC": "/no/such-cc"},
            "no C compiler '/no/such-cc' (expected gcc installed, or CC naming a compiler)",
        ),
        (
            {"XDG_CACHE_HOME": "/dev/null"},
            "cannot make /dev/null/hvtui/pan for the compiled pans: Not a directory "
            "(expected a writable directory: set XDG_CACHE_HOME)",
        ),
    ],
    ids=["no-compiler", "cache-not-a-directory"],
)
def test_what_spin_needs_and_lacks_is_one_line_before_the_check(env, line):
    # a FileNotFoundError or NotADirectoryError traceback, from the first build of pan
    assert refused("check", RACE, "--engine", "spin", env=env) == (
        "hvtui check --engine spin: " + line
    )


# -- standard streams that cannot be written -------------------------------------------
# `1</dev/null` (stdout open for reading) ended in an EBADF traceback, exit 1; a
# refusal into `2>/dev/full` raised again while saying so, and exited 1, not 2.


def hvtui(*args: str, stdout, stderr) -> int:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hvtui", *args], cwd=ROOT, stdout=stdout, stderr=stderr, timeout=300
    )
    return done.returncode


@pytest.mark.parametrize(
    "args",
    [["schema"], ["run", RACE], ["run", "--json", RACE], ["check", "-q", RACE]],
    ids=["schema", "run", "run-json", "check"],
)
def test_a_stdout_open_for_reading_is_one_line(args, tmp_path):
    err = tmp_path / "err"
    with open("/dev/null") as read_only, err.open("w") as stderr:
        assert hvtui(*args, stdout=read_only, stderr=stderr) == 2
    assert err.read_text() == (
        "hvtui: cannot write the output: Bad file descriptor (expected it open for writing)\n"
    )


@pytest.mark.parametrize(
    "args", [["run", "/no/such.yaml"], ["run", RACE]], ids=["refusal", "output-too"]
)
def test_a_full_stderr_still_exits_2(args):
    with open("/dev/full", "w") as full:
        assert hvtui(*args, stdout=full, stderr=full) == 2


# -- serve --port ---------------------------------------------------------------------


@pytest.mark.parametrize("port", ["abc", "0x50", "-1", "0", "70000", ""])
def test_a_port_that_is_not_one_is_refused_alike(port):
    # `abc` read "invalid int value: 'abc' (see hvtui serve --help)", unlike -1
    assert refused("serve", RACE, f"--port={port}") == (
        f"--port: '{port}' is not a TCP port (expected 1..65535)"
    )
