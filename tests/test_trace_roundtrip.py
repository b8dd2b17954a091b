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
