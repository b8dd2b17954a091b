"""`hvtui compare FILE --variants A,B` as a reviewer types it: what it prints, its exit codes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

DEMO = "scenarios/reviewer-race.yaml"


def test_side_by_side_names_the_divergence_the_refusal_and_the_verdict_that_differs():
    code, out, err = run_cli("compare", DEMO, "--variants", "posted,no-sync")
    assert (code, err) == (1, "")  # their verdicts differ
    lines = out.splitlines()
    assert lines[0] == "reviewer-race: posted and no-sync, the same schedule"
    assert max(map(len, lines)) <= 80
    rows = {int(line[:4]): line for line in lines if line[:4].strip().isdigit()}
    assert rows[11].split() == ["11", "vcpu2", "service", "vcpu2", "service"]
    # step 12: posted's ioctl waits in synchronize_srcu(), no-sync's returns at once
    assert rows[12].split() == ["12*", "vmm", "sync", "vmm", "return"]
    assert not rows[13].startswith("  13*")  # the same step again on both sides
    text = " ".join(out.split())
    assert "They first differ at step 12 (marked *):" in text
    assert "no-sync: vmm return: KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu 1 returns 0" in text
    assert "no-sync cannot follow: step 15: vmm cannot step: it has finished its ops" in text
    verdict = next(line for line in lines if line.startswith("inhibit-holds"))
    assert verdict.split() == [
        "inhibit-holds",
        "holds",
        "violated",
        "(step",
        "13)",
        "<-",
        "differs",
    ]
    assert lines[-1] == "1 verdict differs."


def test_the_engine_says_why_the_other_variant_cannot_take_a_step():
    code, out, _ = run_cli("compare", DEMO, "--variants", "posted,request-first")
    assert code == 1
    assert (
        "request-first cannot follow: step 14: vmm cannot take synced: synchronize_srcu "
        "waits for reader vcpu0" in " ".join(out.split())
    )


def test_variants_that_agree_exit_0():
    code, out, _ = run_cli("compare", DEMO, "--variants", "posted,merged-state")
    assert code == 0
    assert "The two runs take the same steps." in out
    assert out.endswith("Same verdicts.\n")


def test_json_is_one_document_with_both_sides():
    code, out, err = run_cli("compare", DEMO, "--variants", "posted,no-sync", "--json")
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert doc["file"] == DEMO and doc["diverges_at"] == 12
    assert doc["divergence"]["left"]["step"] == "sync"
    assert doc["right"]["refusal"]["time"] == 15
    assert doc["verdicts"]["inhibit-holds"]["differs"] is True
    assert doc["same_verdicts"] is False


def test_a_schedule_from_the_command_line_is_the_one_compared():
    code, out, _ = run_cli(
        "compare", DEMO, "--variants", "posted,request-first", "--schedule", "vcpu0 vcpu0"
    )
    assert code in (0, 1)
    rows = [line.split() for line in out.splitlines() if line[:4].strip() in ("1", "2")]
    assert rows[0] == ["1", "vcpu0", "enter", "vcpu0", "enter"]
    assert rows[1] == ["2*", "vcpu0", "check", "1", "vcpu0", "request", "1"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--variants", "posted"],
            "--variants: 'posted' is not two variants (expected A,B, e.g. posted,no-sync)\n",
        ),
        (
            ["--variants", "posted,nosync"],
            "--variants:1:8: unknown variant 'nosync' (expected one of posted, request-first, "
            "no-sync, unsuspend-swapped, merged-state, wake-all)\n",
        ),
    ],
)
def test_bad_variants_are_one_line_and_exit_2(args, message):
    code, out, err = run_cli("compare", DEMO, *args)
    assert (code, out) == (2, "")
    assert err.startswith(message.split(" (expected one of")[0])
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_schedule_the_first_variant_cannot_take_is_bad_input():
    code, out, err = run_cli(
        "compare", DEMO, "--variants", "posted,no-sync", "--schedule", "vmm vmm"
    )
    assert (code, out) == (2, "")
    assert err.startswith("--schedule:1:5: schedule[1]: vmm cannot take step 2")


def test_a_missing_file_exits_2():
    code, _, err = run_cli("compare", "nope.yaml", "--variants", "posted,no-sync")
    assert code == 2 and err.startswith("nope.yaml: cannot read the file")
