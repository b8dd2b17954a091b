"""Bad input, a fourth round, as an outside reviewer meets it: each case here
once broke the contract, found by feeding files and arguments no earlier round
tried. A refusal is one printable line `FILE:LINE:COL: ...` (or `FILE: ...`,
`--option: ...`), exit 2, nothing on stdout, nothing written; a valid file
that only looks odd is not refused, and what it says is shown as written.
Every case goes through the real CLI in a subprocess.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, run_cli
from test_malformed_third import refused, scenario  # the one shape of a refusal

# -- what a scenario says, shown as written ------------------------------------------
# `run` printed its header through Rich markup: a name holding `[/]` ended in a
# MarkupError traceback, `[bold]` and `:smile:` were obeyed rather than shown.


@pytest.mark.parametrize(
    "name",
    ["x[/]y", "[link=file:///etc/passwd]x", ":smile: t", "a [bold]b\\"],
    ids=["closing-tag", "link", "emoji-code", "open-tag-backslash"],
)
def test_run_shows_a_name_that_looks_like_markup_as_written(name, tmp_path):
    quoted = name.replace("\\", "\\\\")
    path = scenario(tmp_path, f'name: "{quoted}"\nvcpus: 2\nactors: {{}}\n')
    code, out, err = run_cli("run", path)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == f"{name} ({path}, variant posted, 0 steps)"


def test_run_shows_a_file_name_that_looks_like_markup_as_written(tmp_path):
    path = tmp_path / "[red]x[bold].yaml"
    path.write_text("name: t\nvcpus: 2\nactors: {}\n")
    code, out, err = run_cli("run", path)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == f"t ({path}, variant posted, 0 steps)"


# -- what a scenario says, inside the Promela model ---------------------------------------
# A name or op id holding `*/` ended the C comment it was copied into, and the rest
# became Promela (`spin -a failed ... undeclared variable`); vmm:a.b and vmm:a_b were
# both proctype p_vmm_a_b, a redeclaration. Valid scenarios: SPIN must check them.

spin = pytest.mark.skipif(
    not __import__("shutil").which("spin"), reason="needs SPIN (apt-get install spin)"
)

COMMENT_CLOSERS = (
    'name: "n */ x"\nvcpus: 2\nactors:\n'
    '  vcpu0: [{id: "f */ bogus", op: flush, targets: [1]}]\n'
    '  vmm: [{id: "k*/", op: exit, vcpu: 1}]\n'
)
LOOKALIKE_THREADS = (
    "name: t\nvcpus: 2\nactors:\n"
    '  "vmm:a.b": [{op: exit, vcpu: 1}]\n'
    '  "vmm:a_b": [{op: exit, vcpu: 0}]\n'
    '  "vmm:a-b": [{op: run, vcpu: 1}]\n'
)


def verdicts(*args: str) -> dict:
    import json

    code, out, err = run_cli("check", "--json", *args)
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    assert result["complete"], result
    return {p: v["verdict"] for p, v in result["properties"].items()}


@spin
@pytest.mark.parametrize(
    "text", [COMMENT_CLOSERS, LOOKALIKE_THREADS], ids=["comment-closer", "lookalike-threads"]
)
def test_spin_checks_a_scenario_whose_names_are_awkward_in_promela(text, tmp_path):
    path = scenario(tmp_path, text)
    assert verdicts(path, "--engine", "spin") == verdicts(path)


def test_the_promela_export_keeps_an_op_id_inside_its_comment(tmp_path):
    code, out, err = run_cli("export", scenario(tmp_path, COMMENT_CLOSERS), "-f", "promela")
    assert code == 0, err
    assert " * hvtui " in out and ": scenario n * / x (bad.yaml), variant posted\n" in out
    for line in out.splitlines():  # a comment closes once, at the end of its line
        assert line.count("*/") <= 1 and (line.rstrip().endswith("*/") or "*/" not in line), line


# -- trace: numbers no kernel prints ----------------------------------------------------
# A PID, CPU, timestamp or vCPU id of 5000 digits ended in a ValueError traceback
# (Python reads at most 4300 digits), as did one in --pid-map or --vp-map, and a
# --tolerance of 400 digits in an OverflowError; a vCPU id past 4095 in a line was
# refused without the line ("the trace names vCPU 4096"), or in --pid-map as if
# the trace had named it.

TRACE = ROOT / "tests" / "data" / "traces" / "reviewer-race.report"
BIG = "9" * 5000
CUT = "999999999999999999999999999999... (5000 characters)"
VCPUS = "(expected vCPU ids 0..4095: a VM has at most 4096 vCPUs)"


def a_trace(tmp_path, old: str, new: str) -> str:
    text = TRACE.read_text()
    assert old in text, old
    path = tmp_path / "t.report"
    path.write_text(text.replace(old, new, 1))
    return str(path)


@pytest.mark.parametrize(
    "old, new, where",
    [
        (
            "KVM-4822",
            f"KVM-{BIG}",
            f"2:18: PID {CUT} is out of range (expected 0..2147483647, a pid_t)",
        ),
        (
            "KVM-4822",
            "KVM-2147483648",
            "2:18: PID 2147483648 is out of range (expected 0..2147483647, a pid_t)",
        ),
        ("[002]", f"[{BIG}]", f"2:25: CPU {CUT} is out of range (expected 0..2147483647, an int)"),
        (
            "5012.100100",
            f"{BIG}.1",
            "2:30: timestamp 999999999999999999999999999999... (5002 characters) is out of "
            "range (expected at most 18446744073.709551615 seconds, or a counter of at most "
            "18446744073709551615)",
        ),
        (
            "vcpu 0 reason",
            f"vcpu {BIG} reason",
            f"3:70: kvm_exit: vcpu {CUT} is out of range {VCPUS}",
        ),
        ("vcpu 1, rip", "vcpu 4096, rip", f"8:70: kvm_entry: vcpu 4096 is out of range {VCPUS}"),
        (
            "waiting on 1",
            f"waiting on {BIG}",
            f"12:103: kvm_hv_vcpu_suspend_tlb_flush: waiting on {CUT} is out of range {VCPUS}",
        ),
        (
            "unsuspending vcpu 0",
            "unsuspending vcpu 4097",
            f"14:94: kvm_hv_vcpu_unsuspend_tlb_flush: vcpu 4097 is out of range {VCPUS}",
        ),
    ],
    ids=[
        "pid",
        "pid-past-int",
        "cpu",
        "timestamp",
        "exit-vcpu",
        "entry-4096",
        "waiting-on",
        "unsuspend",
    ],
)
def test_a_number_no_kernel_prints_is_refused_where_it_is(old, new, where, tmp_path):
    path = a_trace(tmp_path, old, new)
    assert refused("trace", path) == f"{path}:{where}"


def test_a_number_with_leading_zeros_is_still_read(tmp_path):
    path = a_trace(tmp_path, "KVM-4822", "KVM-" + "0" * 5000 + "4822")
    code, out, err = run_cli("trace", path)
    assert code == 0 and "consistent: every event explained" in out, err


@pytest.mark.parametrize(
    "option, value, line",
    [
        (
            "--pid-map",
            f"4821=0,{BIG}=1",
            f"--pid-map:1:8: PID {CUT} is out of range (expected 0..2147483647, a pid_t)",
        ),
        ("--pid-map", f"4821={BIG}", f"--pid-map:1:6: vCPU {CUT} is out of range {VCPUS}"),
        (
            "--vp-map",
            "0=0, 4096=1",
            "--vp-map:1:6: VP 4096 is out of range (expected VP indexes 0..4095)",
        ),
        ("--vp-map", "1=4096", f"--vp-map:1:3: vCPU 4096 is out of range {VCPUS}"),
        (
            "--tolerance",
            "9" * 400,
            f"--tolerance:1:1: '{'9' * 200}...' (400 characters) is longer than a trace can span "
            "(expected less than 2^64 ns, e.g. 5us)",
        ),
        (
            "--tolerance",
            "18446744074s",
            "--tolerance:1:1: '18446744074s' is longer than a trace can span "
            "(expected less than 2^64 ns, e.g. 5us)",
        ),
    ],
    ids=[
        "pid-map-pid",
        "pid-map-vcpu",
        "vp-map-vp",
        "vp-map-vcpu",
        "tolerance-digits",
        "tolerance-u64",
    ],
)
def test_a_number_past_its_range_on_the_command_line_is_refused_where_it_is(option, value, line):
    assert refused("trace", str(TRACE), option, value) == line


# -- an output onto the input ------------------------------------------------------------
# `export s.yaml -f diagram -o s.yaml --force` (a typo for -o s.txt) replaced the
# scenario with its diagram; `check --save` replaced it with a counterexample that
# keeps none of its expectations, `trace --save` the trace with a scenario.

RACE = ROOT / "scenarios" / "reviewer-race.yaml"


@pytest.mark.parametrize("spelling", ["same", "dot-slash", "symlink", "hard-link"])
@pytest.mark.parametrize("command", ["export", "check", "trace"])
def test_an_output_onto_the_file_being_read_is_refused_even_with_force(command, spelling, tmp_path):
    source = RACE if command != "trace" else TRACE
    name = "in" + source.suffix
    (tmp_path / name).write_bytes(source.read_bytes())
    out = {"same": name, "dot-slash": f"./{name}", "symlink": "link", "hard-link": "hard"}[spelling]
    if spelling == "symlink":
        (tmp_path / "link").symlink_to(name)
    elif spelling == "hard-link":
        (tmp_path / "hard").hardlink_to(tmp_path / name)
    args = {
        "export": ["export", name, "-f", "diagram", "-o", out],
        "check": ["check", name, "--variant", "no-sync", "--save", out],
        "trace": ["trace", name, "--save", out],
    }[command]
    what = "trace" if command == "trace" else "scenario"
    assert refused(*args, "--force", cwd=tmp_path) == (
        f"{out}: is the {what} being read (expected another file name to write)"
    )
    assert (tmp_path / name).read_bytes() == source.read_bytes()
    made = {name, out} if spelling in ("symlink", "hard-link") else {name}
    assert {p.name for p in tmp_path.iterdir()} == made  # and no temp file left


# -- a suggestion in any case ------------------------------------------------------------
# `--schedule CPU0,VMM` (the diagram's column names) and `VCPUS:` or `op: FLUSH` got no
# "did you mean": the near names were compared case and all.

HEAD = "name: t\nvcpus: 2\n"


@pytest.mark.parametrize(
    "text, where",
    [
        (
            "name: t\nVCPUS: 2\nactors: {}\n",
            "2:1: VCPUS: unknown key 'VCPUS' (did you mean 'vcpus'?)",
        ),
        (
            HEAD + "actors: {vcpu0: [{op: FLUSH}]}\n",
            "3:23: actors.vcpu0[0].op: unknown op 'FLUSH' (did you mean 'flush'?)",
        ),
        (
            HEAD + "variant: NO-SYNC\nactors: {}\n",
            "3:10: variant: unknown variant 'NO-SYNC' (did you mean 'no-sync'?)",
        ),
        (
            HEAD + "actors: {vmm: [{op: exit, vcpu: 1}]}\nschedule: [VMM]\n",
            "4:12: schedule[0]: unknown actor 'VMM' (did you mean 'vmm'?)",
        ),
    ],
    ids=["top-key", "op", "variant", "schedule"],
)
def test_a_name_in_the_wrong_case_gets_the_right_one_suggested(text, where, tmp_path):
    path = scenario(tmp_path, text)
    assert refused("run", path) == f"{path}:{where}"


def test_a_command_line_schedule_in_the_diagrams_names_gets_the_actors_suggested():
    assert refused("run", str(RACE), "--schedule", "VMM, CPU1") == (
        "--schedule:1:1: schedule[0]: unknown actor 'VMM' (did you mean 'vmm'?)"
    )
    assert refused("run", str(RACE), "--schedule", "vmm CPU1") == (
        "--schedule:1:5: schedule[1]: unknown actor 'CPU1' (did you mean 'vcpu1'?)"
    )


def test_a_trace_of_other_tracepoints_is_refused_not_found_consistent(tmp_path):
    # `trace-cmd record -e sched` by mistake: "consistent: every event explained by a
    # run of 0 steps", exit 0, as if the series' events had been checked
    path = tmp_path / "t.report"
    path.write_text(
        "cpus=4\n"
        "  <idle>-0     [001] 5012.100100: sched_switch: prev_comm=swapper/1 prev_pid=0\n"
        "    bash-1234  [001] 5012.100200: sys_enter: NR 0 (0, 0, 0, 0, 0, 0)\n"
        "    bash-1234  [001] 5012.100300: sys_enter: NR 1 (0, 0, 0, 0, 0, 0)\n"
    )
    assert refused("trace", str(path)) == (
        f"{path}: none of its 3 event lines is one of the series' tracepoints (they are "
        "sys_enter, sched_switch; expected kvm_hv_flush_tlb, kvm_hv_hypercall and the others "
        "`hvtui trace --help` records)"
    )


def test_a_trace_with_one_line_of_the_series_is_checked(tmp_path):
    path = tmp_path / "t.report"
    path.write_text(
        "  <idle>-0     [001] 5012.100100: sched_switch: prev_comm=swapper/1 prev_pid=0\n"
        "  CPU 0/KVM-4821  [001] 5012.100161: kvm_entry:  vcpu 0, rip 0xfffff8034d2a1f43\n"
    )
    code, out, err = run_cli("trace", str(path))
    assert code == 0 and "consistent: every event explained" in out, err


@pytest.mark.parametrize("first", ["header", "event"])
def test_a_byte_order_mark_before_a_trace_is_not_its_first_line(first, tmp_path):
    # a Windows editor's BOM made `cpus=4` a line that is not an event, or became
    # part of the first thread's name: "pid 4822 (\ufeff       CPU 1/KVM)"
    text = TRACE.read_text()
    if first == "event":
        text = text.split("\n", 1)[1]
    path = tmp_path / "t.report"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, out, err = run_cli("trace", str(path))
    assert code == 0, err
    assert "  skipped (not the series' tracepoints): kvm_fpu 1\n" in out
    assert "  pid 4822 (CPU 1/KVM) is vcpu1: kvm_entry vcpu field\n" in out


# -- a long thread name -------------------------------------------------------------------
# A vmm:<name> of 60 characters made the diagram (and markdown, which holds
# it) a ValueError traceback, "no diagram layout fits in 72 columns": the column's
# heading alone was wider than its share. One of 3,000 (a `? ` key) made a proctype
# name SPIN's scanner refuses.


def long_thread(tmp_path, length: int) -> str:
    name = "vmm:" + "t" * length
    return scenario(
        tmp_path,
        HEAD + f'actors:\n  ? "{name}"\n  : [{{op: exit, vcpu: 1}}]\n'
        "  vcpu0: [{op: flush, targets: [1]}]\n",
    )


@pytest.mark.parametrize("length", [60, 3000])
@pytest.mark.parametrize("fmt", ["diagram", "markdown"])
def test_a_long_thread_name_is_cut_in_its_column_heading(fmt, length, tmp_path):
    code, out, err = run_cli("export", long_thread(tmp_path, length), "-f", fmt)
    assert code == 0, err
    heading = next(line for line in out.splitlines() if line.lstrip().startswith("CPU0"))
    assert heading.split() == ["CPU0", "VMM:" + "t" * 17 + "...", "CPU1"]  # 73 // 3 wide
    diagram = out.split("```text\n")[-1].split("```")[0]
    assert max(len(line) for line in diagram.splitlines()) <= 80


@spin
def test_spin_checks_a_scenario_with_a_thread_name_of_3000_characters(tmp_path):
    path = long_thread(tmp_path, 3000)
    assert verdicts(path, "--engine", "spin") == verdicts(path)


# -- YAML's merge key ---------------------------------------------------------------------
# `<<: {...}` (YAML 1.1's merge, which the 1.2 core schema has not) was an "unknown key
# '<<'", as if nothing were merged; a quoted "<<" is a key like any other.


@pytest.mark.parametrize(
    "text, where",
    [
        (HEAD + "actors: {}\n<<: {description: x}\n", "4:1: <<: YAML merge key << is"),
        (
            HEAD + "actors:\n  vmm:\n    - {<<: {op: run}, vcpu: 1}\n",
            "5:8: actors.vmm[0].<<: YAML merge key << is",
        ),
    ],
    ids=["top", "op"],
)
def test_a_merge_key_is_named_as_one(text, where, tmp_path):
    path = scenario(tmp_path, text)
    assert refused("run", path) == (
        f"{path}:{where} not supported (expected the keys written out: a scenario never "
        "repeats a subtree)"
    )


def test_a_quoted_merge_key_is_an_unknown_key(tmp_path):
    path = scenario(tmp_path, HEAD + 'actors: {}\n"<<": 1\n')
    assert refused("run", path).startswith(f"{path}:4:1: <<: unknown key '<<' (expected name,")


# -- a byte-order mark is no column ----------------------------------------------------
# The parser skips a leading BOM, so `name: 42` after one was at 1:7; a control
# character or a bad byte on that line was put one column to the right, at 1:9 and
# 1:11, as the check before the parser counted the BOM.


@pytest.mark.parametrize(
    "line, where",
    [
        (b"name: 42", "1:7: name: 42 is not a name"),
        (b"name: t\x07", "1:8: character U+0007 is not allowed in YAML"),
        (b"name: caf\xe9", "1:10: byte 0xe9 is not UTF-8"),
    ],
    ids=["parser", "control-character", "bad-byte"],
)
def test_a_byte_order_mark_does_not_move_the_columns_of_the_first_line(line, where, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + line + b"\nvcpus: 2\nactors: {}\n")
    assert refused("run", str(path)).startswith(f"{path}:{where} ")


@spin
def test_check_with_spin_refuses_more_ops_than_its_model_holds_saying_what_was_expected(tmp_path):
    # it read "vmm has more than 255 ops": no expectation, no way round it
    ops = "".join("    - {op: exit, vcpu: 1}\n" for _ in range(300))
    path = scenario(tmp_path, HEAD + "actors:\n  vmm:\n" + ops)
    assert refused("check", path, "--engine", "spin") == (
        f"{path}: actors.vmm: 300 ops (expected at most 255 for SPIN, whose model keeps an "
        "actor's op in a byte; hvtui's own engine, without --engine spin, takes any number)"
    )


# -- a terminal no screen holds -----------------------------------------------------------


@pytest.mark.parametrize("size", ["1001x40", "80x1001", "9999x9999"])
@pytest.mark.parametrize("fmt", ["svg", "cast"])
def test_a_size_larger_than_a_terminal_is_refused(fmt, size):
    # 9999x9999 was drawn: two minutes for the cast's 200 frames, and 1.8 GB of it
    assert refused("export", str(RACE), "-f", fmt, "--size", size) == (
        f"--size: '{size}' is larger than a terminal (expected at most 1000x1000, e.g. 120x40)"
    )


def test_the_largest_terminal_is_drawn():
    code, out, err = run_cli("export", str(RACE), "-f", "svg", "--size", "1000x1000")
    assert code == 0 and out.startswith("<svg "), err


# -- an op id where an actor goes -----------------------------------------------------
# `schedule: [kick, f]` (the ops, not who takes them) got the list of actors, with
# nothing to say that each was an op id of one of them.

OPS = HEAD + "actors:\n  vcpu0: [{id: f, op: flush}]\n  vmm: [{id: kick, op: exit, vcpu: 1}]\n"


@pytest.mark.parametrize(
    "tail, where",
    [
        (
            "schedule: [kick, f]\n",
            "6:12: schedule[0]: unknown actor 'kick' (that is an op id of vmm",
        ),
        (
            "expect: {stuck: [f]}\n",
            "6:18: expect.stuck[0]: unknown actor 'f' (that is an op id of vcpu0",
        ),
    ],
    ids=["schedule", "stuck"],
)
def test_an_op_id_for_an_actor_names_the_actor_it_belongs_to(tail, where, tmp_path):
    path = scenario(tmp_path, OPS + tail)
    actor = where.rsplit(" ", 1)[1]
    assert refused("run", path) == f"{path}:{where}: expected its actor, {actor})"


def test_an_op_id_in_a_command_line_schedule_names_its_actor(tmp_path):
    assert refused("run", scenario(tmp_path, OPS), "--schedule", "vmm f") == (
        "--schedule:1:5: schedule[1]: unknown actor 'f' (that is an op id of vcpu0: expected "
        "its actor, vcpu0)"
    )


def test_a_mutex_holder_the_scenario_does_not_have_is_refused(tmp_path):
    # `mutex: vmm:b` without a thread vmm:b was taken, and failed every run (exit 1)
    path = scenario(tmp_path, OPS + 'expect: {final: {vcpu1: {mutex: "vmm:b"}}}\n')
    assert refused("run", path) == (
        f"{path}:6:33: expect.final.vcpu1.mutex: 'vmm:b' is not a mutex holder "
        "(expected '' | KVM_RUN | vmm)"
    )


def test_a_trace_file_name_with_an_escape_makes_a_scenario_that_loads(tmp_path):
    # `trace --save` named the scenario after the file as it was: the saved file
    # held an ESC in its name and description, and hvtui itself refused to run it
    path = tmp_path / "a\x1bb\u202e.report"
    path.write_bytes(TRACE.read_bytes())
    code, _, err = run_cli("trace", str(path), "--save", str(tmp_path / "s.yaml"))
    assert code == 0, err
    code, out, err = run_cli("run", "-q", str(tmp_path / "s.yaml"))
    assert (code, err) == (0, "")
    assert out.startswith(f"trace-a\\x1bb\\u202e ({tmp_path}/s.yaml, variant posted, ")


# -- the workbench without a terminal -------------------------------------------------
# `hvtui FILE < /dev/null` (a script, a CI job) drew the workbench on stderr and then
# waited for a key that could never come, until killed; so did `trace --open`.

NO_TERMINAL = (
    "hvtui: the workbench needs a terminal, and stdin is not one (expected it run in a "
    "terminal; hvtui run FILE replays a scenario without one)"
)


def without_terminal(*args: str) -> tuple[int, str, str]:
    """`hvtui ARGS < /dev/null`: (exit code, stdout, stderr)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hvtui", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [[str(RACE)], [str(RACE), "--schedule", "vmm"], ["trace", str(TRACE), "--open"]],
    ids=["workbench", "schedule", "trace-open"],
)
def test_the_workbench_without_a_terminal_is_refused_not_left_waiting(args):
    assert without_terminal(*args) == (2, "", NO_TERMINAL + "\n")


def test_a_bad_file_or_schedule_is_refused_first_without_a_terminal_too(tmp_path):
    path = scenario(tmp_path, HEAD + "actors: []\n")
    assert without_terminal(path) == (
        2,
        "",
        f"{path}:3:9: actors: a list is not a mapping (expected actor: [ops] pairs)\n",
    )
    code, out, err = without_terminal(str(RACE), "--schedule", "vcpu1")
    assert (code, out) == (2, "") and err.startswith(
        "--schedule:1:1: schedule[0]: vcpu1 cannot take step 1: it has finished its ops"
    )
