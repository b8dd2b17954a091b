"""The reviewer's race in every text format, compared with files a reviewer can read.

tests/golden/ holds what `hvtui export scenarios/reviewer-race.yaml --format F`
prints. A change to an export shows up as a diff of those files; when the
change is intended, rewrite them with `python tests/update_goldens.py exports`
and review the diff like code. The tests never write them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
DEMO = "scenarios/reviewer-race.yaml"
SUFFIX = {"diagram": "txt", "markdown": "md", "mermaid": "mmd", "json": "json"}


def golden_path(fmt: str) -> Path:
    return GOLDEN / f"reviewer-race.{SUFFIX[fmt]}"


def export(fmt: str) -> str:
    """What `hvtui export DEMO --format fmt` prints (tests/update_goldens.py writes it)."""
    code, out, err = run_cli("export", DEMO, "--format", fmt)
    assert code == 0, err
    return out


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_reviewer_race_matches_its_golden_file(fmt):
    assert export(fmt) == golden_path(fmt).read_text(encoding="utf-8")


def test_golden_diagram_tells_the_race_the_review_asks_about():
    """The file a reviewer would paste: the check, the flip, the late flush."""
    text = (GOLDEN / "reviewer-race.txt").read_text(encoding="utf-8")
    order = [
        "READ_ONCE(tlb_flush_inhibit) /* vcpu1: 0 */",  # vcpu0 checks vcpu1: clear
        "WRITE_ONCE(tlb_flush_inhibit, 1)",  # then the VMM sets it
        "kvm_make_vcpus_request_mask() /* vcpu1 */",  # and the request still goes out
        "synchronize_srcu() /* waits: vcpu0 */",  # the ioctl waits for the hypercall
        "17* ",  # vcpu1 flushes inside its window: marked
        "* step 17 (vcpu1, service) violates no-flush-while-inhibited",
    ]
    positions = [text.index(needle) for needle in order]
    assert positions == sorted(positions)


def test_golden_json_is_what_run_json_prints():
    code, out, _ = run_cli("run", "--json", DEMO)
    assert code == 0
    assert out == (GOLDEN / "reviewer-race.json").read_text(encoding="utf-8")
