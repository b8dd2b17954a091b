"""The scenario format's Model v2 fields, as the loader reads and writes them.

A hot-plugged vCPU (`initial.no_hyperv`), the VMM's `hyperv_init` that gives
it a Hyper-V context, a vCPU's `kernel_work` (an exit handled inside
KVM_RUN), and an `expect.violations` mapping with a `default` entry. The
malformed spellings of these are in tests/data/bad/ (see test_bad_corpus).
"""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from hvtui.errors import InputError
from hvtui.model.state import USER, HypervInit, KernelWork
from hvtui.model.variants import VARIANTS
from hvtui.scenario.load import parse, to_yaml

HOTPLUG = """\
name: hotplug
vcpus: 3
initial:
  no_hyperv: [2]
  mode: {1: user, 2: user}
actors:
  vcpu0:
    - {id: f, op: flush, targets: all}
  vcpu1:
    - {id: mmio, op: kernel_work}
    - {op: kernel_work}
  vcpu2:
    - {id: mmio2, op: kernel_work}
  vmm:
    - {id: init2, op: hyperv_init, vcpu: 2}
    - {id: run2, op: run, vcpu: 2}
"""


def test_a_vcpu_without_a_context_its_init_and_kernel_work_reach_the_program():
    program = parse(HOTPLUG, "h.yaml").program
    assert program.initial_no_hyperv == frozenset({2})
    assert program.initial_mode == ((1, USER), (2, USER))  # naming its user mode is fine
    assert program.vcpu_ops[1] == (KernelWork("mmio"), KernelWork("vcpu1#1"))
    assert program.vcpu_ops[2] == (KernelWork("mmio2"),)  # an exit needs no Hyper-V context
    ((_, ops),) = program.threads
    assert ops[0] == HypervInit("init2", 2)


def test_a_vcpu_without_a_context_may_leave_its_mode_unsaid():
    text = HOTPLUG.replace("  mode: {1: user, 2: user}\n", "")
    program = parse(text, "h.yaml").program
    assert program.initial_no_hyperv == frozenset({2}) and program.initial_mode == ()


def test_the_new_fields_are_written_back_as_they_were_read():
    scenario = parse(HOTPLUG, "h.yaml")
    text = to_yaml(scenario)
    assert "  no_hyperv: [2]\n" in text
    assert "    - {id: mmio, op: kernel_work}\n" in text
    assert "    - {id: init2, op: hyperv_init, vcpu: 2}\n" in text
    assert parse(text, "h.yaml") == scenario


BASE = "name: x\nvcpus: 2\nvariant: {own}\nactors: {{vcpu0: [{{op: flush}}]}}\n"


@pytest.mark.parametrize(
    ("violations", "variant", "expected"),
    [
        ("[progress]", "posted", ("progress",)),  # a list: the file's own variant ...
        ("[progress]", "no-sync", ()),  # ... and nothing under the others
        ("{no-sync: [progress]}", "no-sync", ("progress",)),
        ("{no-sync: [progress]}", "posted", ()),  # no default: unlisted means none
        ("{default: [progress], no-sync: []}", "posted", ("progress",)),
        ("{default: [progress], no-sync: []}", "wake-all", ("progress",)),
        ("{default: [progress], no-sync: []}", "no-sync", ()),  # named beats default
    ],
)
def test_expected_violations_per_variant(violations, variant, expected):
    text = BASE.format(own="posted") + f"expect: {{violations: {violations}}}\n"
    scenario = parse(text, "x.yaml")
    assert scenario.expect.violations_under(variant, scenario.variant) == expected
    assert parse(to_yaml(scenario), "x.yaml") == scenario


def test_a_default_entry_is_written_back():
    text = BASE.format(own="posted") + "expect: {violations: {default: [progress]}}\n"
    assert "violations:\n    default: [progress]\n" in to_yaml(parse(text, "x.yaml"))


def test_check_sweeps_every_variant_whatever_the_mapping_names(tmp_path):
    """`check --variant all` judges every variant: an unnamed one expects nothing,
    or what `default` says."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nvcpus: 2\nactors:\n  vcpu0: [{op: flush, targets: [1]}]\n"
        "expect:\n  violations: {request-first: []}\n"
    )
    code, out, err = run_cli("check", "--json", "--variant", "all", str(path))
    assert (code, err) == (0, "")
    results = json.loads(out)["results"]
    assert [r["variant"] for r in results] == list(VARIANTS)
    assert all(r["expected"] == [] and r["met"] for r in results)
    path.write_text(path.read_text().replace("{request-first: []}", "{default: [progress]}"))
    code, out, _ = run_cli("check", "--json", "--variant", "all", str(path))
    assert code == 1  # nothing breaks progress here, yet every variant was told it would
    results = json.loads(out)["results"]
    assert [r["expected"] for r in results] == [["progress"]] * len(VARIANTS)


def test_a_flush_by_a_vcpu_without_a_context_is_refused_at_its_op():
    text = HOTPLUG.replace("  vcpu2:\n", "  vcpu2:\n    - {id: g, op: flush, targets: [0]}\n")
    with pytest.raises(InputError) as error:
        parse(text, "h.yaml")
    assert (error.value.line, error.value.col, error.value.path) == (13, 19, "actors.vcpu2[0].op")
