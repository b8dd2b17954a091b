"""Every atomic step of docs/model.md's tables: when it may run, and what it does.

Each test walks one short interleaving under `posted` (the series as posted)
and reads the guard (enabled, or why the actor waits), the state after the
step and the event it logged: its step name, the fields it changed and the
kernel line it prints.
"""

from __future__ import annotations

from engine_support import Walk, flush, program

from hvtui.model.engine import DONE
from hvtui.model.state import BLOCKED, GUEST, KERNEL, KVM_RUN, USER, Exit, Run, SetInhibit

# -- vCPU c, op `flush targets=T` --------------------------------------------


def test_enter_executes_the_hypercall_and_becomes_an_srcu_reader():
    w = Walk(program(4, {0: [flush(1, 2)]}))
    assert w.status("vcpu0") == ("enter", True, "")
    (event,) = w("vcpu0")
    assert (event.time, event.actor, event.op, event.step) == (1, "vcpu0", "f", "enter")
    assert event.text == "kvm_hv_flush_tlb: vcpu 0 targets 0x6"
    assert event.changes == (
        ("vcpu0.mode", KERNEL),
        ("vcpu0.srcu_reader", True),
        ("vcpu0.srcu_gen", 1),
    )


def test_enter_waits_outside_kvm_run_until_the_vmm_runs_the_vcpu():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Run("r", 0)], user=(0,)))
    assert w.status("vcpu0") == ("enter", False, "outside KVM_RUN: waits for a VMM `run`")
    w("vmm")
    assert w.next("vcpu0") == "enter"


def test_a_pending_exit_comes_before_the_next_hypercall():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("x", 0)]))
    w("vmm")
    assert w.next("vcpu0") == "leave"
    w("vcpu0")
    assert w.status("vcpu0").enabled is False


def test_check_of_a_clear_flag_changes_nothing_and_moves_to_the_next_target():
    w = Walk(program(4, {0: [flush(1, 2)]}))
    w("vcpu0")
    assert w.next("vcpu0") == "check 1"
    (event,) = w("vcpu0")
    assert event.text == "READ_ONCE(tlb_flush_inhibit): vcpu 1 is not inhibited"
    assert event.changes == ()
    assert w.next("vcpu0") == "check 2"


def test_the_first_inhibited_target_diverts_to_the_suspend_path():
    w = Walk(program(4, {0: [flush(1, 2, 3)]}, inhibit=(2, 3)))
    w("vcpu0", "vcpu0")  # enter, check 1
    (event,) = w("vcpu0")
    assert event.step == "check 2"
    assert event.text == "READ_ONCE(tlb_flush_inhibit): vcpu 2 is inhibited, goto ret_suspend"
    assert w.next("vcpu0") == "s1"  # vcpu 3 is never checked: the loop is left


def test_request_raises_the_target_flush_request():
    w = Walk(program(4, {0: [flush(1, 2)]}))
    w.until("vcpu0", "request 1")
    (event,) = w("vcpu0")
    assert event.text == "kvm_make_vcpus_request_mask: KVM_REQ_HV_TLB_FLUSH to vcpu 1"
    assert event.changes == (("vcpu1.pending_flush", True),)
    assert w.next("vcpu0") == "request 2"


def test_a_flush_may_target_its_caller():
    w = Walk(program(2, {0: [flush(0, 1)]}))
    w.until("vcpu0", "complete")
    assert w.steps() == [
        "vcpu0 enter",
        "vcpu0 check 0",
        "vcpu0 check 1",
        "vcpu0 request 0",
        "vcpu0 request 1",
    ]
    assert w.vcpu(0).pending_flush and w.vcpu(1).pending_flush


def test_complete_skips_the_instruction_and_leaves_srcu():
    w = Walk(program(2, {0: [flush(1)]}))
    w.until("vcpu0", "complete")
    (event,) = w("vcpu0")
    assert event.text == "kvm_hv_hypercall_complete: vcpu 0 HV_STATUS_SUCCESS"
    assert event.changes == (("vcpu0.mode", GUEST), ("vcpu0.srcu_reader", False))
    assert w.vcpu(0).op == 1  # the op is done
    assert w.status("vcpu0") == ("", False, DONE)


def test_a_flush_with_no_targets_completes_right_after_enter():
    w = Walk(program(2, {0: [flush()]}))
    (enter,) = w("vcpu0")
    assert enter.text == "kvm_hv_flush_tlb: vcpu 0 targets none"
    assert w.next("vcpu0") == "complete"


def test_s1_s2_s3_suspend_the_caller_and_do_not_skip_the_instruction():
    w = Walk(program(4, {0: [flush(3)]}, inhibit=(3,)))
    w.until("vcpu0", "s1")
    s1, s2, s3 = w("vcpu0", "vcpu0", "vcpu0")
    assert s1.text == "WRITE_ONCE(waiting_on): vcpu 0 waiting_on = 3"
    assert s1.changes == (("vcpu0.waiting_on", 3),)
    assert s2.text == "kvm_hv_vcpu_suspend_tlb_flush: suspending vcpu 0 waiting on 3"
    assert s2.changes == (("vcpu0.suspended", True),)
    assert s3.text == "kvm_hv_hypercall_complete: vcpu 0 suspended, instruction not skipped"
    assert s3.changes == (("vcpu0.mode", BLOCKED), ("vcpu0.srcu_reader", False))
    assert w.vcpu(0).op == 0  # not done: the hypercall is retried after resume
    assert w.status("vcpu0") == ("resume", False, "suspended on vcpu3 (kvm_vcpu_block)")


# -- vCPU x, always available --------------------------------------------------


def test_service_performs_the_requested_flush():
    w = Walk(program(2, {0: [flush(1)]}))
    w.until("vcpu0", "complete")
    assert w.next("vcpu1") == "service"
    (event,) = w("vcpu1")
    assert (event.op, event.text) == ("", "kvm_hv_vcpu_flush_tlb: vcpu 1")
    assert event.changes == (("vcpu1.pending_flush", False), ("vcpu1.flushes", 1))


def test_service_waits_outside_kvm_run():
    w = Walk(program(2, {0: [flush(1)]}, user=(1,)))
    w.until("vcpu0", "complete")
    assert w.status("vcpu1") == (
        "service",
        False,
        "outside KVM_RUN: the flush request waits for `run`",
    )


def test_a_vcpu_inside_its_hypercall_services_nothing_until_it_returns():
    w = Walk(program(2, {0: [flush(0, 1)]}))
    w.until("vcpu0", "complete")
    assert w.vcpu(0).pending_flush and w.next("vcpu0") == "complete"
    w("vcpu0")
    assert w.next("vcpu0") == "service"


def test_resume_needs_the_suspension_cleared():
    w = Walk(
        program(2, {0: [flush(1)]}, vmm=[Exit("x", 1), SetInhibit("clr", 1, False)], inhibit=(1,))
    )
    w.until("vcpu0", "resume")
    w("vmm", "vcpu1")  # kick vcpu1 out of KVM_RUN so the ioctl can take its mutex
    w.until("vmm", "")
    (event,) = w("vcpu0")
    assert event.step == "resume"
    assert event.text == "kvm_vcpu_block: vcpu 0 runnable again"
    assert event.changes == (("vcpu0.mode", GUEST),)
    assert w.next("vcpu0") == "enter"  # the guest re-executes the hypercall


def test_leave_returns_to_userspace_and_drops_the_mutex():
    w = Walk(program(2, vmm=[Exit("x", 1)]))
    w("vmm")
    (event,) = w("vcpu1")
    assert event.step == "leave"
    assert event.text == "kvm_arch_vcpu_ioctl_run: vcpu 1 exits"
    assert event.changes == (
        ("vcpu1.mode", USER),
        ("vcpu1.mutex", ""),
        ("vcpu1.exit_pending", False),
    )


def test_a_suspended_vcpu_leaves_kvm_run_still_suspended():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("x", 0)], inhibit=(1,)))
    w.until("vcpu0", "resume")
    w("vmm")
    assert w.next("vcpu0") == "leave"
    w("vcpu0")
    assert w.vcpu(0).mode == USER and w.vcpu(0).suspended and w.vcpu(0).waiting_on == 1


def test_an_exit_waits_for_the_hypercall_in_progress():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("x", 0)]))
    w("vcpu0", "vmm")
    assert w.vcpu(0).exit_pending and w.next("vcpu0") == "check 1"
    w.until("vcpu0", "leave")
    assert w.steps()[-1] == "vcpu0 complete"


def test_a_pending_exit_beats_a_pending_flush_request():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("x", 1)]))
    w.until("vcpu0", "complete")
    w("vcpu0", "vmm")
    assert w.vcpu(1).pending_flush and w.next("vcpu1") == "leave"
    w("vcpu1")
    assert w.vcpu(1).pending_flush  # it waits for the next KVM_RUN


# -- VMM thread, op `set_inhibit vcpu=x value=b` -------------------------------


def inhibit_walk(value: bool = True, **kw) -> Walk:
    """vcpu1 already out of KVM_RUN, the vmm about to take its mutex."""
    return Walk(program(2, vmm=[SetInhibit("inh", 1, value)], user=(1,), **kw))


def test_lock_takes_the_vcpu_mutex():
    w = inhibit_walk()
    assert w.status("vmm") == ("lock", True, "")
    (event,) = w("vmm")
    assert (event.op, event.text) == ("inh", "mutex_lock: vcpu 1->mutex for SET_TLB_FLUSH_INHIBIT")
    assert event.changes == (("vcpu1.mutex", "vmm"),)


def test_lock_waits_while_kvm_run_holds_the_mutex():
    w = Walk(program(2, vmm=[SetInhibit("inh", 1, True)]))
    assert w.status("vmm") == (
        "lock",
        False,
        "vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex",
    )


def test_compare_and_write_flip_the_flag():
    w = inhibit_walk()
    w("vmm")
    compare, write = w("vmm", "vmm")
    assert (compare.step, compare.text) == ("compare", "READ_ONCE(tlb_flush_inhibit): vcpu 1 is 0")
    assert compare.changes == ()
    assert (write.step, write.text) == ("write", "WRITE_ONCE(tlb_flush_inhibit): vcpu 1 = 1")
    assert write.changes == (("vcpu1.inhibit", True),)


def test_sync_remembers_the_readers_inside_and_synced_waits_for_them():
    w = Walk(program(3, {0: [flush(2)]}, vmm=[SetInhibit("inh", 1, True)], user=(1,)))
    w("vcpu0")  # vcpu0 is inside kvm_hv_flush_tlb(), an SRCU reader
    w.until("vmm", "sync")
    (sync,) = w("vmm")
    assert sync.text == "synchronize_srcu: waits for vcpu0"
    assert w.status("vmm") == ("synced", False, "synchronize_srcu waits for reader vcpu0")
    w.until("vcpu0", "")
    (synced,) = w("vmm")
    assert (synced.step, synced.text) == ("synced", "synchronize_srcu: returns")


def test_sync_with_no_readers_returns_at_once():
    w = inhibit_walk()
    w.until("vmm", "sync")
    (sync,) = w("vmm")
    assert sync.text == "synchronize_srcu: waits for nobody"
    assert w.next("vmm") == "synced"


def test_return_drops_the_mutex_and_ends_the_op():
    w = inhibit_walk()
    w.until("vmm", "return")
    (event,) = w("vmm")
    assert event.text == "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu 1 returns 0"
    assert event.changes == (("vcpu1.mutex", ""),)
    assert w.status("vmm") == ("", False, DONE)
    assert w.steps() == [
        "vmm lock",
        "vmm compare",
        "vmm write",
        "vmm sync",
        "vmm synced",
        "vmm return",
    ]


def test_clearing_scans_every_vcpu_in_ascending_order_and_wakes_its_waiters():
    prog = program(
        4,
        {0: [flush(1)], 2: [flush(1)]},
        vmm=[SetInhibit("clr", 1, False)],
        inhibit=(1,),
        user=(1,),
    )
    w = Walk(prog)
    w.until("vcpu0", "resume")
    w.until("vcpu2", "resume")
    w.until("vmm", "unsuspend 0")
    events = w.until("vmm", "")
    assert [(e.step, e.text) for e in events] == [
        ("unsuspend 0", "WRITE_ONCE(waiting_on): vcpu 0 waiting_on = -1"),
        ("wake 0", "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 0"),
        ("unsuspend 1", "kvm_hv_vcpu_unsuspend_tlb_flush: vcpu 1 stays"),
        ("unsuspend 2", "WRITE_ONCE(waiting_on): vcpu 2 waiting_on = -1"),
        ("wake 2", "kvm_hv_vcpu_unsuspend_tlb_flush: unsuspending vcpu 2"),
        ("unsuspend 3", "kvm_hv_vcpu_unsuspend_tlb_flush: vcpu 3 stays"),
        ("return", "KVM_HYPERV_SET_TLB_FLUSH_INHIBIT: vcpu 1 returns 0"),
    ]
    assert events[0].changes == (("vcpu0.waiting_on", -1),)
    assert events[1].changes == (("vcpu0.suspended", False),)
    assert w.next("vcpu0") == "resume" and w.next("vcpu2") == "resume"


def test_the_scan_passes_over_a_vcpu_suspended_on_another():
    prog = program(3, {0: [flush(2)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1, 2), user=(1,))
    w = Walk(prog)
    w.until("vcpu0", "resume")
    w.until("vmm", "unsuspend 0")
    (event,) = w("vmm")
    assert event.text == "kvm_hv_vcpu_unsuspend_tlb_flush: vcpu 0 stays"
    assert w.suspended(0) and w.vcpu(0).waiting_on == 2


def test_setting_the_flag_it_already_has_returns_early():
    """`if (set->inhibit == READ_ONCE(...)) return 0;`: no write, no sync, no scan."""
    w = inhibit_walk(value=False)
    w.until("vmm", "")
    assert w.steps() == ["vmm lock", "vmm compare", "vmm return"]
    compare = w.session.events[1]
    assert compare.text == "READ_ONCE(tlb_flush_inhibit): vcpu 1 is 0 already"
    again = inhibit_walk(value=True, inhibit=(1,))
    again.until("vmm", "")
    assert again.steps() == ["vmm lock", "vmm compare", "vmm return"]


# -- VMM thread, ops `run vcpu=x` and `exit vcpu=x` ----------------------------


def test_run_enters_kvm_run_and_takes_the_mutex():
    w = Walk(program(2, vmm=[Run("r", 1)], user=(1,)))
    (event,) = w("vmm")
    assert (event.step, event.text) == ("run", "kvm_arch_vcpu_ioctl_run: vcpu 1 enters (guest)")
    assert event.changes == (("vcpu1.mode", GUEST), ("vcpu1.mutex", KVM_RUN))


def test_run_of_a_suspended_vcpu_blocks_at_once():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("x", 0), Run("r", 0)], inhibit=(1,)))
    w.until("vcpu0", "resume")
    w("vmm", "vcpu0")
    (event,) = w("vmm")
    assert event.text == "kvm_arch_vcpu_ioctl_run: vcpu 0 enters (blocked)"
    assert w.vcpu(0).mode == BLOCKED


def test_run_waits_while_the_vcpu_is_in_kvm_run():
    w = Walk(program(2, vmm=[Run("r", 1)]))
    assert w.status("vmm") == ("run", False, "vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex")


def test_exit_marks_an_exit_pending_or_does_nothing_outside_kvm_run():
    w = Walk(program(2, vmm=[Exit("a", 1), Exit("b", 0)], user=(0,)))
    a, b = w("vmm", "vmm")
    assert (a.text, a.changes) == (
        "kvm_vcpu_kick: vcpu 1 exit requested",
        (("vcpu1.exit_pending", True),),
    )
    assert (b.text, b.changes) == ("kvm_vcpu_kick: vcpu 0 is outside KVM_RUN already", ())


def test_exit_is_always_enabled():
    w = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("x", 0)]))
    w("vcpu0")  # inside the hypercall: the kick is sent, and waits
    assert w.status("vmm") == ("exit", True, "")


def test_an_idle_vcpu_with_nothing_pending_is_done():
    w = Walk(program(2))
    assert w.status("vcpu1") == ("", False, DONE)
    assert w.engine.enabled(w.session.state) == []


def test_events_carry_typed_fields_next_to_their_display_strings():
    """A step is (kind, argument); an event says which outcome it had and what
    the kernel traces, so nobody parses `step` or `text`."""
    walk = Walk(program(2, {0: [flush(1)]}, vmm=[Exit("k", 1), SetInhibit("inh", 1, True)]))
    walk("vmm", "vcpu0", "vcpu1", "vmm", "vcpu0")  # kick vcpu1, enter, leave, lock, check 1
    enter, check = walk.session.events[1], walk.session.events[4]
    assert (enter.kind, enter.arg, enter.case) == ("enter", None, "enter")
    assert enter.tracepoints == ("kvm_exit", "kvm_hv_hypercall", "kvm_hv_flush_tlb")
    assert (check.step, check.kind, check.arg, check.case) == ("check 1", "check", 1, "clear")
    assert check.step.kind == "check" and check.step.arg == 1
    walk("vmm", "vmm", "vmm")  # compare, write, sync
    sync = walk.session.events[-1]
    assert sync.kind == "sync" and sync.readers == (0,) and sync.text.endswith("vcpu0")
