"""`hvtui steps` and `hvtui variants` print the declarations, as a user runs them."""

from __future__ import annotations

import contextlib
import io
import json

from hvtui.cli.main import main
from hvtui.model.steps import STEPS
from hvtui.model.variants import VARIANTS


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_steps_json_lists_every_declared_step_with_its_footprint_and_line():
    code, out = run("steps", "--json")
    assert code == 0
    rows = {row["step"]: row for row in json.loads(out)["steps"]}
    assert len(rows) == len(STEPS)
    check = rows["check t"]
    assert check["actor"] == "vcpu" and check["op"] == "flush"
    assert "inhibit[t]" in check["reads"] and check["writes"] == ["pos[c]"]
    assert check["outcomes"]["inhibited"]["text"].startswith("READ_ONCE(tlb_flush_inhibit)")
    assert check["series"].startswith("5/7 arch/x86/kvm/hyperv.c kvm_hv_flush_tlb()")
    assert "no-null-deref" in check["judged_by"]
    # the tracepoints of 6/7 and the ones a trace replay matches
    assert rows["s2"]["outcomes"]["suspends"]["tracepoints"] == ["kvm_hv_vcpu_suspend_tlb_flush"]
    assert rows["wake w"]["outcomes"]["suspended"]["tracepoints"] == [
        "kvm_hv_vcpu_unsuspend_tlb_flush"
    ]
    assert "kvm_hv_flush_tlb" in rows["enter"]["outcomes"]["enter"]["tracepoints"]
    assert rows["sync"]["reads_by_variant"]["own-srcu"] == [
        "flush_srcu_reader[all]",
        "flush_srcu_gen[all]",
    ]


def test_steps_text_shows_guard_reads_writes_lines_and_series_for_each_step():
    code, out = run("steps")
    assert code == 0
    for d in STEPS:
        assert f": {d.kind}" in out
        assert d.series in out
        for case in d.cases.values():
            assert case.text in out
    assert "guard:        mode[x] is user and nobody holds vcpu x's mutex" in out
    assert "trace: kvm_hv_hypercall_done, kvm_entry" in out


def test_variants_print_each_entry_description_source_and_toggles():
    code, out = run("variants", "--json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == list(VARIANTS)
    assert doc["wake-all-retry"]["toggles"]["retry"] is True
    assert doc["own-srcu"]["description"] == VARIANTS["own-srcu"].description
    code, text = run("variants")
    assert "no-sync" in text and "toggles: sync=off" in text
