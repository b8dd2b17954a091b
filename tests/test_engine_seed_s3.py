"""s3 as the seed writes it: `if (kvm_hv_vcpu_suspended(vcpu)) return 1;`.

docs/model.md's s3 row only describes the suspended case. When an unsuspend scan
that did not wait for this reader clears `suspended` between s2 and s3, the
seed falls through to the normal completion with result = -EBUSY: the
instruction is skipped and the guest's flush is never done.
"""

from engine_support import Walk, flush, program

from hvtui.model.state import GUEST, SetInhibit


def test_no_sync_unsuspend_between_s2_and_s3_returns_ebusy_to_the_guest():
    w = Walk(
        program(2, {0: [flush(1)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,)),
        "no-sync",
    )
    w("vcpu0", "vcpu0", "vcpu0", "vcpu0")  # enter, check 1, s1, s2
    assert w.suspended(0) and w.next("vcpu0") == "s3"
    w(*["vmm"] * 7)  # lock, compare, write, unsuspend 0, wake 0, unsuspend 1, return
    assert not w.suspended(0)

    (event,) = w("vcpu0")

    assert event.step == "s3"
    assert "guest gets -EBUSY" in event.text
    v = w.vcpu(0)
    assert v.mode == GUEST and not v.srcu_reader
    assert w.engine.finished(w.session.state, 0)  # the hypercall returned: the op is over
    assert not w.vcpu(1).pending_flush and w.vcpu(1).flushes == 0  # nothing was flushed


def test_posted_sync_keeps_the_scan_out_of_the_s2_s3_gap():
    w = Walk(
        program(2, {0: [flush(1)]}, vmm=[SetInhibit("clr", 1, False)], inhibit=(1,), user=(1,)),
        "posted",
    )
    w("vcpu0", "vcpu0", "vcpu0", "vcpu0")  # enter, check 1, s1, s2
    w("vmm", "vmm", "vmm", "vmm")  # lock, compare, write, sync
    assert w.status("vmm").step == "synced" and not w.status("vmm").enabled
    (event,) = w("vcpu0")
    assert event.step == "s3" and "instruction not skipped" in event.text
    assert w.vcpu(0).mode == "blocked"
