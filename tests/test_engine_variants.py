"""Each variant changes exactly what docs/model.md's variant table says, nothing else.

A variant is one toggle over `posted`; the tests walk the one path the
toggle touches and check that paths it does not touch log the very same
events as `posted`.
"""

from __future__ import annotations

import pytest
from engine_support import Walk, flush, program

from hvtui.model.engine import Event
from hvtui.model.state import BLOCKED, Exit, Run, SetInhibit
from hvtui.model.variants import POSTED, VARIANTS

TOGGLE = {
    "request-first": "request_first",
    "no-sync": "sync",
    "unsuspend-swapped": "unsuspend_swapped",
    "merged-state": "merged_state",
    "wake-all": "wake_all",
    "own-srcu": "own_srcu",
}
# wake-all-retry is wake-all plus its own toggle: Sean's review asks for both
BUILT_ON = {"wake-all-retry": ["wake_all", "retry"]}


def test_the_variants_are_posted_and_one_toggle_each():
    assert set(VARIANTS) == {"posted", *TOGGLE, *BUILT_ON}
    assert VARIANTS["posted"] is POSTED
    wanted = {name: [toggle] for name, toggle in TOGGLE.items()} | BUILT_ON
    for name, toggles in wanted.items():
        changed = [k for k, v in VARIANTS[name].toggles().items() if v != POSTED.toggles()[k]]
        assert changed == toggles, name


def log(events: list[Event]) -> list[tuple]:
    """An event without its time: the same step may come earlier in another variant."""
    return [(e.actor, e.op, e.step, e.text, e.changes) for e in events]


def flip_and_flush() -> Walk:
    """The VMM sets and clears vcpu1's flag while vcpu0 flushes vcpu2: nobody suspends."""
    vmm = [Exit("x", 1), SetInhibit("on", 1, True), SetInhibit("off", 1, False), Run("r", 1)]
    return program(3, {0: [flush(2)]}, vmm=vmm)


@pytest.mark.parametrize("variant", ["merged-state", "unsuspend-swapped", "wake-all"])
def test_without_a_suspended_vcpu_the_unsuspend_variants_are_posted(variant):
    posted = Walk(flip_and_flush())
    posted.run()
    other = Walk(flip_and_flush(), variant)
    other.run()
    assert other.session.events == posted.session.events


def test_no_sync_only_drops_the_sync_steps():
    posted = Walk(flip_and_flush())
    posted.run()
    no_sync = Walk(flip_and_flush(), "no-sync")
    no_sync.run()
    kept = [e for e in posted.session.events if e.step not in ("sync", "synced")]
    assert len(kept) == len(posted.session.events) - 4  # two ioctls that wrote the flag
    assert log(no_sync.session.events) == log(kept)


# -- request-first: request every target, then check ---------------------------


def test_request_first_raises_every_request_before_any_check():
    w = Walk(program(3, {0: [flush(1, 2)]}), "request-first")
    w.until("vcpu0", "")
    assert w.steps() == [
        "vcpu0 enter",
        "vcpu0 request 1",
        "vcpu0 request 2",
        "vcpu0 check 1",
        "vcpu0 check 2",
        "vcpu0 complete",
    ]


def test_request_first_requests_an_inhibited_vcpu_then_suspends():
    w = Walk(program(3, {0: [flush(1, 2)]}, inhibit=(2,)), "request-first")
    w.until("vcpu0", "resume")
    assert w.steps()[1:] == [
        "vcpu0 request 1",
        "vcpu0 request 2",
        "vcpu0 check 1",
        "vcpu0 check 2",
        "vcpu0 s1",
        "vcpu0 s2",
        "vcpu0 s3",
    ]
    assert w.vcpu(2).pending_flush  # the reviewer's order raises it anyway
    posted = Walk(program(3, {0: [flush(1, 2)]}, inhibit=(2,)))
    posted.until("vcpu0", "resume")
    assert not posted.vcpu(1).pending_flush and not posted.vcpu(2).pending_flush


# -- no-sync: no synchronize_srcu() --------------------------------------------


def test_no_sync_returns_without_waiting_for_a_reader_inside():
    prog = program(3, {0: [flush(2)]}, vmm=[SetInhibit("inh", 1, True)], user=(1,))
    w = Walk(prog, "no-sync")
    w("vcpu0")  # an SRCU reader is inside kvm_hv_flush_tlb()
    w.until("vmm", "")
    assert w.steps()[1:] == ["vmm lock", "vmm compare", "vmm write", "vmm return"]


def test_no_sync_scans_right_after_the_write_when_clearing():
    w = Walk(program(2, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,)), "no-sync")
    w("vmm", "vmm", "vmm")
    assert w.next("vmm") == "unsuspend 0"


# -- the unsuspend writes --------------------------------------------------------


def clearing_vcpu1(variant: str, suspended_on: int = 1) -> Walk:
    """vcpu0 suspended on vcpu<suspended_on>; the vmm has cleared vcpu1's flag and is
    about to scan. vcpu2 is inhibited too when vcpu0 waits on it."""
    prog = program(
        3,
        {0: [flush(suspended_on)]},
        vmm=[SetInhibit("clr", 1, False)],
        inhibit=tuple(sorted({1, suspended_on})),
        user=(1,),
    )
    w = Walk(prog, variant)
    w.until("vcpu0", "resume")
    w.until("vmm", "unsuspend 0")
    return w


def test_posted_writes_waiting_on_then_suspended():
    w = clearing_vcpu1("posted")
    unsuspend, wake = w("vmm", "vmm")
    assert unsuspend.changes == (("vcpu0.waiting_on", -1),)
    assert (wake.step, wake.changes) == ("wake 0", (("vcpu0.suspended", False),))
    assert wake.text == "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0"


def test_unsuspend_swapped_writes_suspended_first():
    w = clearing_vcpu1("unsuspend-swapped")
    unsuspend, wake = w("vmm", "vmm")
    assert unsuspend.changes == (("vcpu0.suspended", False),)
    assert unsuspend.text == "WRITE_ONCE(suspended): vcpu 0 suspended = false"
    assert (wake.step, wake.changes) == ("wake 0", (("vcpu0.waiting_on", -1),))
    # 6/7 traces the unsuspension after both writes: the second one, in either order
    assert wake.text == "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0"
    assert (unsuspend.tracepoints, wake.tracepoints) == ((), ("kvm_hv_vcpu_unsuspend_tlb_flush",))


def test_unsuspend_swapped_lets_the_woken_vcpu_run_before_waiting_on_is_reset():
    w = clearing_vcpu1("unsuspend-swapped")
    w("vmm")
    assert w.next("vcpu0") == "resume" and w.vcpu(0).waiting_on == 1


def test_merged_state_suspends_with_s1_alone():
    w = Walk(program(2, {0: [flush(1)]}, inhibit=(1,)), "merged-state")
    w.until("vcpu0", "s1")
    (s1,) = w("vcpu0")
    assert s1.text == "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu 0 waiting on 1"
    assert s1.changes == (("vcpu0.waiting_on", 1),)
    assert w.next("vcpu0") == "s3"
    w("vcpu0")
    assert w.vcpu(0).suspended is False  # the field is unused...
    assert w.suspended(0)  # ...waiting_on != -1 is the flag
    assert w.status("vcpu0") == ("resume", False, "suspended on vcpu1 (kvm_vcpu_block)")


def test_merged_state_unsuspends_with_one_write_and_no_wake_step():
    w = clearing_vcpu1("merged-state")
    (unsuspend,) = w("vmm")
    assert unsuspend.changes == (("vcpu0.waiting_on", -1),)
    assert unsuspend.text == "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0"
    assert w.next("vmm") == "unsuspend 1"
    assert w.next("vcpu0") == "resume"


def test_merged_state_run_of_a_suspended_vcpu_blocks():
    prog = program(2, {0: [flush(1)]}, vmm=[Exit("x", 0), Run("r", 0)], inhibit=(1,))
    w = Walk(prog, "merged-state")
    w.until("vcpu0", "resume")
    w("vmm", "vcpu0", "vmm")
    assert w.vcpu(0).mode == BLOCKED


# -- wake-all: every suspended vCPU retries --------------------------------------


def test_posted_wakes_only_the_vcpus_waiting_on_the_cleared_one():
    w = clearing_vcpu1("posted", suspended_on=2)
    w.until("vmm", "")
    assert w.suspended(0) and w.vcpu(0).waiting_on == 2


def test_wake_all_wakes_every_suspended_vcpu_which_retries_and_suspends_again():
    w = clearing_vcpu1("wake-all", suspended_on=2)
    unsuspend, wake = w("vmm", "vmm")
    assert unsuspend.changes == (("vcpu0.waiting_on", -1),)
    assert wake.changes == (("vcpu0.suspended", False),)
    w.until("vmm", "")
    w("vcpu0")  # resume
    w.until("vcpu0", "resume")
    assert w.steps()[-6:] == [
        "vcpu0 resume",
        "vcpu0 enter",
        "vcpu0 check 2",
        "vcpu0 s1",
        "vcpu0 s2",
        "vcpu0 s3",
    ]
    assert w.suspended(0) and w.vcpu(0).waiting_on == 2
