"""The properties docs/model.md names, each broken by the interleaving the review
thread worries about, and kept where the series says it is kept.
"""

from __future__ import annotations

import pytest
from engine_support import RACES, Walk, flush, program, race_walk

from hvtui.model.properties import (
    BLOCKED_BY_DESIGN,
    HOLDS,
    INHIBIT_HOLDS,
    NO_FLUSH,
    NO_LOST_WAKEUP,
    NO_REQUEST,
    VIOLATED,
)
from hvtui.model.state import Exit, Run, SetInhibit


@pytest.mark.parametrize("name", sorted(RACES))
def test_each_race_breaks_its_property_at_its_last_step(name):
    race = RACES[name]
    w = race_walk(race)
    first = w.session.first_violations()
    assert first[race.breaks] == len(race.actors), first
    assert race.breaks in w.session.verdicts() and w.session.verdicts()[race.breaks] == "violated"


def test_the_sync_keeps_the_flush_inside_the_ioctl_under_posted():
    """The same schedule as no-sync's race: posted's ioctl cannot return early."""
    race = RACES["no-sync-completes-inhibited"]
    w = Walk(race.program, "posted")
    w("vcpu0", "vcpu0", "vmm", "vmm", "vmm", "vmm")  # ... write, sync: vcpu0 is inside
    assert w.status("vmm") == ("synced", False, "synchronize_srcu waits for reader vcpu0")
    w.run()
    assert w.session.first_violations() == {}


def test_the_window_opens_at_return_so_a_request_raised_before_it_is_allowed():
    w = race_walk(RACES["posted-flush-after-return"])
    requests = [e for e in w.session.events if e.step == "request 1"]
    assert [w.session.violations[e.time - 1] for e in requests] == [()]
    assert w.session.first_violations() == {NO_FLUSH: len(w.session.events)}


def test_the_window_closes_at_the_lock_of_the_clear():
    """vcpu1 services a flush while its clear is in flight: allowed from `lock` on."""
    prog = program(
        3,
        {0: [flush(1)]},
        vmm=[Exit("x", 1), SetInhibit("clr", 1, False), Run("r", 1)],
        inhibit=(1,),
    )
    w = Walk(prog, "request-first")
    w("vcpu0", "vcpu0")  # enter, request 1: inside the window
    assert w.session.first_violations() == {NO_REQUEST: 2}
    w("vmm", "vcpu1", "vmm")  # kick, leave, lock: the window closes
    w.run()
    assert NO_FLUSH not in w.session.first_violations()
    assert w.vcpu(1).flushes == 1


def test_a_flush_that_waits_out_the_inhibit_keeps_every_property():
    prog = program(
        2,
        {0: [flush(1)]},
        vmm=[Exit("x", 1), SetInhibit("clr", 1, False), Run("r", 1)],
        inhibit=(1,),
    )
    w = Walk(prog)
    w.run()
    assert w.session.first_violations() == {}
    assert w.session.progress().verdict == HOLDS
    assert w.vcpu(0).op == 1 and w.vcpu(1).flushes == 1


def test_no_lost_wakeup_is_not_judged_inside_the_ioctl():
    """Between posted's two unsuspend writes vcpu0 waits on -1, and that is fine."""
    prog = program(2, {0: [flush(1)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,))
    w = Walk(prog)
    w.until("vcpu0", "resume")
    w.until("vmm", "wake 0")
    assert w.suspended(0) and w.vcpu(0).waiting_on == -1
    assert NO_LOST_WAKEUP not in w.session.first_violations()


def test_a_lost_wakeup_is_reported_when_the_ioctl_returns():
    w = race_walk(RACES["swapped-lost-wakeup"])
    assert w.steps()[-1] == "vmm return"
    assert w.session.violations[-1] == (NO_LOST_WAKEUP,)
    assert w.suspended(0) and w.vcpu(0).waiting_on == -1


def test_inhibit_holds_names_only_flushes_that_target_the_inhibited_vcpu():
    prog = program(3, {0: [flush(2)]}, inhibit=(1,))
    w = Walk(prog)
    w.run()
    assert INHIBIT_HOLDS not in w.session.first_violations()


def test_progress_holds_when_every_actor_finishes():
    w = Walk(program(2, {0: [flush(1)]}))
    assert w.session.progress() is None  # not at the end yet
    w.run()
    assert w.session.progress() == (HOLDS, "every actor finished its ops")


def test_progress_is_blocked_by_design_for_a_vcpu_suspended_on_a_set_flag():
    w = Walk(program(2, {0: [flush(1)]}, inhibit=(1,)))
    w.run()
    verdict = w.session.progress()
    assert verdict.verdict == BLOCKED_BY_DESIGN
    assert verdict.detail == "vcpu0 waits at resume: suspended on vcpu1 (kvm_vcpu_block)"


def test_progress_is_a_deadlock_when_a_vmm_op_cannot_finish():
    w = Walk(program(2, vmm=[SetInhibit("inh", 1, True)]))
    w.run()
    verdict = w.session.progress()
    assert verdict.verdict == VIOLATED
    assert verdict.detail == (
        "vmm waits at lock: vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex"
    )


def test_progress_is_a_deadlock_for_a_lost_wakeup():
    w = race_walk(RACES["no-sync-lost-wakeup"])
    w.run()
    assert w.session.progress() == (
        VIOLATED,
        "vcpu0 waits at resume: suspended on vcpu1 (kvm_vcpu_block)",
    )
