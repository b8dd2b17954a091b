"""The interleavings the review thread argues about, walked step by step.

Target forms, what synchronize_srcu() waits for, vcpu->mutex against
KVM_RUN, and the self-flush that only an `exit` can unblock.
"""

from __future__ import annotations

from engine_support import Walk, flush, program

from hvtui.model.engine import Engine, format_targets
from hvtui.model.properties import BLOCKED_BY_DESIGN, HOLDS, VIOLATED
from hvtui.model.session import Session
from hvtui.model.state import BLOCKED, GUEST, USER, Exit, Run, SetInhibit
from hvtui.scenario.load import parse

# -- target forms ---------------------------------------------------------------

TARGETS = """
name: forms
vcpus: 130
actors:
  vcpu0:
    - {id: all, op: flush, targets: all}
    - {id: list, op: flush, targets: [5, 1, 3, 1]}
    - {id: mask, op: flush, targets: {mask: 0x6}}
    - {id: sparse, op: flush, targets: {sparse: {2: 0x3, 0: 0x1}}}
"""


def test_every_target_form_resolves_to_ascending_vcpu_ids():
    flushes = {f.id: f.targets for f in parse(TARGETS, "forms.yaml").program.vcpu_ops[0]}
    assert flushes["all"] == tuple(range(130))
    assert flushes["list"] == (1, 3, 5)
    assert flushes["mask"] == (1, 2)  # bit i = vCPU i
    assert flushes["sparse"] == (0, 128, 129)  # bank b, bit i = vCPU 64*b+i


def test_targets_are_visited_in_ascending_order_and_logged_compactly():
    scenario = parse(TARGETS, "forms.yaml")
    session = Session(scenario.engine())
    session.run()
    enters = [e.text for e in session.events if e.step == "enter"]
    assert enters == [
        "kvm_hv_flush_tlb: vcpu 0 targets 0-129",
        "kvm_hv_flush_tlb: vcpu 0 targets 0x2a",
        "kvm_hv_flush_tlb: vcpu 0 targets 0x6",
        "kvm_hv_flush_tlb: vcpu 0 targets 0,128-129",
    ]
    checks = [e.step for e in session.events if e.op == "sparse" and e.step.startswith("check")]
    assert checks == ["check 0", "check 128", "check 129"]


def test_format_targets_uses_a_mask_below_64_and_ranges_above():
    assert format_targets(()) == "none"
    assert format_targets((0, 63)) == "0x8000000000000001"
    assert format_targets((0, 1, 2, 64, 100, 101)) == "0-2,64,100-101"


# -- synchronize_srcu() -----------------------------------------------------------


def srcu_walk(*, vcpus: int = 2) -> Walk:
    """vcpu0 flushes vcpu1 twice while the vmm inhibits vcpu1 (already out of KVM_RUN)."""
    prog = program(
        vcpus,
        {0: [flush(1, id="a"), flush(1, id="b")]},
        vmm=[SetInhibit("inh", 1, True)],
        user=(1,),
    )
    return Walk(prog)


def test_synchronize_srcu_waits_for_a_reader_that_was_inside_when_it_began():
    w = srcu_walk()
    w("vcpu0", "vcpu0")  # enter, check 1: not inhibited yet
    w.until("vmm", "synced")
    assert w.status("vmm").enabled is False
    w("vcpu0")  # request 1: raised before the ioctl returns, as the SRCU comment promises
    assert w.status("vmm").enabled is False
    w("vcpu0")  # complete
    assert w.next("vmm") == "synced"


def test_a_reader_that_leaves_and_reenters_does_not_hold_synchronize_srcu_up():
    w = srcu_walk()
    w("vcpu0", "vcpu0")  # enter "a" (reader generation 1), check 1: not inhibited yet
    w.until("vmm", "synced")
    w.until("vcpu0", "enter")  # "a" completes: generation 1 is over
    w("vcpu0")  # enter "b": a reader again, generation 2
    assert w.vcpu(0).srcu_reader and w.vcpu(0).srcu_gen == 2
    assert w.next("vmm") == "synced"


def test_a_reader_that_enters_after_sync_began_is_not_waited_for():
    w = srcu_walk()
    w.until("vmm", "synced")
    (sync,) = [e for e in w.session.events if e.step == "sync"]
    assert sync.text == "synchronize_srcu: waits for nobody"
    w("vcpu0")
    assert w.vcpu(0).srcu_reader
    assert w.next("vmm") == "synced"


def test_a_reader_inside_sees_the_flag_flip_and_suspends_before_synced():
    """The SRCU comment's uninhibit case: the ioctl scans only once the caller is suspended."""
    prog = program(2, {0: [flush(1)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,))
    w = Walk(prog)
    w("vcpu0", "vcpu0")  # enter, check 1: inhibited
    w.until("vmm", "synced")
    assert w.status("vmm") == ("synced", False, "synchronize_srcu waits for reader vcpu0")
    w.until("vcpu0", "resume")  # s1 s2 s3: suspended, out of the read-side section
    w.until("vmm", "")
    assert not w.suspended(0) and w.next("vcpu0") == "resume"


# -- vcpu->mutex against KVM_RUN ---------------------------------------------------


def test_the_ioctl_and_kvm_run_exclude_each_other_on_vcpu_mutex():
    prog = program(
        2, vmm=[Exit("x", 1), SetInhibit("inh", 1, True)], threads={"vmm:b": [Run("r", 1)]}
    )
    w = Walk(prog)
    assert w.status("vmm:b") == (
        "run",
        False,
        "vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex",
    )
    w("vmm", "vcpu1")  # kicked out: mode user, the mutex is free
    w("vmm")  # lock
    assert w.status("vmm:b") == ("run", False, "vcpu1->mutex is held by vmm")
    w.until("vmm", "")
    assert w.next("vmm:b") == "run"
    w("vmm:b")
    assert (w.vcpu(1).mode, w.vcpu(1).mutex) == (GUEST, "KVM_RUN")


def test_two_ioctls_on_one_vcpu_are_serialized():
    prog = program(
        2,
        vmm=[SetInhibit("on", 1, True)],
        threads={"vmm:b": [SetInhibit("off", 1, False)]},
        user=(1,),
    )
    w = Walk(prog)
    w("vmm")
    assert w.status("vmm:b") == ("lock", False, "vcpu1->mutex is held by vmm")
    w.until("vmm", "")
    assert w.next("vmm:b") == "lock"


# -- the self-flush ------------------------------------------------------------------


def self_flush(vmm: list) -> Walk:
    """vcpu0 is inhibited and flushes itself: it suspends on itself."""
    w = Walk(program(2, {0: [flush(0)]}, vmm=vmm, inhibit=(0,)))
    w.until("vcpu0", "resume")
    assert w.suspended(0) and w.vcpu(0).waiting_on == 0 and w.vcpu(0).mode == BLOCKED
    return w


def test_a_self_flush_by_an_inhibited_vcpu_deadlocks_an_ioctl_without_exit():
    w = self_flush([SetInhibit("clr", 0, False)])
    assert w.status("vmm") == (
        "lock",
        False,
        "vcpu0 is in KVM_RUN (blocked), which holds vcpu->mutex",
    )
    w.run()
    verdict = w.session.progress()
    assert verdict.verdict == VIOLATED
    assert "vmm waits at lock" in verdict.detail


def test_a_self_flush_left_alone_is_blocked_by_design():
    w = self_flush([])
    w.run()
    assert w.session.progress().verdict == BLOCKED_BY_DESIGN


def test_the_vmm_kicks_the_self_flusher_out_then_clears_and_reruns_it():
    w = self_flush([Exit("x", 0), SetInhibit("clr", 0, False), Run("r", 0)])
    w("vmm", "vcpu0")  # exit, leave: out of KVM_RUN, still suspended
    assert w.vcpu(0).mode == USER and w.suspended(0)
    w.until("vmm", "run")
    assert not w.suspended(0)  # the scan woke it: waiting_on was vcpu0
    w("vmm")
    assert w.vcpu(0).mode == GUEST  # not suspended any more, so `run` enters the guest
    w.run()
    assert w.session.progress().verdict == HOLDS
    assert w.vcpu(0).flushes == 1 and w.vcpu(0).op == 1


def test_engine_step_refuses_an_actor_that_waits():
    engine = Engine(program(2, vmm=[Run("r", 1)]), Walk(program(1)).engine.variant)
    state = engine.initial()
    try:
        engine.step(state, engine.index["vmm"])
    except ValueError as exc:
        assert str(exc) == "vmm cannot step: vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex"
    else:
        raise AssertionError("a waiting actor stepped")
