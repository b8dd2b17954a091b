"""`hvtui export --format ftrace` and `hvtui trace` test each other.

Every library scenario's run, printed as the kernel would trace it, must be
explained by the model again: the tracepoint table, the export, the parser,
the scenario builder and the search all stand in this loop.
"""

from __future__ import annotations

import json

import pytest
from conftest import SCENARIOS

from hvtui.cli.main import main
from hvtui.model.steps import STEPS
from hvtui.scenario.load import load
from hvtui.trace import formats
from hvtui.trace.build import MAX_CANDIDATES, _picks
from hvtui.trace.lines import Reader
from hvtui.trace.tracepoints import FIELDS

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))


def export(path, out, capsys) -> None:
    assert main(["export", str(path), "--format", "ftrace", "-o", str(out)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_every_library_scenario_traced_is_explained_by_the_model(path, tmp_path, capsys):
    out = tmp_path / f"{path.stem}.trace"
    export(path, out, capsys)
    variant = load(str(path)).variant
    code = main(["trace", str(out), "--variant", variant, "--kernel-work", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, (doc.get("line"), doc.get("expected"), doc.get("instead"))
    assert doc["result"] == "consistent"
    # every event line of the export is read and explained (ioctl-without-context
    # traces nothing: its ioctls and NULL dereference have no tracepoint)
    lines = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert doc["explained"] == doc["events"]
    assert doc["events"] > 0 or not lines
    assert doc["warnings"] == []  # the export names its clock (mono)


def test_the_export_prints_the_kernels_lines_on_qemus_threads(tmp_path, capsys):
    out = tmp_path / "race.trace"
    export(SCENARIOS / "reviewer-race.yaml", out, capsys)
    text = out.read_text()
    assert text.startswith("# tracer: nop\n")
    events = [line for line in text.splitlines() if not line.startswith("#")]
    # the kick: a VM exit for the IPI, then KVM_RUN returns to userspace
    assert events[0].startswith(
        "       CPU 1/KVM-5001    [001] .....     1.000001: kvm_exit: vcpu 1 "
        "reason EXTERNAL_INTERRUPT "
    )
    assert events[1] == (
        "       CPU 1/KVM-5001    [001] .....     1.000002: kvm_userspace_exit: reason restart (4)"
    )
    flush = next(line for line in events if "kvm_hv_flush_tlb:" in line)
    # the trailing space is TP_printk's empty "%s" where a nested guest prints (L2)
    assert flush.endswith(": kvm_hv_flush_tlb: processor_mask 0x6 address_space 0x0 flags 0x0 ")
    stamps = [r.ts for r in Reader(str(out)).records()]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # in step order


def test_a_flush_of_nobody_is_traced_as_an_empty_set_not_a_zero_mask(tmp_path, capsys):
    """A zero processor_mask reads as every vCPU (kvm_hv_flush_tlb's WS2012
    workaround), so a flush of an empty list must print the _ex form's empty set."""
    path = tmp_path / "nobody.yaml"
    path.write_text(
        "name: nobody\nvcpus: 2\ninitial: {inhibit: [1], mode: {1: user}}\n"
        "actors:\n  vcpu0: [{id: f, op: flush, targets: []}]\n"
    )
    out = tmp_path / "nobody.trace"
    export(path, out, capsys)
    assert "kvm_hv_flush_tlb_ex: valid_bank_mask 0x0 " in out.read_text()
    assert main(["trace", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["result"] == "consistent"


def test_a_suspension_is_traced_after_both_writes_and_the_wake_in_the_scan(tmp_path, capsys):
    """6/7 traces kvm_hv_vcpu_suspend_tlb_flush after waiting_on and suspended are written,
    and kvm_hv_vcpu_unsuspend_tlb_flush after the scan's two writes: under
    unsuspend-swapped the woken vCPU can retry and suspend again before the second one."""
    out = tmp_path / "clobber.trace"
    export(SCENARIOS / "unsuspend-swapped-clobber.yaml", out, capsys)
    names = [
        (r.name, r.fields.vcpu, r.fields.other)
        for r in Reader(str(out)).records()
        if r.name in (formats.SUSPEND, formats.UNSUSPEND)
    ]
    assert names == [
        (formats.SUSPEND, 0, 1),
        (formats.SUSPEND, 0, 2),
        (formats.UNSUSPEND, 0, -1),
    ]


def test_every_tracepoint_the_step_table_declares_has_its_fields():
    """The step table alone says which step traces what; tracepoints.py only prints
    each one's fields, so it knows every name the table declares, and no other."""
    declared = {tp for d in STEPS for case in d.cases.values() for tp in case.tracepoints}
    assert declared == set(FIELDS)


def traced(tmp_path, capsys, yaml: str, variant: str, cut: str = "") -> tuple[int, dict]:
    """Export the scenario as a trace (cut before the first line with `cut`, as a
    recording stopped there), then `hvtui trace --json` it under `variant`."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml)
    out = tmp_path / "s.trace"
    export(path, out, capsys)
    if cut:
        text = out.read_text()
        out.write_text(text[: text.index(cut)])
    code = main(["trace", str(out), "--variant", variant, "--json"])
    return code, json.loads(capsys.readouterr().out)


# vcpu0 suspends on its own flag; `vmm` clears vcpu1's, which no event shows
# set, and under wake-all that scan wakes vcpu0 too: it retries and suspends again
BOGUS_WAKE = """\
name: bogus-wake
vcpus: 2
variant: wake-all
initial: {inhibit: [0, 1], mode: {1: user}}
actors:
  vcpu0: [{id: f0, op: flush, targets: [0]}]
  vmm: [{id: clr1, op: set_inhibit, vcpu: 1, value: false}]
schedule: [vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vmm, vmm, vmm, vmm, vmm, vmm, vmm,
           vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vcpu0]
"""


@pytest.mark.parametrize("variant", ["wake-all", "wake-all-retry"])
def test_a_wake_all_scan_that_clears_another_vcpus_flag_is_explained(tmp_path, capsys, variant):
    """The unsuspension does not say whose flag was cleared: not vcpu0's (vcpu0 never
    left KVM_RUN, so no ioctl could run on it), so another vCPU's, one the trace never
    shows: vcpu1, set from the start, cleared by the ioctl whose scan woke vcpu0."""
    code, doc = traced(tmp_path, capsys, BOGUS_WAKE.replace("wake-all", variant), variant)
    assert (code, doc["result"]) == (0, "consistent"), (doc.get("line"), doc.get("instead"))
    assert doc["explained"] == doc["events"] == 5  # flush, suspend, unsuspend, flush, suspend
    scenario = doc["scenario"]
    assert scenario["vcpus"] == 2
    assert scenario["actors"]["vmm:cpu1"] == [
        {"id": "clr1_L18", "op": "set_inhibit", "vcpu": 1, "value": False}
    ]
    assert sorted(scenario["initial"]["inhibit"]) == [0, 1]


def test_the_same_trace_is_inconsistent_where_the_scan_wakes_only_its_flags_waiters(
    tmp_path, capsys
):
    code, doc = traced(tmp_path, capsys, BOGUS_WAKE, "posted")
    assert (code, doc["result"]) == (1, "inconsistent")


def test_two_wake_all_scans_that_both_matched_a_vcpu_both_trace_it(tmp_path, capsys):
    """`vmm` (clearing vcpu1) and `vmm:b` (clearing vcpu2) both find vcpu0 suspended
    before either's second write: each iteration traces the unsuspension, so one
    suspension has two; the second is vmm:b's scan, of a flag no event shows."""
    yaml = """\
name: two-scans
vcpus: 3
variant: wake-all
initial: {inhibit: [1, 2], mode: {1: user, 2: user}}
actors:
  vcpu0: [{id: f0, op: flush, targets: [1]}]
  vmm: [{id: clr1, op: set_inhibit, vcpu: 1, value: false}]
  vmm:b: [{id: clr2, op: set_inhibit, vcpu: 2, value: false}]
schedule: [vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vmm, vmm, vmm, vmm, vmm, vmm,
           vmm:b, vmm:b, vmm:b, vmm:b, vmm:b, vmm:b, vmm, vmm:b]
"""
    path = tmp_path / "two.yaml"
    path.write_text(yaml)
    out = tmp_path / "two.trace"
    export(path, out, capsys)
    wakes = [
        (r.comm, r.fields.vcpu) for r in Reader(str(out)).records() if r.name == formats.UNSUSPEND
    ]
    assert wakes == [("qemu-system-x86", 0), ("vmm:b", 0)]
    code, doc = traced(tmp_path, capsys, yaml, "wake-all")
    assert (code, doc["result"]) == (0, "consistent"), (doc.get("line"), doc.get("instead"))
    assert doc["explained"] == doc["events"]
    actors = doc["scenario"]["actors"]
    assert [op["vcpu"] for op in actors["vmm:cpu1"] + actors["vmm:cpu2"] if not op["value"]] == [
        1,
        2,
    ]


def test_a_swapped_scan_traced_only_up_to_its_first_write_still_explains_the_retry(
    tmp_path, capsys
):
    """unsuspend-swapped: the first write (suspended = false) already wakes vcpu0, which
    retries; the recording stops before the second write traces the unsuspension. The
    retry says the flag was cleared all the same."""
    yaml = """\
name: swapped-cut
vcpus: 2
variant: unsuspend-swapped
initial: {inhibit: [1], mode: {1: user}}
actors:
  vcpu0: [{id: f0, op: flush, targets: [1]}]
  vmm: [{id: clr1, op: set_inhibit, vcpu: 1, value: false}]
schedule: [vcpu0, vcpu0, vcpu0, vcpu0, vcpu0, vmm, vmm, vmm, vmm, vmm, vmm,
           vcpu0, vcpu0, vcpu0, vcpu0, vcpu0]
"""
    code, doc = traced(tmp_path, capsys, yaml, "unsuspend-swapped", cut=" qemu-system-x86-")
    assert (code, doc["result"]) == (0, "consistent"), (doc.get("line"), doc.get("instead"))
    assert doc["events"] == 4  # flush, suspend, the retried flush, its result
    clears = [op for op in doc["scenario"]["actors"]["vmm:cpu1"] if op["op"] == "set_inhibit"]
    assert [op["value"] for op in clears] == [False]


def test_the_readings_tried_grow_with_the_scans_that_have_a_choice_and_stay_bounded():
    """Each wake-all scan with one possible flag adds no reading, whatever their number;
    those with a choice add their alternatives, up to MAX_CANDIDATES readings in all."""
    assert list(_picks([(1,)] * 5000)) == [()]
    assert list(_picks([(1,)] * 5000 + [(1, 2, 3)])) == [(), (0,) * 5000 + (1,), (0,) * 5000 + (2,)]
    assert len(list(_picks([(0, 1, 2)] * 5000))) == MAX_CANDIDATES


def test_a_suspension_traces_its_target_even_when_a_swapped_scan_reset_waiting_on(tmp_path, capsys):
    """6/7 traces kvm_hv_vcpu_suspend_tlb_flush(vcpu, vcpu_id) with its argument: when
    the swapped scan's second write (waiting_on = -1) lands between the retry's two
    writes, the line still names the target, not the -1 the field holds then."""
    yaml = """\
name: swapped-between
vcpus: 3
variant: unsuspend-swapped
initial: {inhibit: [1, 2], mode: {1: user}}
actors:
  vcpu2: [{id: f2, op: flush, targets: [1, 2]}]
  vmm: [{id: clr1, op: set_inhibit, vcpu: 1, value: false}]
schedule: [vcpu2, vcpu2, vcpu2, vcpu2, vcpu2, vmm, vmm, vmm, vmm, vmm, vmm, vmm, vmm,
           vcpu2, vcpu2, vcpu2, vcpu2, vcpu2, vmm, vcpu2, vcpu2]
"""
    path = tmp_path / "between.yaml"
    path.write_text(yaml)
    out = tmp_path / "between.trace"
    export(path, out, capsys)
    suspensions = [
        (r.fields.vcpu, r.fields.other)
        for r in Reader(str(out)).records()
        if r.name == formats.SUSPEND
    ]
    assert suspensions == [(2, 1), (2, 2)]
    code, doc = traced(tmp_path, capsys, yaml, "unsuspend-swapped")
    assert (code, doc["result"]) == (0, "consistent"), (doc.get("line"), doc.get("instead"))
