"""The state properties on states no shipped scenario reaches.

No variant lets a suspended vCPU run guest code, so `suspended-stays-put`
holds in every scenario; a mutation run (benchmarks/mutate.py) showed
that a monitor which never reported it, or never reported a lost wake-up
outside the moment a scenario happens to hit, passed the fast tests, and
that the monitor and the whole-state definition could be broken together.
Here both are put to states made by hand, next to the one edit that
makes each property false.
"""

from __future__ import annotations

import pytest

from hvtui.model.engine import Engine
from hvtui.model.properties import NO_LOST_WAKEUP, STAYS_PUT, state_violations, step_violations
from hvtui.model.state import USER, State
from hvtui.model.variants import VARIANTS
from hvtui.scenario.load import parse

# vcpu0 will wait on vcpu1; the VMM's one op is an ioctl on vcpu1's flag
TWO = """
name: two
vcpus: 2
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
  vmm: [{id: clr, op: set_inhibit, vcpu: 1, value: false}]
"""


def engine(variant: str = "posted") -> Engine:
    return Engine(parse(TWO, "two.yaml").program, VARIANTS[variant])


def waiting(s: State, e: Engine, mode: str, target_inhibited: bool) -> State:
    """vcpu0 suspended on vcpu1, in `mode`; vcpu1's flag as given."""
    v0 = s.vcpus[0]
    if e.variant.merged_state:
        v0 = v0._replace(waiting_on=1, mode=mode)
    else:
        v0 = v0._replace(suspended=True, waiting_on=1, mode=mode)
    v1 = s.vcpus[1]._replace(inhibit=target_inhibited)
    return s._replace(vcpus=s.vcpus.set_both(0, v0, 1, v1))


def in_the_ioctl(s: State) -> State:
    return s._replace(threads=(s.threads[0]._replace(pc="read"),))


@pytest.mark.parametrize("variant", ["posted", "merged-state"])
def test_a_suspended_vcpu_in_guest_mode_breaks_stays_put(variant):
    e = engine(variant)
    s0 = e.initial()
    running = waiting(s0, e, "guest", target_inhibited=True)
    assert state_violations(e, running) == {STAYS_PUT}
    assert step_violations(e, s0, 0, "enter", running) == (STAYS_PUT,)
    parked = waiting(s0, e, USER, target_inhibited=True)  # the same, outside KVM_RUN
    assert state_violations(e, parked) == set()
    assert step_violations(e, s0, 0, "enter", parked) == ()


def test_a_wait_on_a_clear_flag_outside_the_ioctl_is_a_lost_wakeup():
    e = engine()
    s0 = e.initial()
    lost = waiting(s0, e, USER, target_inhibited=False)
    assert state_violations(e, lost) == {NO_LOST_WAKEUP}
    assert step_violations(e, s0, 0, "enter", lost) == (NO_LOST_WAKEUP,)
    # waiting on a set flag is the protocol working
    assert state_violations(e, waiting(s0, e, USER, target_inhibited=True)) == set()


def test_inside_the_ioctl_the_same_wait_is_not_judged_yet():
    e = engine()
    s0 = in_the_ioctl(e.initial())
    lost = in_the_ioctl(waiting(e.initial(), e, USER, target_inhibited=False))
    assert state_violations(e, lost) == set()
    assert step_violations(e, s0, 0, "enter", lost) == ()


def test_leaving_the_ioctl_judges_every_vcpu_not_only_those_that_moved():
    e = engine()
    before = in_the_ioctl(waiting(e.initial(), e, USER, target_inhibited=False))
    after = before._replace(threads=(before.threads[0]._replace(op=1, pc=""),))  # returned
    assert after.vcpus == before.vcpus  # vcpu0 did not move
    assert step_violations(e, before, e.n, "return", after) == (NO_LOST_WAKEUP,)


def test_completing_the_hypercall_while_suspended_breaks_stays_put():
    e = engine()
    suspended = waiting(e.initial(), e, USER, target_inhibited=True)
    woken = suspended._replace(vcpus=suspended.vcpus.set(0, e.initial().vcpus[0]))
    assert step_violations(e, suspended, 0, "complete", woken) == (STAYS_PUT,)
    assert step_violations(e, woken, 0, "complete", woken) == ()


def test_only_servicing_a_request_inside_the_window_is_a_flush_while_inhibited():
    e = engine()
    s = e.initial()._replace(windows=1 << 1)  # vcpu1's window is open
    assert step_violations(e, s, 1, "service", s) == ("no-flush-while-inhibited",)
    for other in ("s1", "s2", "s3", "wake 0", "unsuspend 0", "resume"):  # no flush in these
        # (s3 from this unsuspended state is the -EBUSY fall-through: no-bogus-status)
        assert "no-flush-while-inhibited" not in step_violations(e, s, 1, other, s), other
