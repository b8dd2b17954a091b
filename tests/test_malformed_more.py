"""More bad input, as a user meets it: each case here once ended in a traceback,
a message thousands of characters long, a silent success or output before the
refusal. Every one goes through the real CLI in a subprocess and must be one
line `FILE:LINE:COL: ...` (or `FILE: ...`), exit 2, nothing on stdout.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, SCENARIOS, run_cli

RACE = str(SCENARIOS / "reviewer-race.yaml")
TRACE = ROOT / "tests" / "data" / "traces" / "reviewer-race.report"
HEAD = "name: t\nvcpus: 2\n"


def refused(*args: str) -> str:
    code, out, err = run_cli(*args)
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    return err.rstrip("\n")


def scenario(tmp_path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return str(path)


# -- integers past Python's 4300-digit limit ----------------------------------------
# str() of such an int raises ValueError; a hex or octal one used to be compared
# with its decimal form, and one as a mapping key was joined into the field path.

BIG = "9" * 5000
HEX = "0x" + "f" * 5000


@pytest.mark.parametrize(
    "body, where",
    [
        ("actors:\n  vcpu0: [{op: flush, targets: {mask: " + HEX + "}}]\n", "4:39: "),
        ("initial: {inhibit: [0o" + "7" * 5000 + "]}\nactors: {}\n", "3:21: "),
        ("initial:\n  mode:\n    ? " + BIG + "\n    : user\nactors: {}\n", "5:7: initial.mode."),
        ("initial:\n  mode:\n    ? " + HEX + "\n    : user\nactors: {}\n", "5:7: initial.mode."),
        ("actors:\n  ? " + BIG + "\n  : []\n", "4:5: actors."),
        ("actors: {}\nexpect:\n  final:\n    ? " + HEX + "\n    : {}\n", "6:7: expect.final."),
        ("actors: {}\n? " + BIG + "\n: 1\n", "4:3: 9999"),
    ],
    ids=["hex-mask", "octal-id", "decimal-key", "hex-key", "actor-key", "final-key", "top-key"],
)
def test_a_number_of_thousands_of_digits_is_refused_in_a_short_line(body, where, tmp_path):
    path = scenario(tmp_path, HEAD + body)
    line = refused("run", path)
    assert line.startswith(f"{path}:{where}"), line
    assert len(line) < 400, line
    assert "characters)" in line  # the number is shown cut, with its length


def test_a_duplicate_op_id_of_a_100k_characters_is_quoted_cut(tmp_path):
    op_id = "i" * 100_000
    ops = f"[{{op: flush, id: {op_id}}}, {{op: flush, id: {op_id}}}]"
    path = scenario(tmp_path, HEAD + f"actors:\n  vcpu0: {ops}\n")
    assert refused("run", path) == (
        f"{path}:4:{100_046}: actors.vcpu0[1].id: duplicate op id "
        f"'{'i' * 30}...' (100000 characters) (expected ids unique in the scenario; "
        "actors.vcpu0[0] has it)"
    )


# -- a description is prose, not terminal control -----------------------------------
# A quoted "\e]0;...\a" or "\e[2J" went as it was into `export --format markdown`
# (and diagram, mermaid) on stdout: the reader's terminal obeyed it.


@pytest.mark.parametrize(
    "escape, code, at",
    [("\\e]0;pwned\\a", "001B", 3), ("a\\0b", "0000", 4), ("\\x9b2J", "009B", 3)],
    ids=["osc-title", "nul", "c1-csi"],
)
def test_a_control_character_in_the_description_is_refused(escape, code, at, tmp_path):
    path = scenario(tmp_path, f'name: t\ndescription: "x {escape}"\nvcpus: 2\nactors: {{}}\n')
    expected = (
        f"{path}:2:14: description: control character U+{code} at character {at} of the "
        "text (expected prose: printable text, line breaks and tabs)"
    )
    assert refused("run", path) == expected
    assert refused("export", path, "-f", "markdown") == expected


def test_line_breaks_and_tabs_in_a_description_are_prose(tmp_path):
    path = scenario(tmp_path, 'name: t\ndescription: "one\\n\\ttwo"\nvcpus: 2\nactors: {}\n')
    code, out, err = run_cli("export", path, "-f", "markdown")
    assert code == 0 and "one\n\ttwo" in out, err


# -- a list that stands for a set names each member once -----------------------------
# `stuck: [vcpu0, vcpu0]` then failed every run ("expected ['vcpu0', 'vcpu0'],
# got [...]"), and a repeated property id passed unnoticed.


@pytest.mark.parametrize(
    "expect, where",
    [
        (
            "{stuck: [vcpu0, vmm, vcpu0]}",
            "4:30: expect.stuck[2]: 'vcpu0' is listed twice "
            "(expected each actor once; the first is at 4:18)",
        ),
        (
            "{violations: [progress, progress]}",
            "4:33: expect.violations[1]: 'progress' is "
            "listed twice (expected each property once; the first is at 4:23)",
        ),
        (
            "{violations: {posted: [progress, progress]}}",
            "4:42: expect.violations.posted[1]: "
            "'progress' is listed twice (expected each property once; the first is at 4:32)",
        ),
    ],
    ids=["stuck", "violations", "violations-by-variant"],
)
def test_a_repeated_member_of_an_expect_list_is_refused_where_it_is(expect, where, tmp_path):
    path = scenario(tmp_path, HEAD + f"actors: {{vmm: []}}\nexpect: {expect}\n")
    assert refused("run", path) == f"{path}:{where}"


# -- the command line -----------------------------------------------------------------


def test_run_reads_every_file_before_it_prints_any(tmp_path):
    # the good file's grid and log used to be on stdout before the refusal of the second
    path = scenario(tmp_path, HEAD.replace("2", "0") + "actors: {}\n")
    line = refused("run", RACE, path)
    assert line == f"{path}:2:8: vcpus: 0 is out of range (expected a vCPU count 1..4096)"


def test_run_reads_every_schedule_before_it_prints_any():
    # --schedule is held against each file before the first is run
    # (vcpu2 flushes first in two-waiters; in the reviewer's race it has no ops)
    line = refused("run", str(SCENARIOS / "two-waiters.yaml"), RACE, "--schedule", "vcpu2")
    assert line.startswith("--schedule:1:1: schedule[0]: vcpu2 cannot take step 1: it has ")


EMPTY_NAME = ": an empty file name (expected a path to write to)"


@pytest.mark.parametrize(
    "args, option",
    [
        (["check", RACE, "--save", ""], "--save"),
        (["check", RACE, "--save", "", "--property", "progress"], "--save"),
        (["trace", str(TRACE), "--save", ""], "--save"),
        (["export", RACE, "-f", "diagram", "-o", "", "--json"], "--output"),
    ],
    ids=["check", "check-property", "trace", "export-json"],
)
def test_an_empty_output_name_is_refused_not_taken_for_none(args, option):
    # `--save ''` (an unset shell variable) used to run and save nothing, exit 0;
    # `export -o '' --json` printed the export to stdout instead
    assert refused(*args) == option + EMPTY_NAME


def test_export_refuses_an_existing_output_before_it_renders(tmp_path):
    out = tmp_path / "race.txt"
    out.write_text("keep me")
    # a scenario that is itself bad: the output is refused first, before the file is read
    line = refused("export", str(tmp_path / "missing.yaml"), "-f", "diagram", "-o", str(out))
    assert line == f"{out}: already exists (expected a new file, or --force to replace it)"
    assert out.read_text() == "keep me"


# -- trace text --------------------------------------------------------------------------

GOOD_TRACE = TRACE.read_text()


def test_a_trace_whose_lines_end_in_cr_alone_is_quoted_cut(tmp_path):
    # the whole file is one line, which the message used to quote in full
    path = tmp_path / "t.report"
    path.write_bytes(GOOD_TRACE.replace("\n", "\r").encode())
    line = refused("trace", str(path))
    assert line.startswith(f"{path}:1:69: kvm_userspace_exit: 'reason restart (4)\\r ")
    assert line.endswith("...' (2325 characters) is not in its format (expected reason R (N))")
    assert len(line) < 400


def test_a_tab_after_the_event_name_reads_as_the_spaces_it_replaced(tmp_path):
    # `unexpand` turns trace-cmd's padding into tabs; the line was refused with a
    # message quoting it stripped, so the field text looked like the expected format
    path = tmp_path / "t.report"
    path.write_text(GOOD_TRACE.replace("kvm_userspace_exit:   ", "kvm_userspace_exit:\t"))
    code, out, err = run_cli("trace", str(path))
    assert code == 0 and "consistent: every event explained" in out, err


def test_a_tab_inside_the_fields_is_shown_in_the_refusal(tmp_path):
    path = tmp_path / "t.report"
    path.write_text(GOOD_TRACE.replace("reason restart (4)", "reason\trestart (4)", 1))
    assert refused("trace", str(path)) == (
        f"{path}:2:62: kvm_userspace_exit: 'reason\\trestart (4)' is not in its format "
        "(expected reason R (N))"
    )


@pytest.mark.parametrize(
    "host, says",
    [
        ("", "an empty address"),
        ("256.1.1.1", "cannot resolve '256.1.1.1': "),
        ("a..b", "cannot resolve 'a..b': not a valid name"),
    ],
    ids=["empty", "bad-ip", "empty-label"],
)
def test_serve_refuses_a_host_it_cannot_bind_before_it_prints_the_url(host, says):
    # the URL went to stdout first and the refusal blamed --port; an empty --host
    # (an unset shell variable) was served on every interface
    line = refused("serve", RACE, "--host", host, "--port", "18765")
    assert line.startswith(f"--host: {says}"), line
    assert line.endswith("(expected a host name or an address of this machine, e.g. 127.0.0.1)")


# -- a key past YAML's 1024-character limit -----------------------------------------
# libyaml gives up 1024 characters in and says "mapping values are not allowed"
# (which the hint read as a ': ' inside a value) or "could not find expected ':'",
# at the key's end, 100,000 columns to the right of the key that is wrong.


@pytest.mark.parametrize(
    "text, where, length",
    [
        (HEAD + "actors:\n  vmm:" + "a" * 5000 + ": []\n", "4:3", "5,004"),
        (HEAD + "actors: {}\n" + "k" * 1025 + ": 1\n", "4:1", "1,025"),
        (HEAD + "actors: {}\nexpect: {final: {vcpu0: {" + "p" * 5000 + ": 1}}}\n", "4:26", "5,000"),
    ],
    ids=["block", "block-1025", "flow"],
)
def test_a_key_past_yamls_limit_is_named_at_its_start(text, where, length, tmp_path):
    path = scenario(tmp_path, text)
    assert refused("run", path) == (
        f"{path}:{where}: YAML syntax error: a key of {length} characters (expected at most "
        "1,024, YAML's limit for a key without '? ' before it)"
    )


def test_a_key_of_1024_characters_is_read(tmp_path):
    path = scenario(tmp_path, HEAD + "actors: {}\n" + "k" * 1024 + ": 1\n")
    assert refused("run", path).startswith(f"{path}:4:1: {'k' * 60}...")  # an unknown key


def test_a_float_tag_on_a_count_is_named_in_the_refusal(tmp_path):
    # it read "vcpus: 4 is not an integer"
    path = scenario(tmp_path, "name: t\nvcpus: !!float 4\nactors: {}\n")
    assert refused("run", path) == (
        f"{path}:2:8: vcpus: !!float 4 is not an integer (expected a vCPU count 1..4096)"
    )


@pytest.mark.parametrize("share", ["200%", "100.5%"])
def test_a_memory_limit_past_all_of_ram_is_refused(share):
    # a limit the search can never reach was taken, and the check ran unbounded
    assert refused("check", RACE, "--max-memory", share) == (
        f"--max-memory: '{share}' is more than this machine's RAM "
        "(expected a share of at most 100%)"
    )


def test_a_vcpu_id_past_the_last_is_named_with_the_ids_there_are():
    # it read "the trace names vCPU 4096 (expected at most 4096 vCPUs)"; then it
    # blamed the trace, where the --pid-map named it (test_malformed_fourth.py)
    assert refused("trace", str(TRACE), "--pid-map", "4821=4096") == (
        "--pid-map:1:6: vCPU 4096 is out of range (expected vCPU ids 0..4095: a VM has at most "
        "4096 vCPUs)"
    )


# -- a huge command-line argument ------------------------------------------------------
# Each was quoted whole: a 10,000-character mistake made a 10,000-character line.

LONG = "x" * 10_000
SHOWN = f"'{'x' * 200}...' (10000 characters)"


@pytest.mark.parametrize(
    "args, head",
    [
        (["run", RACE, "--variant", LONG], "--variant: "),
        (["check", RACE, "--max-states", LONG], "--max-states: "),
        (["check", RACE, "--jobs", LONG], "--jobs: "),
        (["export", RACE, "-f", "diagram", "--actors", LONG], "--actors:1:1: "),
        (["export", RACE, "-f", "svg", "--size", LONG], "--size: "),
        (["compare", RACE, "--variants", "posted," + LONG], "--variants:1:8: unknown variant "),
        (["trace", str(TRACE), "--pid-map", LONG], "--pid-map:1:1: "),
        (["trace", str(TRACE), "--untraced", LONG], "--untraced:1:1: "),
    ],
    ids=lambda v: v[2] if isinstance(v, list) else "",
)
def test_a_huge_argument_is_quoted_cut(args, head):
    line = refused(*args)
    assert line.startswith(head) and SHOWN in line, line[:300]
    assert len(line) < 600


def test_trace_json_and_open_are_refused_together():
    # the document went to stdout and then the workbench drew on it
    assert refused("trace", str(TRACE), "--json", "--open") == (
        "--open: not with --json (expected one of them: --json's stdout holds one JSON "
        "document, --open draws the workbench there)"
    )


# -- lines as the YAML parser counts them --------------------------------------------
# libyaml breaks lines at CR alone too (old Mac files, some Windows tools): an error
# at the end of such a file was put at line 1, column 34, and a bad character
# or byte was always on line 1.


def test_a_file_with_cr_line_breaks_is_numbered_as_the_parser_numbers_it(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: t\rvcpus: 2\r  \x07x: 1\r")
    assert refused("run", str(path)).startswith(f"{path}:3:3: character U+0007 is not allowed")
    path.write_bytes(b"name: t\rvcpus: 2\r  x\xff: 1\r")
    assert refused("run", str(path)).startswith(f"{path}:3:4: byte 0xff is not UTF-8")
    path.write_bytes(b"name: t\rvcpus: 2\ractors: {}\rx: [\r")
    assert refused("run", str(path)).startswith(
        f"{path}:5:1: YAML syntax error: did not find expected node content"
    )
