"""The model v2 steps: kernel work, vCPUs without a Hyper-V context, own-srcu,
and wake-all-retry's s3: each step's guard, its effect and its kernel line.

Built the way test_engine_steps.py is: one short interleaving each, reading
back the status, the state and the event.
"""

from __future__ import annotations

from engine_support import Walk, flush, program, work

from hvtui.model.engine import DONE
from hvtui.model.state import GUEST, KERNEL, KVM_RUN, USER, Exit, HypervInit, Run, SetInhibit

NULL_CHECK = "READ_ONCE(v->arch.hyperv->tlb_flush_inhibit): vcpu {} has no Hyper-V context"
NULL_IOCTL = "READ_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit): vcpu {} has no Hyper-V context"

# -- vCPU c, op `kernel_work` ------------------------------------------------------


def test_vmexit_enters_the_kernel_as_a_reader_of_kvm_srcu():
    w = Walk(program(2, {0: [work("mmio")]}))
    assert w.status("vcpu0") == ("vmexit", True, "")
    (event,) = w("vcpu0")
    assert (event.op, event.step) == ("mmio", "vmexit")
    assert event.text == (
        "vcpu_enter_guest: vcpu 0 VM exit handled in the kernel, "
        "kvm_vcpu_srcu_read_lock(&kvm->srcu)"
    )
    assert event.changes == (
        ("vcpu0.mode", KERNEL),
        ("vcpu0.srcu_reader", True),
        ("vcpu0.srcu_gen", 1),
    )
    assert w.next("vcpu0") == "vmentry"


def test_vmentry_leaves_srcu_returns_to_the_guest_and_ends_the_op():
    w = Walk(program(2, {0: [work("mmio"), flush(1)]}))
    w("vcpu0")
    (event,) = w("vcpu0")
    assert event.text == "vcpu_enter_guest: vcpu 0 kvm_vcpu_srcu_read_unlock(&kvm->srcu), VM entry"
    assert event.changes == (("vcpu0.mode", GUEST), ("vcpu0.srcu_reader", False))
    assert w.vcpu(0).op == 1 and w.next("vcpu0") == "enter"  # on to the flush


def test_a_second_kernel_work_is_a_new_read_side_section():
    w = Walk(program(1, {0: [work("a"), work("b")]}))
    w("vcpu0", "vcpu0", "vcpu0")
    assert w.vcpu(0).srcu_reader and w.vcpu(0).srcu_gen == 2


def test_vmexit_waits_outside_kvm_run():
    w = Walk(program(2, {0: [work()]}, vmm=[Run("r", 0)], user=(0,)))
    assert w.status("vcpu0") == ("vmexit", False, "outside KVM_RUN: waits for a VMM `run`")
    w("vmm")
    assert w.next("vcpu0") == "vmexit"


def test_a_pending_exit_and_then_a_pending_flush_come_before_a_vmexit():
    """vcpu_run(): a pending signal returns to userspace first; requests are
    processed before the guest runs the instruction that exits."""
    w = Walk(program(2, {0: [flush(1)], 1: [work()]}, vmm=[Exit("x", 1), Run("r", 1)]))
    w.until("vcpu0", "complete")  # vcpu1 has a flush request pending
    w("vmm")
    assert w.next("vcpu1") == "leave"
    w("vcpu1", "vmm")  # leave, run again
    assert w.next("vcpu1") == "service"
    w("vcpu1")
    assert w.next("vcpu1") == "vmexit"


def test_an_exit_during_kernel_work_is_taken_after_vmentry():
    w = Walk(program(2, {0: [work()]}, vmm=[Exit("x", 0)]))
    w("vcpu0", "vmm")
    assert w.vcpu(0).exit_pending and w.next("vcpu0") == "vmentry"
    w("vcpu0")
    assert w.next("vcpu0") == "leave"


def test_kernel_work_holds_up_the_ioctls_synchronize_srcu():
    """Sean's remark: anything in KVM_RUN outside guest mode holds kvm->srcu."""
    w = Walk(program(2, {0: [work()]}, vmm=[Exit("x", 1), SetInhibit("inh", 1, True)]))
    w("vcpu0", "vmm", "vcpu1", "vmm", "vmm", "vmm")  # vmexit; exit, leave; lock, compare, write
    (sync,) = w("vmm")
    assert sync.text == "synchronize_srcu: waits for vcpu0"
    assert w.status("vmm") == ("synced", False, "synchronize_srcu waits for reader vcpu0")
    w("vcpu0")  # vmentry
    assert w.next("vmm") == "synced"


# -- own-srcu --------------------------------------------------------------------


def test_own_srcu_puts_the_flush_hypercall_in_its_own_domain_too():
    w = Walk(program(2, {0: [flush(1)]}), "own-srcu")
    (enter,) = w("vcpu0")
    assert enter.changes == (
        ("vcpu0.mode", KERNEL),
        ("vcpu0.srcu_reader", True),
        ("vcpu0.srcu_gen", 1),
        ("vcpu0.flush_srcu_reader", True),
        ("vcpu0.flush_srcu_gen", 1),
    )
    w.until("vcpu0", "complete")
    (complete,) = w("vcpu0")
    assert complete.changes == (
        ("vcpu0.mode", GUEST),
        ("vcpu0.srcu_reader", False),
        ("vcpu0.flush_srcu_reader", False),
    )


def test_own_srcu_leaves_the_domain_at_s3_as_well():
    w = Walk(program(2, {0: [flush(1)]}, inhibit=(1,)), "own-srcu")
    w.until("vcpu0", "s3")
    assert w.vcpu(0).flush_srcu_reader
    (s3,) = w("vcpu0")
    assert ("vcpu0.flush_srcu_reader", False) in s3.changes


def test_own_srcu_kernel_work_is_no_reader_of_the_flush_domain():
    prog = program(2, {0: [work()]}, vmm=[Exit("x", 1), SetInhibit("inh", 1, True)])
    w = Walk(prog, "own-srcu")
    (vmexit,) = w("vcpu0")
    assert ("vcpu0.flush_srcu_reader", True) not in vmexit.changes
    w("vmm", "vcpu1", "vmm", "vmm", "vmm")
    (sync,) = w("vmm")
    assert sync.text == "synchronize_srcu (the flush path's own domain): waits for nobody"
    assert w.next("vmm") == "synced"  # vcpu0 is still in the kernel: no wait


def test_own_srcu_sync_waits_for_a_flush_hypercall():
    prog = program(3, {0: [flush(2)]}, vmm=[Exit("x", 1), SetInhibit("inh", 1, True)])
    w = Walk(prog, "own-srcu")
    w("vcpu0", "vmm", "vcpu1", "vmm", "vmm", "vmm", "vmm")
    assert w.status("vmm") == ("synced", False, "synchronize_srcu waits for reader vcpu0")


# -- vCPUs without a Hyper-V context -------------------------------------------------


def hot_plug(**kw) -> Walk:
    """vcpu0 flushes every vCPU; vcpu2 was just created and has no Hyper-V context."""
    return Walk(
        program(
            3, {0: [flush(0, 1, 2)]}, vmm=[HypervInit("init", 2), Run("run", 2)], no_hyperv=(2,)
        ),
        **kw,
    )


def test_a_vcpu_without_a_context_starts_outside_kvm_run_and_has_never_run():
    w = Walk(program(2, inhibit=(1,), no_hyperv=(1,), user=()))
    v = w.vcpu(1)
    assert (v.mode, v.mutex, v.hyperv, v.ran) == (USER, "", False, False)
    # no context, no flag to set: initial.inhibit cannot reach it
    assert not v.inhibit and w.session.state.windows == 0
    assert w.vcpu(0).hyperv and w.vcpu(0).ran


def test_check_of_a_vcpu_without_a_context_dereferences_null_reads_0_and_goes_on():
    w = hot_plug()
    w.until("vcpu0", "check 2")
    (event,) = w("vcpu0")
    assert event.text == NULL_CHECK.format(2) + " (NULL dereference)"
    assert event.changes == ()
    assert w.next("vcpu0") == "request 0"  # read as 0: not inhibited


def test_a_request_to_a_vcpu_without_a_context_is_raised_and_serviced():
    """3/7's hv_tlb_flush_enqueue() and kvm_hv_vcpu_flush_tlb() return on
    !hv_vcpu; the request itself is still raised, and the caller flushes."""
    w = Walk(program(3, {0: [flush(2)]}, vmm=[Run("run", 2)], no_hyperv=(2,)))
    w.until("vcpu0", "complete")
    assert w.vcpu(2).pending_flush
    w("vmm")
    assert w.next("vcpu2") == "service"
    (event,) = w("vcpu2")
    assert event.changes == (("vcpu2.pending_flush", False), ("vcpu2.flushes", 1))


def test_hyperv_init_creates_the_context_of_a_vcpu_that_never_ran():
    w = hot_plug()
    assert w.status("vmm") == ("hyperv_init", True, "")
    (event,) = w("vmm")
    assert (event.op, event.step) == ("init", "hyperv_init")
    assert event.text == "kvm_hv_vcpu_init: vcpu 2 gets its Hyper-V context"
    assert event.changes == (("vcpu2.hyperv", True),)
    v = w.vcpu(2)
    assert (v.inhibit, v.suspended, v.waiting_on, v.mutex) == (False, False, -1, "")
    w.until("vcpu0", "check 2")
    (check,) = w("vcpu0")
    assert check.text == "READ_ONCE(tlb_flush_inhibit): vcpu 2 is not inhibited"


def test_hyperv_init_waits_for_the_vcpus_mutex_and_for_it_to_be_outside_kvm_run():
    w = Walk(program(2, vmm=[HypervInit("init", 1)], threads={"vmm:b": [Run("r", 1)]}))
    assert w.status("vmm") == (
        "hyperv_init",
        False,
        "vcpu1 is in KVM_RUN (guest), which holds vcpu->mutex",
    )
    ioctl = {"vmm:b": [SetInhibit("inh", 1, True)]}
    held = Walk(program(2, vmm=[HypervInit("init", 1)], threads=ioctl, no_hyperv=(1,)))
    held("vmm:b")  # lock
    assert held.status("vmm") == ("hyperv_init", False, "vcpu1->mutex is held by vmm:b")
    held.until("vmm:b", "")
    assert held.next("vmm") == "hyperv_init"


def test_after_kvm_run_kvm_set_cpuid2_no_longer_creates_the_context():
    w = Walk(program(2, vmm=[Run("run", 1), Exit("x", 1), HypervInit("init", 1)], no_hyperv=(1,)))
    (run,) = w("vmm")
    assert run.changes == (("vcpu1.mode", GUEST), ("vcpu1.mutex", KVM_RUN))  # `ran` is not shown
    assert w.vcpu(1).ran
    w("vmm", "vcpu1")
    (event,) = w("vmm")
    assert event.text == (
        "KVM_SET_CPUID2: vcpu 1 has been in KVM_RUN: returns before kvm_hv_vcpu_init()"
    )
    assert event.changes == () and not w.vcpu(1).hyperv


def test_hyperv_init_of_a_vcpu_with_a_context_changes_nothing():
    w = Walk(program(2, vmm=[HypervInit("init", 1)], user=(1,)))
    (event,) = w("vmm")
    assert event.text == "KVM_SET_CPUID2: vcpu 1 has a Hyper-V context already"
    assert event.changes == ()


def test_a_vcpu_without_a_context_issues_no_hypercall():
    """The loader refuses such a program; the engine refuses the step anyway."""
    w = Walk(program(2, {1: [flush(0)]}, vmm=[Run("run", 1)], no_hyperv=(1,)))
    w("vmm")
    assert w.status("vcpu1") == ("enter", False, "vcpu1 has no Hyper-V context: no hypercall")


def test_the_ioctl_on_a_vcpu_without_a_context_reads_and_writes_through_null():
    w = Walk(program(2, vmm=[SetInhibit("inh", 1, True)], no_hyperv=(1,)))
    lock, compare, write = w("vmm", "vmm", "vmm")
    assert compare.text == NULL_IOCTL.format(1) + " (NULL dereference)"
    assert write.text == (
        "WRITE_ONCE(vcpu->arch.hyperv->tlb_flush_inhibit, 1): vcpu 1 has no Hyper-V context "
        "(NULL dereference), nothing written"
    )
    assert write.changes == () and not w.vcpu(1).inhibit
    w.until("vmm", "")
    assert w.steps()[-1] == "vmm return"
    assert w.session.state.windows == 0  # nothing was inhibited: no window opens


def test_a_clear_on_a_vcpu_without_a_context_reads_0_and_returns_at_once():
    w = Walk(program(2, vmm=[SetInhibit("clr", 1, False)], no_hyperv=(1,)))
    w("vmm", "vmm")
    assert w.next("vmm") == "return"


def test_the_unsuspend_scan_passes_a_vcpu_without_a_context():
    prog = program(
        3,
        {0: [flush(1)]},
        vmm=[Exit("x", 1), SetInhibit("clr", 1, False)],
        inhibit=(1,),
        no_hyperv=(2,),
    )
    for variant in ("posted", "merged-state", "wake-all"):
        w = Walk(prog, variant)
        w.until("vcpu0", "resume")
        w("vmm", "vcpu1")
        w.until("vmm", "unsuspend 2")
        (event,) = w("vmm")
        assert event.text == "kvm_hv_vcpu_unsuspend_tlb_flush: vcpu 2 stays", variant


# -- wake-all-retry's s3 ------------------------------------------------------------


def woken_between_s2_and_s3(variant: str) -> Walk:
    """Clearing vcpu2 wakes vcpu0, which is suspending on vcpu1 (wake-all's scan)."""
    w = Walk(
        program(3, {0: [flush(1)]}, vmm=[SetInhibit("clr", 2, False)], inhibit=(1, 2), user=(2,)),
        variant,
    )
    w(*["vmm"] * 5, *["vcpu0"] * 4, "vmm", "vmm")
    assert not w.suspended(0) and w.next("vcpu0") == "s3"
    return w


def test_wake_all_retry_s3_returns_1_to_a_vcpu_woken_already():
    w = woken_between_s2_and_s3("wake-all-retry")
    (s3,) = w("vcpu0")
    assert s3.text == (
        "kvm_hv_hypercall_complete: vcpu 0 returns 1, instruction not skipped: "
        "woken already, it retries"
    )
    assert s3.changes == (("vcpu0.mode", GUEST), ("vcpu0.srcu_reader", False))
    assert w.vcpu(0).op == 0 and w.next("vcpu0") == "enter"  # the op restarts
    w.run()
    assert w.suspended(0) and w.vcpu(0).waiting_on == 1  # and suspends again on vcpu1


def test_wake_all_retry_s3_of_a_suspended_vcpu_blocks_as_posted():
    w = Walk(program(2, {0: [flush(1)]}, inhibit=(1,)), "wake-all-retry")
    w.until("vcpu0", "s3")
    (s3,) = w("vcpu0")
    assert s3.text == "kvm_hv_hypercall_complete: vcpu 0 suspended, instruction not skipped"


def test_wake_all_s3_of_a_vcpu_woken_already_falls_through_to_ebusy():
    w = woken_between_s2_and_s3("wake-all")
    (s3,) = w("vcpu0")
    assert "guest gets -EBUSY" in s3.text
    assert w.status("vcpu0") == ("", False, DONE)
