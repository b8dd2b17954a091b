"""The comparison of two runs, as a value: where they part, why one stops, how verdicts differ."""

from __future__ import annotations

from hvtui.model.engine import DONE, Engine
from hvtui.model.variants import VARIANTS
from hvtui.runs.compare import Run, compare, compare_variants, refusal_text
from hvtui.scenario.load import load

RACE = load("scenarios/reviewer-race.yaml")


def engine(variant: str, scenario=RACE) -> Engine:
    return Engine(scenario.program, VARIANTS[variant])


def variants(a: str, b: str, scenario=RACE):
    return compare_variants(engine(a, scenario), engine(b, scenario), scenario.schedule, (a, b))


def test_without_the_sync_the_ioctl_returns_where_posted_waits_for_the_reader():
    c = variants("posted", "no-sync")
    assert c.diverges_at == 12
    left, right = c.event_pair(12)
    assert (left.actor, left.step) == ("vmm", "sync")
    assert (right.actor, right.step) == ("vmm", "return")
    # the steps before 12 are the same on both sides, event for event
    assert [e.text for e in c.left.events[:11]] == [e.text for e in c.right.events[:11]]
    # posted's run then asks the VMM for three more steps; no-sync's VMM has run out
    assert c.right.refusal.time == 15 and c.right.refusal.why == DONE
    assert refusal_text(c.right.refusal) == "step 15: vmm cannot step: it has finished its ops"
    assert c.left.refusal is None
    assert [(v.prop, v.left, v.right, v.right_step) for v in c.differences] == [
        ("inhibit-holds", "holds", "violated", 13)
    ]
    assert not c.same_verdicts


def test_a_step_the_other_variant_cannot_take_says_why_in_the_engines_words():
    c = variants("posted", "request-first")
    assert c.diverges_at == 4  # the reviewer's order requests before it checks
    assert c.event_pair(4)[1].step == "request 1"
    assert refusal_text(c.right.refusal) == (
        "step 14: vmm cannot take synced: synchronize_srcu waits for reader vcpu0"
    )


def test_variants_that_agree_on_this_run_are_identical():
    c = variants("posted", "merged-state")
    assert c.diverges_at is None
    assert c.same_verdicts and c.differences == ()
    assert c.to_dict()["divergence"] is None


def test_two_branches_under_one_variant():
    ahead = ("vmm", "vcpu1", "vcpu0")
    left = Run("branch 1", engine("posted"), ahead + ("vcpu0",), to_end=False)
    right = Run("branch 2", engine("posted"), ahead + ("vmm",), to_end=False)
    c = compare(left, right)
    assert c.diverges_at == 4
    assert [e.actor for e in c.event_pair(4)] == ["vcpu0", "vmm"]
    assert c.left.session.pos == c.right.session.pos == 4  # not run on
    assert c.left.refusal is c.right.refusal is None


def test_a_shorter_run_diverges_where_it_ends():
    left = Run("short", engine("posted"), ("vmm",), to_end=False)
    right = Run("long", engine("posted"), ("vmm", "vcpu1"), to_end=False)
    c = compare(left, right)
    assert c.diverges_at == 2
    assert c.event_pair(2)[0] is None


def test_the_json_form_names_both_events_and_every_verdict():
    doc = variants("posted", "no-sync").to_dict()
    assert doc["diverges_at"] == 12
    assert doc["divergence"]["left"]["step"] == "sync"
    assert doc["divergence"]["right"]["changes"] == {"vcpu1.mutex": ""}
    assert doc["right"]["refusal"]["why"] == DONE
    assert doc["verdicts"]["inhibit-holds"] == {
        "left": "holds",
        "right": "violated",
        "left_step": None,
        "right_step": 13,
        "differs": True,
    }
    assert doc["left"]["schedule"][:3] == ["vmm", "vcpu1", "vcpu0"]
    assert doc["same_verdicts"] is False
