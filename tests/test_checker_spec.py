"""What docs/model.md says the checker should find, variant by variant.

Each test reads like a reviewer's note on the thread: which property a
variant keeps or loses, and the interleaving the checker gives as proof.
The scenarios are in tests/data/check/; each one's `expect.violations`
lists, per variant, exactly what must fail.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from hvtui.check.search import check
from hvtui.model.properties import (
    BLOCKED_BY_DESIGN,
    HOLDS,
    INHIBIT_HOLDS,
    NO_BOGUS_STATUS,
    NO_FLUSH,
    NO_LOST_WAKEUP,
    NO_REQUEST,
    PROGRESS,
    VIOLATED,
)
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

DATA = Path(__file__).parent / "data" / "check"
FILES = sorted(DATA.glob("*.yaml"))


def load(name: str) -> scenarios.Scenario:
    return scenarios.load(str(DATA / name))


def walk(scenario: scenarios.Scenario, variant: str, schedule) -> list:
    """The events a schedule produces: what a reviewer reads in `hvtui run`."""
    session = scenarios.replay(
        scenarios.with_schedule(replace(scenario, variant=variant), schedule)
    )
    return session.events


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_variant_fails_exactly_what_the_scenario_expects(path, variant):
    scenario = scenarios.load(str(path))
    result = check(scenario, variant)
    assert result.complete
    assert set(result.violated) == set(result.expected), (variant, result.violated)
    assert result.met


def test_posted_keeps_the_window_closed_to_completions_and_requests_but_not_to_service():
    """posted: synchronize_srcu() makes a flush that passed its check finish
    before the ioctl returns, so it neither completes nor raises a request
    inside the window -- but the request it raised just before is serviced
    after, inside the window."""
    scenario = load("inhibit-window.yaml")
    result = check(scenario, "posted")
    verdicts = {p: v.verdict for p, v in result.properties.items()}
    assert verdicts[INHIBIT_HOLDS] == HOLDS
    assert verdicts[NO_REQUEST] == HOLDS
    assert verdicts[NO_LOST_WAKEUP] == HOLDS
    assert verdicts[NO_FLUSH] == VIOLATED

    events = walk(scenario, "posted", result.properties[NO_FLUSH].schedule)
    steps = [(e.actor, e.step) for e in events]
    request = steps.index(("vcpu0", "request 1"))
    returned = next(i for i, e in enumerate(events) if e.op == "inh" and e.step == "return")
    assert request < returned, "the request is raised before the ioctl returns"
    assert steps[-1] == ("vcpu1", "service"), "and serviced inside the window"


def test_request_first_raises_the_request_before_it_looks_at_the_flag():
    """request-first: the reviewer's order never completes a flush into an
    open window, but it does raise the request for the inhibited vCPU."""
    scenario = load("inhibit-window.yaml")
    result = check(scenario, "request-first")
    assert result.properties[INHIBIT_HOLDS].verdict == HOLDS
    cx = result.properties[NO_REQUEST]
    assert cx.verdict == VIOLATED
    events = walk(scenario, "request-first", cx.schedule)
    assert (events[-1].actor, events[-1].step) == ("vcpu0", "request 1")
    # the window opened before: the ioctl's return is in the schedule
    assert any(e.op == "inh" and e.step == "return" for e in events[:-1])


def test_no_sync_completes_a_flush_inside_the_window_and_loses_a_wakeup():
    """no-sync: without synchronize_srcu() a flush that saw the flag clear
    completes after the ioctl returned, and a vCPU that saw it set suspends
    after the clear's scan has passed it -- nobody wakes it."""
    scenario = load("inhibit-window.yaml")
    result = check(scenario, "no-sync")

    holds = walk(scenario, "no-sync", result.properties[INHIBIT_HOLDS].schedule)
    check_at = next(i for i, e in enumerate(holds) if e.step == "check 1")
    returned = next(i for i, e in enumerate(holds) if e.op == "inh" and e.step == "return")
    assert check_at < returned < len(holds) - 1
    assert (holds[-1].actor, holds[-1].step) == ("vcpu0", "complete")

    lost = walk(scenario, "no-sync", result.properties[NO_LOST_WAKEUP].schedule)
    scanned = next(i for i, e in enumerate(lost) if e.op == "clr" and e.step == "unsuspend 0")
    suspended = next(i for i, e in enumerate(lost) if e.actor == "vcpu0" and e.step == "s2")
    assert scanned < suspended, "the scan passed vcpu0 before it suspended"
    assert result.properties[PROGRESS].verdict == VIOLATED
    assert "vcpu0 waits at resume" in result.properties[PROGRESS].detail


def test_a_self_flush_needs_the_vmm_to_kick_the_vcpu_out_first():
    """An inhibited vCPU flushing itself suspends on itself inside KVM_RUN;
    its vcpu->mutex is held, so the clear can never lock it: a deadlock."""
    stuck = check(load("self-flush-stuck.yaml"), "posted")
    verdict = stuck.properties[PROGRESS]
    assert verdict.verdict == VIOLATED
    assert "vmm waits at lock" in verdict.detail
    assert "vcpu0 waits at resume: suspended on vcpu0" in verdict.detail

    kicked = check(load("self-flush-exit.yaml"), "posted")
    assert {v.verdict for v in kicked.properties.values()} == {HOLDS}


def test_unsuspend_swapped_lets_the_second_write_clobber_a_new_suspension():
    """unsuspend-swapped: the first write (suspended = false) wakes vcpu0,
    which retries, suspends on the second inhibited target, and then the
    scan's second write sets its waiting_on to -1: suspended on nobody. The
    property is about states outside the ioctl, so it fails at the return."""
    scenario = load("second-target.yaml")
    result = check(scenario, "unsuspend-swapped")
    cx = result.properties[NO_LOST_WAKEUP]
    assert cx.verdict == VIOLATED
    session = scenarios.replay(
        scenarios.with_schedule(replace(scenario, variant="unsuspend-swapped"), cx.schedule)
    )
    events = session.events
    woken = next(i for i, e in enumerate(events) if e.step == "unsuspend 0")
    resuspended = next(
        i for i, e in enumerate(events) if i > woken and e.actor == "vcpu0" and e.step == "s2"
    )
    clobbered = next(i for i, e in enumerate(events) if i > resuspended and e.step == "wake 0")
    # the property is judged outside the ioctl: the violation shows at its return
    assert woken < resuspended < clobbered and events[-1].step == "return"
    v = session.state.vcpus[0]
    assert v.suspended and v.waiting_on == -1
    assert check(scenario, "posted").properties[NO_LOST_WAKEUP].verdict == HOLDS


def verdicts_of(scenario, variant) -> dict[str, str]:
    return {p: v.verdict for p, v in check(scenario, variant).properties.items()}


@pytest.mark.parametrize("variant", ["merged-state", "wake-all", "wake-all-retry", "own-srcu"])
def test_merged_state_and_wake_all_behave_like_posted_on_these_races(variant):
    """merged-state has one write for both fields, so there is no moment
    between them to race with; wake-all wakes too many vCPUs, and the extra
    ones simply retry and suspend again; own-srcu waits for the same flushes
    (no kernel work here). None loses a wake-up, and all keep posted's
    verdicts -- except that wake-all's scan for another vCPU can land
    between a suspension's s2 and s3, whose -EBUSY fall-through breaks
    no-bogus-status (wake-all-retry returns 1 there instead)."""
    for path in FILES:
        scenario = scenarios.load(str(path))
        posted = verdicts_of(scenario, "posted")
        other = verdicts_of(scenario, variant)
        if variant == "wake-all" and other[NO_BOGUS_STATUS] == VIOLATED:
            other[NO_BOGUS_STATUS] = HOLDS
            assert path.stem in ("second-target", "wake-all-retry"), path.name
        assert other == posted, path.name


def test_wake_all_wakes_a_vcpu_waiting_on_another_flag_and_it_suspends_again():
    """wake-all: clearing vcpu1 also wakes vcpu3, which waits on vcpu2; its
    retry finds vcpu2 still inhibited and suspends on it again."""
    result = check(load("wake-all-retry.yaml"), "wake-all")
    assert result.properties[NO_LOST_WAKEUP].verdict == HOLDS
    assert result.properties[PROGRESS].verdict == BLOCKED_BY_DESIGN
    posted = check(load("wake-all-retry.yaml"), "posted")
    assert result.states > posted.states, "the extra wake-ups are extra interleavings"


def test_a_violation_is_reported_with_its_shortest_interleaving():
    """Breadth-first: no schedule shorter than the reported one reaches the
    violation (checked by brute force over every shorter schedule)."""
    scenario = load("inhibit-window.yaml")
    result = check(scenario, "request-first")
    length = len(result.properties[NO_REQUEST].schedule)
    engine = replace(scenario, variant="request-first").engine()
    from hvtui.model.properties import step_violations

    frontier = [engine.initial()]
    for _ in range(length - 1):
        nxt = []
        for s in frontier:
            for a in engine.enabled(s):
                s2, event = engine.step(s, a)
                assert NO_REQUEST not in step_violations(engine, s, a, event.step, s2)
                nxt.append(s2)
        frontier = list(dict.fromkeys(nxt))
