"""The race diagram as a reviewer pastes it: 80 columns, ASCII, one column per actor."""

from __future__ import annotations

import pytest

from hvtui.exports import diagram
from hvtui.runs.runner import replay_to_end
from hvtui.scenario.load import load, parse
from tests.conftest import SCENARIOS

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))


def draw(scenario) -> str:
    return diagram.render(scenario, replay_to_end(scenario))


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_library_diagram_fits_a_plain_text_mail(path):
    text = draw(load(str(path.relative_to(SCENARIOS.parent))))
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) <= 80
    text.encode("ascii")  # raises on anything a mail client could mangle
    assert "\t" not in text


def columns(text: str) -> dict[str, int]:
    """Where each actor's column starts, read back from the header line."""
    header = text.splitlines()[2]
    out, x = {}, 0
    for name in header.split():
        x = header.index(name, x)
        out[name] = x
        x += len(name)
    return out


def row(text: str, step: int) -> str:
    return next(
        line for line in text.splitlines() if line.split()[:1] in ([f"{step}"], [f"{step}*"])
    )


def test_each_step_sits_in_the_column_of_the_actor_that_took_it():
    text = draw(load("scenarios/reviewer-race.yaml"))
    col = columns(text)
    assert list(col) == ["vcpu0", "vmm", "vcpu1", "vcpu2"]  # initiators left, reactors right
    # step 3 is vcpu0 entering its hypercall, step 7 the VMM's write, 11 vcpu2's flush
    assert row(text, 3).index("kvm_hv_flush_tlb()") == col["vcpu0"]
    assert row(text, 7).index("WRITE_ONCE(tlb_flush_inhibit, 1)") == col["vmm"] + 2  # nested
    assert row(text, 11).index("kvm_hv_vcpu_flush_tlb()") == col["vcpu2"]


def test_a_scan_that_passes_vcpus_by_is_folded_into_one_row():
    text = draw(load("scenarios/unsuspend-swapped-clobber.yaml"))
    # the second scan (steps 28-30) matched nobody: one row, the steps it stands for skipped
    assert "/* vcpu0-2 stay */" in row(text, 28)
    assert not any(line.split()[:1] in (["29"], ["30"]) for line in text.splitlines())
    # the first scan's matching write keeps its own row, naming the woken vCPU
    assert "WRITE_ONCE(suspended, false) /* vcpu0 */" in row(text, 11)


def test_the_violated_property_is_stated_at_the_bottom_with_its_step():
    text = draw(load("scenarios/lost-wakeup-no-sync.yaml"))
    tail = " ".join(text.split("\n\n")[-1].split())
    assert "* step 10 (vcpu0, s2) violates no-lost-wakeup" in tail
    assert tail.endswith(
        "progress: violated (vcpu0 waits at resume: suspended on vcpu1 (kvm_vcpu_block))"
    )
    assert row(text, 10).startswith("10*")


def test_a_clean_run_says_so():
    text = draw(load("scenarios/basic-suspend-wake.yaml"))
    assert "No property was violated on this run." in text
    assert "*" not in "".join(line[:4] for line in text.splitlines()[4:])


MANY = """
name: twelve
vcpus: 12
actors:
{actors}
"""


def test_more_actors_than_fit_share_a_last_column_each_line_naming_its_actor():
    body = "\n".join(f"  vcpu{c}: [{{op: flush, targets: [{(c + 1) % 12}]}}]" for c in range(12))
    scenario = parse(MANY.format(actors=body), "twelve.yaml")
    text = draw(scenario)
    col = columns(text)
    assert list(col)[-1] == "others"
    assert max(map(len, text.splitlines())) <= 80
    shared = [
        line[col["others"] :]
        for line in text.splitlines()[4:]
        if len(line) > col["others"]
        and line[col["others"] - 1] == " "
        and line[col["others"] : col["others"] + 4] == "vcpu"
    ]
    # the round robin gives every vCPU the same step in turn: those fold into one row
    assert any(line.startswith("vcpu") and "-" in line.split(":")[0] for line in shared)
    assert all(":" in line for line in shared)


def test_the_same_run_draws_the_same_bytes():
    scenario = load("scenarios/three-waiters.yaml")
    assert draw(scenario) == draw(scenario)
