"""`hvtui trace`: real traces checked against the model, as a reviewer would use it.

The traces under tests/data/traces are written in the kernel's formats:
`trace-cmd report` (padded event names, no flags column), tracefs `trace`
(header, irq-flags column) and `trace_pipe` (no header).
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from hvtui.cli.main import main
from hvtui.scenario.load import load

TRACES = ROOT / "tests" / "data" / "traces"


def trace(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["trace", *args])
    out, err = capsys.readouterr()
    return code, out, err


def trace_json(capsys, *args: str) -> tuple[int, dict]:
    code, out, _ = trace(capsys, *args, "--json")
    return code, json.loads(out)


# -- a run the model explains ------------------------------------------------------------


def test_the_reviewers_race_as_a_trace_is_consistent(capsys):
    code, out, _ = trace(capsys, str(TRACES / "reviewer-race.report"))
    assert code == 0
    assert "consistent: every event explained" in out
    # the inhibit is never traced: it is inferred, one ioctl, in vcpu1's userspace exit
    assert "vmm:cpu1: exit 1, set_inhibit 1 true, run 1, exit 1, set_inhibit 1 false, run 1" in out
    assert "1 inferred set_inhibit(x, true)" in out
    assert "skipped (not the series' tracepoints): kvm_fpu 1" in out


def test_the_found_run_links_each_traced_step_to_its_line_and_judges_the_properties(capsys):
    code, doc = trace_json(capsys, str(TRACES / "reviewer-race.report"))
    assert code == 0 and doc["result"] == "consistent"
    assert doc["explained"] == doc["events"] == 9
    linked = [s["line"] for s in doc["steps"] if s["line"] is not None]
    assert linked == [2, 5, 6, 11, 12, 13, 14, 19, 21]  # every event line, in order
    by_line = {s["line"]: s["actor"] for s in doc["steps"]}
    assert by_line[14] == "vmm:cpu1"  # the unsuspension is the ioctl's, on vcpu1's thread
    assert by_line[11] == "vcpu0"
    # vcpu1 services the first flush's request after the ioctl set its flag
    assert doc["verdicts"]["no-flush-while-inhibited"] == "violated"
    assert doc["verdicts"]["inhibit-holds"] == "holds"


def test_a_retried_hypercall_is_one_op(capsys):
    """5/7 does not skip the instruction: the flush traced after the wake is the same op."""
    _, doc = trace_json(capsys, str(TRACES / "reviewer-race.report"))
    ops = doc["scenario"]["actors"]["vcpu0"]
    assert [op["id"] for op in ops] == ["L5", "L11"]  # three flush lines, two ops


def test_the_variant_is_chosen_on_the_command_line(capsys):
    code, doc = trace_json(capsys, str(TRACES / "reviewer-race.report"), "--variant", "no-sync")
    assert doc["variant"] == "no-sync" and doc["scenario"]["variant"] == "no-sync"
    assert code == 0


def test_save_writes_a_scenario_that_replays_the_found_run(capsys, tmp_path):
    out = tmp_path / "race.yaml"
    code, _, _ = trace(capsys, str(TRACES / "reviewer-race.report"), "--save", str(out))
    assert code == 0
    code = main(["run", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    _, found = trace_json(capsys, str(TRACES / "reviewer-race.report"))
    assert doc["schedule"][: len(found["schedule"])] == found["schedule"]
    # the file is the user's now: not replaced without --force
    code, _, err = trace(capsys, str(TRACES / "reviewer-race.report"), "--save", str(out))
    assert code == 2 and "exists" in err
    assert (
        trace(capsys, str(TRACES / "reviewer-race.report"), "--save", str(out), "--force")[0] == 0
    )


# -- runs the model cannot produce -------------------------------------------------------


def test_an_unsuspension_of_a_vcpu_that_never_suspended_is_inconsistent(capsys):
    code, out, _ = trace(capsys, str(TRACES / "unsuspend-never-suspended.trace"))
    assert code == 1
    assert "inconsistent at line 16: " in out
    assert "unsuspending vcpu 2" in out.splitlines()[4]
    assert "explains the first 3 of 4 events" in out
    code, doc = trace_json(capsys, str(TRACES / "unsuspend-never-suspended.trace"))
    assert code == 1 and doc["result"] == "inconsistent" and doc["line"] == 16


def test_a_second_flush_by_a_vcpu_nobody_woke_is_inconsistent(capsys):
    code, out, _ = trace(capsys, str(TRACES / "flush-never-woken.trace"))
    assert code == 1
    assert "inconsistent at line 15: " in out
    assert "explains the first 2 of 4 events" in out
    assert "no run then prints this on vcpu0" in out
    # vcpu1 flushed successfully, so its flag was cleared; the clear's scan would have
    # woken vcpu0, and said so
    assert "instead:\n    vmm:cpu1: kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0" in out


def test_a_lost_wakeup_shows_as_a_trace_only_no_sync_explains(capsys):
    """vcpu0 suspends waiting on vcpu1; later vcpu1 flushes itself successfully, so its
    flag was cleared, yet nobody unsuspended vcpu0: the clear's scan ran before vcpu0's
    suspension was complete, which the posted synchronize_srcu() forbids."""
    path = str(TRACES / "lost-wakeup.trace")
    code, out, _ = trace(capsys, path)
    assert code == 1 and "inconsistent at line 22" in out
    code, doc = trace_json(capsys, path, "--variant", "no-sync")
    assert code == 0 and doc["result"] == "consistent"
    assert doc["verdicts"]["no-lost-wakeup"] == "violated"
    assert doc["warnings"] == []  # the file names its clock: mono


def test_what_the_model_could_have_printed_instead(capsys):
    code, doc = trace_json(capsys, str(TRACES / "jitter.pipe"))
    assert code == 1 and doc["line"] == 7  # strict timestamp order: the skewed unsuspension
    assert doc["instead"], doc
    assert all(line.split(":")[1].strip().startswith("kvm_") for line in doc["instead"])


def test_an_ebusy_result_after_a_suspension_needs_a_scan_that_did_not_wait(capsys):
    """5/7's fall-through: unsuspended between s2 and s3, the hypercall completes with
    -EBUSY. posted's synchronize_srcu waits for the suspending reader, so only a variant
    without it explains the trace; the run shows the guest got a bogus status."""
    path = TRACES / "ebusy-fall-through.report"
    code, out, _ = trace(capsys, str(path))
    assert code == 1 and "inconsistent at line 4" in out  # the unsuspension fits, after s3
    # ... but then vcpu0 is blocked, not between s2 and s3: it retries the flush
    assert "could have printed instead:\n    vcpu0: kvm_hv_flush_tlb: processor_mask 0x2" in out
    code, doc = trace_json(capsys, str(path), "--variant", "no-sync")
    assert code == 0 and doc["result"] == "consistent"
    done = next(s for s in doc["steps"] if s["line"] == 4)
    assert done["actor"] == "vcpu0"


# -- clocks and jitter -------------------------------------------------------------------


def test_jitter_between_cpus_is_allowed_within_the_tolerance(capsys):
    path = str(TRACES / "jitter.pipe")
    assert trace(capsys, path)[0] == 1  # CPU 1 stamped the unsuspension before the suspension
    code, out, _ = trace(capsys, path, "--tolerance", "5us")
    assert code == 0 and "consistent" in out
    # stamped 1us before the suspension it ends: a tolerance of 1us explains it, 500ns not
    assert trace(capsys, path, "--tolerance", "1us")[0] == 0
    assert trace(capsys, path, "--tolerance", "500ns")[0] == 1


def test_an_unnamed_or_local_clock_is_warned_about(capsys, tmp_path):
    _, _, err = trace(capsys, str(TRACES / "jitter.pipe"), "--tolerance", "5us")
    assert "does not name its clock" in err and "trace-cmd record -C mono" in err
    body = (TRACES / "jitter.pipe").read_text()
    local = tmp_path / "local.txt"
    local.write_text("# [local] global counter uptime perf mono mono_raw boot x86-tsc\n" + body)
    _, _, err = trace(capsys, str(local), "--tolerance", "5us")
    assert "says trace_clock local" in err and "-C mono" in err
    mono = tmp_path / "mono.txt"
    mono.write_text("# local global counter uptime perf [mono] mono_raw boot\n" + body)
    code, _, err = trace(capsys, str(mono), "--tolerance", "5us")
    assert code == 0 and err == ""


def test_a_bad_tolerance_is_an_input_error(capsys):
    code, _, err = trace(capsys, str(TRACES / "jitter.pipe"), "--tolerance", "soon")
    assert code == 2 and err.startswith("--tolerance:1:1: ")


# -- which thread is which vCPU ----------------------------------------------------------


def test_qemu_thread_names_map_threads_to_vcpus(capsys):
    _, doc = trace_json(capsys, str(TRACES / "unsuspend-never-suspended.trace"))
    assert doc["threads"]["4821"] == {"comm": "CPU 0/KVM", "vcpu": 0, "by": "thread name"}
    assert doc["threads"]["4822"]["vcpu"] == 1


def test_the_vcpu_field_of_kvm_entry_on_the_same_pid_maps_it(capsys):
    """An old kernel (kvm_entry printed "vcpu N", kvm_exit no vcpu); QEMU named every thread
    qemu-kvm, so only the kvm_entry lines tell the threads apart."""
    code, doc = trace_json(capsys, str(TRACES / "qemu-kvm-old-kernel.report"))
    assert code == 0 and doc["result"] == "consistent"
    assert doc["threads"]["23579"] == {"comm": "qemu-kvm", "vcpu": 0, "by": "kvm_entry vcpu field"}
    assert doc["threads"]["23580"]["vcpu"] == 1
    ops = doc["scenario"]["actors"]
    assert ops["vcpu0"][0]["targets"] == [1]
    assert ops["vcpu1"][0]["targets"] == "all"  # the _ex form with HV_GENERIC_SET_ALL


def test_without_a_vcpu_for_a_thread_the_user_maps_it_by_hand(capsys):
    path = str(TRACES / "no-vcpu-field.report")
    code, _, err = trace(capsys, path)
    assert code == 2
    assert err.startswith(f"{path}:3:1: kvm_hv_flush_tlb on pid 23579 (qemu-kvm): no vCPU")
    assert "--pid-map" in err
    code, doc = trace_json(capsys, path, "--pid-map", "23579=0,23580=1")
    assert code == 0 and doc["threads"]["23579"]["by"] == "--pid-map"
    code, _, err = trace(capsys, path, "--pid-map", "23579=0,vcpu1")
    assert code == 2 and err.startswith("--pid-map:1:9: 'vcpu1' is not PID=VCPU")


def test_a_hand_map_wins_over_the_thread_name(capsys):
    code, doc = trace_json(
        capsys, str(TRACES / "unsuspend-never-suspended.trace"), "--pid-map", "4821=2"
    )
    assert doc["threads"]["4821"] == {"comm": "CPU 0/KVM", "vcpu": 2, "by": "--pid-map"}
    assert "vcpu2" in doc["scenario"]["actors"]


def test_vp_indexes_map_to_vcpu_ids_by_hand_where_they_differ(capsys):
    """processor_mask names VP indexes; QEMU makes them the vcpu_ids unless told otherwise."""
    path = str(TRACES / "qemu-kvm-old-kernel.report")
    _, doc = trace_json(capsys, path)
    assert doc["scenario"]["actors"]["vcpu0"][0]["targets"] == [1]
    code, doc = trace_json(capsys, path, "--vp-map", "0=1,1=0")
    assert code == 0 and doc["scenario"]["actors"]["vcpu0"][0]["targets"] == [0]
    code, _, err = trace(capsys, path, "--vp-map", "one=0")
    assert code == 2 and err.startswith("--vp-map:1:1: 'one=0' is not VP=VCPU")


# -- the skeleton ------------------------------------------------------------------------


EX_TRACE = (
    "       CPU 0/KVM-4821  [001]  10.000001: kvm_hv_hypercall:     "
    "code 0x13 slow var_cnt 0x1 rep_cnt 0x0 idx 0x0 in 0x1000 out 0x0\n"
    "       CPU 0/KVM-4821  [001]  10.000002: kvm_hv_flush_tlb_ex:  "
    "valid_bank_mask 0x1 format 0x0 address_space 0x0 flags 0x0 \n"
    "       CPU 0/KVM-4821  [001]  10.000003: kvm_hv_hypercall_done: result 0x0\n"
)


def test_the_sparse_banks_an_ex_flush_does_not_print_come_from_the_skeleton(capsys, tmp_path):
    path = tmp_path / "ex.txt"
    path.write_text(EX_TRACE)
    code, doc = trace_json(capsys, str(path))
    assert code == 0
    assert any("prints which banks, not their contents" in note for note in doc["notes"])
    skeleton = tmp_path / "skeleton.yaml"
    skeleton.write_text(
        "name: ex\nvcpus: 4\nactors:\n"
        "  vcpu0:\n    - {id: f, op: flush, targets: {sparse: {0: 0x6}}}\n"
    )
    code, doc = trace_json(capsys, str(path), "--with", str(skeleton))
    assert code == 0 and doc["result"] == "consistent"
    assert doc["scenario"]["vcpus"] == 4
    assert doc["scenario"]["actors"]["vcpu0"] == [
        {"id": "f", "op": "flush", "targets": {"sparse": {"0": 6}}}  # JSON keys
    ]


def test_a_skeleton_whose_ioctls_cannot_explain_the_trace_is_inconsistent(capsys, tmp_path):
    """The skeleton clears vcpu1's flag but never sets it: the suspension has no cause."""
    skeleton = tmp_path / "skeleton.yaml"
    skeleton.write_text(
        "name: no-inhibit\nvcpus: 2\ninitial:\n  mode: {1: user}\nactors:\n"
        "  vmm:\n    - {id: clr, op: set_inhibit, vcpu: 1, value: false}\n"
    )
    code, out, _ = trace(capsys, str(TRACES / "flush-never-woken.trace"), "--with", str(skeleton))
    assert code == 1 and "inconsistent at line 14" in out


# -- bad input ---------------------------------------------------------------------------


def test_a_malformed_line_of_a_known_event_is_reported_with_its_place(cli):
    path = "tests/data/traces/malformed.pipe"
    code, out, err = cli("trace", path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{path}:4:69: kvm_hv_flush_tlb: 'processor_mask 0xZZ")
    assert "expected processor_mask 0x.. address_space 0x.. flags 0x.." in err


def test_a_binary_trace_dat_is_refused_with_the_command_that_makes_text(capsys, tmp_path):
    dat = tmp_path / "trace.dat"
    dat.write_bytes(b"\x17\x08\x44tracing6\x00\x00")
    code, _, err = trace(capsys, str(dat))
    assert code == 2 and "trace-cmd report" in err


def test_a_missing_file_is_an_input_error(capsys, tmp_path):
    code, _, err = trace(capsys, str(tmp_path / "nope.txt"))
    assert code == 2 and "nope.txt: cannot read the file: no such file or directory" in err


@pytest.mark.parametrize(
    "line",
    [
        "       CPU 0/KVM-4821  [001]  10.000002: kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu x",
        "       CPU 0/KVM-4821  [001]  10.000002: kvm_hv_hypercall_done: result done",
        "       CPU 0/KVM-4821  [001]  10.000002: kvm_userspace_exit: reason",
    ],
)
def test_each_known_event_checks_its_own_format(capsys, tmp_path, line):
    path = tmp_path / "bad.txt"
    path.write_text(line + "\n")
    code, _, err = trace(capsys, str(path))
    assert code == 2 and err.startswith(f"{path}:1:")
    assert "is not in its format" in err


def test_unknown_events_and_lines_are_skipped_and_counted(capsys, tmp_path):
    body = (TRACES / "qemu-kvm-old-kernel.report").read_text()
    noisy = tmp_path / "noisy.txt"
    noisy.write_text(
        body
        + "        qemu-kvm-23579 [005] 22018.775700: kvm_pio:              pio_read at 0x5658\n"
        + "        qemu-kvm-23579 [005] 22018.775701: kvm_pio:              pio_read at 0x5658\n"
        + "CPU 3 is empty\nsomething else\n"
    )
    code, doc = trace_json(capsys, str(noisy))
    assert code == 0
    assert doc["skipped"] == {"(not an event line)": 1, "kvm_pio": 2}


# -- the workbench -----------------------------------------------------------------------


async def test_open_shows_the_found_run_in_the_workbench():
    from hvtui.cli.trace import workbench_app
    from hvtui.trace.check import check

    report = check(str(TRACES / "reviewer-race.report"), None, None, 0, None)
    app = workbench_app(report, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.bench.session.pos == 0  # the run is the recorded future, as for --schedule
        await pilot.press(*["right_square_bracket"] * 3)
        await pilot.pause()
        session = app.bench.session
        assert session.pos == 3
        assert session.events[2].text.startswith("kvm_hv_flush_tlb: vcpu 0 targets 0x6")
        assert [session.engine.names[a] for a in session.actors] == report.result.schedule
        # each step the trace printed names its line, as `hvtui trace` does: step 3 is line 5
        log = app.query_one("#log")
        shown = [log.render_line(y).text for y in range(log.size.height)]
        flush = next(row for row in shown if "kvm_hv_flush_tlb: vcpu 0 targets 0x6" in row)
        assert flush.rstrip().endswith("← trace line 5")
        assert not any("trace line" in row for row in shown if " vmm" in row and "kick" in row)


# -- kernel work (model v2) --------------------------------------------------------------


def test_an_in_kernel_exit_pair_is_kernel_work_with_the_flag(capsys, tmp_path):
    """vcpu2's EPT_MISCONFIG exit comes back to the guest without leaving the kernel: a
    kernel_work op (it holds kvm->srcu, which the clear's synchronize_srcu waits for). Its
    IO exit goes to QEMU (kvm_userspace_exit): not kernel work. The flush's own VMCALL
    exit is the flush."""
    path = str(TRACES / "kernel-work.report")
    code, doc = trace_json(capsys, path)
    assert code == 0 and "vcpu2" not in doc["scenario"]["actors"]
    code, doc = trace_json(capsys, path, "--kernel-work")
    assert code == 0 and doc["result"] == "consistent"
    assert doc["scenario"]["actors"]["vcpu2"] == [{"id": "K6", "op": "kernel_work"}]
    assert [op["op"] for op in doc["scenario"]["actors"]["vcpu0"]] == ["flush"]
    by_line = {s["line"]: s["text"] for s in doc["steps"] if s["line"]}
    assert "VM exit handled in the kernel" in by_line[6] and "VM entry" in by_line[7]
    assert "sync-waits-for-flushes-only" in doc["verdicts"]
    saved = tmp_path / "k.yaml"
    code, _, _ = trace(capsys, path, "--kernel-work", "--save", str(saved))
    assert code == 0  # the saved scenario holds the kernel work, and replays as found
    assert [op.op for op in load(str(saved)).program.vcpu_ops[2]] == ["kernel_work"]


def test_a_run_with_kernel_work_exported_and_traced_is_the_same_run(capsys, tmp_path):
    from hvtui.exports.ftrace import render
    from hvtui.model.state import Flush, KernelWork, Program, SetInhibit
    from hvtui.runs.runner import replay_to_end
    from hvtui.scenario.load import Scenario

    program = Program(
        3,
        ((Flush("f", (1,), [1]),), (), (KernelWork("mmio"), KernelWork("pf"))),
        (("vmm", (SetInhibit("clr", 1, False),)),),
        frozenset({1}),
        ((1, "user"),),
    )
    scenario = Scenario("k.yaml", "k", "", 3, "posted", program)
    session = replay_to_end(scenario)
    out = tmp_path / "k.trace"
    out.write_text(render(scenario, session))
    code, doc = trace_json(capsys, str(out), "--kernel-work")
    assert code == 0 and doc["explained"] == doc["events"]
    assert [op["op"] for op in doc["scenario"]["actors"]["vcpu2"]] == ["kernel_work"] * 2


def test_a_tracepoint_that_was_not_recorded_is_declared_so(capsys):
    """Without kvm_hv_vcpu_unsuspend_tlb_flush recorded, the clear that woke vcpu0 leaves
    no line: the same trace is then explained."""
    path = str(TRACES / "flush-never-woken.trace")
    assert trace(capsys, path)[0] == 1
    code, doc = trace_json(capsys, path, "--untraced", "kvm_hv_vcpu_unsuspend_tlb_flush")
    assert code == 0 and doc["result"] == "consistent"
    code, _, err = trace(capsys, path, "--untraced", "kvm_pio")
    assert code == 2 and err.startswith("--untraced:1:1: 'kvm_pio' is not one of")
