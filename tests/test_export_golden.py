"""The reviewer's race in every format, compared with files a reviewer can read.

tests/golden/ holds what the commands in GOLDENS print for
scenarios/reviewer-race.yaml: every export format, the diagram with only
the relevant steps, and `hvtui compare` as text and JSON. A change shows up
as a diff of those files; when the change is intended, rewrite them with
`python tests/update_goldens.py exports` and review the diff like code. The
tests never write them. (svg and cast draw the workbench: a change to its
screens changes them too.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
DEMO = "scenarios/reviewer-race.yaml"

# name -> (the command after `hvtui`, its exit code, the golden file in tests/golden/)
GOLDENS = {
    "diagram": (["export", DEMO, "--format", "diagram"], 0, "reviewer-race.txt"),
    "diagram-relevant": (
        ["export", DEMO, "--format", "diagram", "--relevant"],
        0,
        "reviewer-race.relevant.txt",
    ),
    "markdown": (["export", DEMO, "--format", "markdown"], 0, "reviewer-race.md"),
    "mermaid": (["export", DEMO, "--format", "mermaid"], 0, "reviewer-race.mmd"),
    "json": (["export", DEMO, "--format", "json"], 0, "reviewer-race.json"),
    "perfetto": (["export", DEMO, "--format", "perfetto"], 0, "reviewer-race.perfetto.json"),
    "svg": (["export", DEMO, "--format", "svg", "--size", "100x30"], 0, "reviewer-race.svg"),
    "cast": (["export", DEMO, "--format", "cast", "--size", "80x24"], 0, "reviewer-race.cast"),
    "compare": (["compare", DEMO, "--variants", "posted,no-sync"], 1, "reviewer-race.compare.txt"),
    "compare-json": (
        ["compare", DEMO, "--variants", "posted,no-sync", "--json"],
        1,
        "reviewer-race.compare.json",
    ),
}
SUFFIX = {key: name.removeprefix("reviewer-race.") for key, (_, _, name) in GOLDENS.items()}


def golden_path(key: str) -> Path:
    return GOLDEN / GOLDENS[key][2]


def export(key: str) -> str:
    """What the command of GOLDENS[key] prints (the update script writes it)."""
    args, expected, _ = GOLDENS[key]
    code, out, err = run_cli(*args)
    assert code == expected, err
    return out


@pytest.mark.parametrize("key", list(GOLDENS))
def test_reviewer_race_matches_its_golden_file(key):
    assert export(key) == golden_path(key).read_text(encoding="utf-8")


def test_golden_diagram_tells_the_race_the_review_asks_about():
    """The file a reviewer would paste: the check, the flip, the late flush, and why.

    Read with the spaces taken out, so that wrapping within a column does not matter.
    """
    for key in ("diagram", "diagram-relevant"):
        text = "".join(golden_path(key).read_text(encoding="utf-8").split())
        order = [
            "3kvm_hv_flush_tlb()",
            "4READ_ONCE(vcpu1->arch.hyperv->tlb_flush_inhibit)==0",  # CPU0 reads: clear
            "5ioctl(vcpu1_fd,KVM_HYPERV_SET_TLB_FLUSH_INHIBIT,{.inhibit=1})",  # the VMM's ioctl
            "7WRITE_ONCE(vcpu1->arch.hyperv->tlb_flush_inhibit,1)",
            "9kvm_make_request(KVM_REQ_HV_TLB_FLUSH,vcpu1)",  # the request still goes out
            "12synchronize_srcu(&kvm->srcu)/*waitsforCPU0*/",  # the ioctl waits for CPU0
            "15ioctlreturns0",
            ".-inhibited",  # the window opens in CPU1's column
            "17*|kvm_hv_",  # CPU1 flushes inside it: marked
            "*CPU1servicestheflushrequestat17,aftertheioctlthatsetCPU1'sflagreturnedat15.",
        ]
        positions = [text.index(needle.replace(" ", "")) for needle in order]
        assert positions == sorted(positions), key


def test_golden_json_is_what_run_json_prints():
    code, out, _ = run_cli("run", "--json", DEMO)
    assert code == 0
    assert out == golden_path("json").read_text(encoding="utf-8")


def test_the_readme_shows_the_diagram_the_export_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "`hvtui export scenarios/reviewer-race.yaml --format diagram --relevant`"
    block = readme.split(command, 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert block == golden_path("diagram-relevant").read_text(encoding="utf-8")
