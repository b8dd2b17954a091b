"""What a user who gets a scenario wrong reads, through the real CLI.

Each case writes one mistake into an otherwise good scenario and runs
`python -m hvtui run s.yaml`: the answer is exit 2, nothing on stdout and
one line on stderr, `FILE:LINE:COL: path.to.field: what is wrong (what was
expected)`, with LINE:COL on the offending token. The last tests show the
same loader answering for `hvtui FILE`, `check` and `export`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import run_cli

GOOD = """\
name: demo
vcpus: 4
actors:
  vcpu0:
    - {id: f, op: flush, targets: [1, 2]}
  vmm:
    - {id: kick, op: exit, vcpu: 1}
    - {id: inh, op: set_inhibit, vcpu: 1, value: true}
"""


def mistake(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


CASES = {
    # YAML itself
    "yaml-syntax": (
        mistake("targets: [1, 2]}", "targets: [1, 2}"),
        "s.yaml:5:40: YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence that starts at 5:35)",
    ),
    "tab-indent": (
        mistake("    - {id: inh", "\t- {id: inh"),
        "s.yaml:8:1: YAML syntax error: found character that cannot start any token "
        "(indent with spaces: YAML does not allow tabs there)",
    ),
    "python-tag-refused": (
        mistake("name: demo", "name: !!python/object/apply:os.system ['true']"),
        "s.yaml:1:7: name: tag !!python/object/apply:os.system is not allowed "
        "(expected plain YAML: text, numbers, true/false, null, lists and mappings)",
    ),
    "alias-refused": (
        mistake("name: demo\n", "name: &n demo\ndescription: *n\n"),
        "s.yaml:2:14: description: YAML alias *n is not supported "
        "(expected the value written out: a scenario never repeats a subtree)",
    ),
    "duplicate-key": (
        GOOD + "vcpus: 8\n",
        "s.yaml:9:1: vcpus: duplicate key 'vcpus' (expected each key once; the first is at 2:1)",
    ),
    # keys
    "unknown-key-with-hint": (
        mistake("vcpus: 4", "vcpu: 4"),
        "s.yaml:2:1: vcpu: unknown key 'vcpu' (did you mean 'vcpus'?)",
    ),
    "unknown-key-without-hint": (
        mistake("vcpus: 4\n", "vcpus: 4\ncolour: red\n"),
        "s.yaml:3:1: colour: unknown key 'colour' "
        "(expected name, description, vcpus, variant, initial, actors, schedule, expect)",
    ),
    "unknown-op-key-with-hint": (
        mistake("targets: [1, 2]", "target: [1, 2]"),
        "s.yaml:5:26: actors.vcpu0[0].target: unknown key 'target' (did you mean 'targets'?)",
    ),
    "int-key-where-a-name-belongs": (
        mistake("vcpus: 4\n", "vcpus: 4\n3: three\n"),
        "s.yaml:3:1: 3: unknown key 3 "
        "(expected name, description, vcpus, variant, initial, actors, schedule, expect)",
    ),
    "unhashable-key": (
        mistake("vcpus: 4\n", "vcpus: 4\n? [a, b]\n: c\n"),
        "s.yaml:3:3: a list as a mapping key (expected a key that is text or an integer)",
    ),
    "missing-key": (
        mistake("vcpus: 4\n", ""),
        "s.yaml:1:1: vcpus: missing (expected 'vcpus' in a scenario)",
    ),
    # types
    "yaml-1.1-boolean": (
        mistake("value: true", "value: yes"),
        "s.yaml:8:50: actors.vmm[1].value: 'yes' is not a boolean (expected true or false)",
    ),
    "float-for-an-integer": (
        mistake("vcpus: 4", "vcpus: 4.0"),
        "s.yaml:2:8: vcpus: 4.0 is not an integer (expected a vCPU count 1..4096)",
    ),
    "exponent-for-an-integer": (
        mistake("vcpus: 4", "vcpus: 1e9"),
        "s.yaml:2:8: vcpus: 1e9 is not an integer (expected a vCPU count 1..4096)",
    ),
    "quoted-number": (
        mistake("vcpus: 4", "vcpus: '4'"),
        "s.yaml:2:8: vcpus: '4' is not an integer (expected a vCPU count 1..4096)",
    ),
    "actor-with-a-mapping-for-its-ops": (
        mistake("    - {id: f, op: flush", "    {id: f, op: flush"),
        "s.yaml:5:5: actors.vcpu0: a mapping is not a list (expected a list of ops)",
    ),
    "list-in-the-schedule": (
        GOOD + "schedule: [vcpu0, [vmm]]\n",
        "s.yaml:9:19: schedule[1]: a list is not an actor name "
        "(expected one of the scenario's actors, e.g. vcpu0)",
    ),
    "number-for-an-op-id": (
        mistake("id: f,", "id: 7,"),
        "s.yaml:5:12: actors.vcpu0[0].id: 7 is not an op id "
        "(expected non-empty text; quote it: '7')",
    ),
    # ranges
    "vcpu-id-past-the-scenario": (
        mistake("op: exit, vcpu: 1", "op: exit, vcpu: 9"),
        "s.yaml:7:34: actors.vmm[0].vcpu: 9 is out of range (the scenario has 4 vCPUs)",
    ),
    "vcpu-id-negative": (
        mistake("targets: [1, 2]", "targets: [1, -2]"),
        "s.yaml:5:39: actors.vcpu0[0].targets[1]: -2 is out of range (the scenario has 4 vCPUs)",
    ),
    "vcpu-id-past-kvm": (
        mistake("targets: [1, 2]", "targets: [4096]"),
        "s.yaml:5:36: actors.vcpu0[0].targets[0]: 4096 is out of range (the scenario has 4 vCPUs)",
    ),
    "vcpu-actor-past-the-scenario": (
        mistake("  vcpu0:", "  vcpu4:"),
        "s.yaml:4:3: actors.vcpu4: vcpu4 is out of range (the scenario has 4 vCPUs)",
    ),
    "huge-integer": (
        mistake("op: exit, vcpu: 1", "op: exit, vcpu: 123456789012345678901234567890"),
        "s.yaml:7:34: actors.vmm[0].vcpu: 123456789012345678901234567890 is out of range "
        "(the scenario has 4 vCPUs)",
    ),
    "integer-past-pythons-conversion-limit": (
        mistake("vcpus: 4", "vcpus: " + "9" * 5000),
        "s.yaml:2:8: vcpus: 999999999999999999999999999999... (5000 characters) is out of range "
        "(expected a vCPU count 1..4096)",
    ),
    "negative-mask": (
        mistake("targets: [1, 2]", "targets: {mask: -1}"),
        "s.yaml:5:42: actors.vcpu0[0].targets.mask: -1 is out of range "
        "(expected a 64-bit processor mask 0..0xffffffffffffffff)",
    ),
    # names
    "unknown-op": (
        mistake("op: flush", "op: flsh"),
        "s.yaml:5:19: actors.vcpu0[0].op: unknown op 'flsh' (did you mean 'flush'?)",
    ),
    "unknown-variant": (
        mistake("vcpus: 4\n", "vcpus: 4\nvariant: request_first\n"),
        "s.yaml:3:10: variant: unknown variant 'request_first' (did you mean 'request-first'?)",
    ),
    "unknown-actor": (
        mistake("  vcpu0:", "  cpu0:"),
        "s.yaml:4:3: actors.cpu0: unknown actor 'cpu0' (expected vcpuN, vmm or vmm:<name>)",
    ),
    "unknown-actor-in-the-schedule": (
        GOOD + "schedule: [vcpu0, vcpu9]\n",
        "s.yaml:9:19: schedule[1]: unknown actor 'vcpu9' (the scenario has 4 vCPUs: vcpu0..vcpu3)",
    ),
    "flush-given-to-the-vmm": (
        mistake("{id: kick, op: exit, vcpu: 1}", "{id: kick, op: flush}"),
        "s.yaml:7:22: actors.vmm[0].op: flush is a guest hypercall "
        "(expected it under a vcpuN actor, not vmm)",
    ),
    "duplicate-op-id": (
        mistake("{id: inh,", "{id: f,"),
        "s.yaml:8:12: actors.vmm[1].id: duplicate op id 'f' "
        "(expected ids unique in the scenario; actors.vcpu0[0] has it)",
    ),
    # schedules that cannot be taken
    "schedule-step-whose-actor-waits": (
        GOOD + "schedule: [vcpu0, vmm, vmm]\n",
        "s.yaml:9:24: schedule[2]: vmm cannot take step 3: it waits at lock: vcpu1 is in "
        "KVM_RUN (guest), which holds vcpu->mutex "
        "(expected one of the actors that can step: vcpu0, vcpu1)",
    ),
    "schedule-step-whose-actor-is-done": (
        GOOD + "schedule: [vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vcpu0]\n",
        "s.yaml:9:54: schedule[6]: vcpu0 cannot take step 7: it has finished its ops and has "
        "nothing left to do (expected one of the actors that can step: vcpu1, vcpu2, vmm)",
    ),
    # the file as a whole
    "empty-file": ("", "s.yaml:1:1: the file is empty (expected a scenario: name, vcpus, actors)"),
    "top-level-list": (
        "- vcpu0\n- vmm\n",
        "s.yaml:1:1: a list is not a mapping (expected a scenario: name, vcpus, actors, ...)",
    ),
    "non-utf8-byte": (
        b"name: caf\xe9\nvcpus: 4\nactors: {}\n",
        "s.yaml:1:10: byte 0xe9 is not UTF-8 (expected a UTF-8 text file)",
    ),
    "control-character": (
        mistake("name: demo", "name: de\x00mo"),
        "s.yaml:1:9: character U+0000 is not allowed in YAML "
        "(expected printable text; write control characters as escapes in quotes)",
    ),
}


def refused(code: int, out: str, err: str) -> str:
    """The one line of a refusal (after checking it is one)."""
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.rstrip("\n")


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_is_one_line_naming_where_and_what_was_expected(name, tmp_path):
    text, expected = CASES[name]
    path = tmp_path / "s.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    assert refused(*run_cli("run", "s.yaml", cwd=tmp_path)) == expected


def test_the_good_scenario_the_cases_start_from_is_good(tmp_path):
    (tmp_path / "s.yaml").write_text(GOOD)
    code, _, err = run_cli("run", "-q", "s.yaml", cwd=tmp_path)
    assert (code, err) == (0, "")


def test_null_ops_are_an_actor_with_nothing_to_do(tmp_path):
    # `vcpu3:` with nothing after it is YAML null: the actor exists, with no ops
    (tmp_path / "s.yaml").write_text(GOOD + "  vcpu3:\n")
    code, _, err = run_cli("run", "-q", "s.yaml", cwd=tmp_path)
    assert (code, err) == (0, "")


# -- files that cannot be read --------------------------------------------------


def test_a_missing_file(tmp_path):
    assert refused(*run_cli("run", "nope.yaml", cwd=tmp_path)) == (
        "nope.yaml: cannot read the file: no such file or directory (expected a scenario file)"
    )


def test_a_directory(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    assert refused(*run_cli("run", "dir.yaml", cwd=tmp_path)) == (
        "dir.yaml: is a directory (expected a scenario file)"
    )


def test_a_fifo_is_refused_rather_than_read_forever(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    assert refused(*run_cli("run", "pipe.yaml", cwd=tmp_path)) == (
        "pipe.yaml: is not a regular file (expected a scenario file)"
    )


def test_an_unreadable_file(tmp_path):
    path = tmp_path / "secret.yaml"
    path.write_text(GOOD)
    path.chmod(0)
    command = [sys.executable, "-m", "hvtui", "run", "secret.yaml"]
    if os.geteuid() == 0:
        # root reads any file; without CAP_DAC_OVERRIDE it is held to the mode bits
        if not shutil.which("setpriv"):
            pytest.skip("running as root and setpriv is missing: cannot make a file unreadable")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert refused(proc.returncode, proc.stdout, proc.stderr) == (
        "secret.yaml: cannot read the file: permission denied (expected a readable scenario file)"
    )


def test_the_first_bad_file_of_several_is_the_one_named(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(mistake("vcpus: 4", "vcpus: 0"))
    code, out, err = run_cli("run", "-q", "good.yaml", "bad.yaml", cwd=tmp_path)
    assert code == 2
    assert out == ""  # every file is read before any is run, as with --json and check
    assert err == "bad.yaml:2:8: vcpus: 0 is out of range (expected a vCPU count 1..4096)\n"


# -- --schedule on the command line ------------------------------------------------


def workbench(*args: str, cwd) -> tuple[int, str, str]:
    """`hvtui FILE ...` with bad input never reaches Textual, so no terminal is needed."""
    return run_cli(*args, cwd=cwd, env={"TERM": "dumb"})


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (
            "vmm, vcpu7",
            "--schedule:1:6: schedule[1]: unknown actor 'vcpu7' (the scenario has 4 vCPUs: "
            "vcpu0..vcpu3)",
        ),
        (
            "vcpu0 vmm vmm",
            "--schedule:1:11: schedule[2]: vmm cannot take step 3: it waits at "
            "lock: vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex (expected one of the "
            "actors that can step: vcpu0, vcpu1)",
        ),
        (
            "vmm,,vcpu1",
            "--schedule:1:5: schedule[1]: a comma with no actor name before it "
            "(expected names separated by commas or spaces)",
        ),
        (
            "vmm, vcpu1,",
            "--schedule:1:11: schedule[2]: a trailing comma (expected an actor name after it)",
        ),
    ],
)
def test_a_command_line_schedule_is_positioned_in_the_argument(schedule, expected, tmp_path):
    (tmp_path / "s.yaml").write_text(GOOD)
    assert refused(*workbench("s.yaml", "--schedule", schedule, cwd=tmp_path)) == expected


# -- one loader for every command ------------------------------------------------

COMMANDS = {
    "run": ("run", "{file}"),
    "workbench": ("{file}",),
    "check": ("check", "{file}"),
    "export": ("export", "{file}", "--format", "json"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "case",
    [
        "yaml-syntax",
        "vcpu-id-past-the-scenario",
        "schedule-step-whose-actor-waits",
        "non-utf8-byte",
    ],
)
def test_every_command_answers_bad_input_alike(command, case, tmp_path):
    text, expected = CASES[case]
    (tmp_path / "s.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    args = [a.format(file="s.yaml") for a in COMMANDS[command]]
    assert refused(*workbench(*args, cwd=tmp_path)) == expected


def test_every_command_names_a_missing_file_alike(tmp_path):
    for command, args in COMMANDS.items():
        line = refused(*workbench(*[a.format(file="gone.yaml") for a in args], cwd=tmp_path))
        assert line == (
            "gone.yaml: cannot read the file: no such file or directory (expected a scenario file)"
        ), command
