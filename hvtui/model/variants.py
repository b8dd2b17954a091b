"""Variants: named sets of toggles over the series as posted.

A new variant is one entry in VARIANTS; the engine reads only the toggles.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Variant:
    name: str
    source: str
    # kvm_hv_flush_tlb(): check every target's flag before raising requests
    # (the patch) or raise every request and check afterwards (the review).
    request_first: bool = False
    # kvm_vcpu_ioctl_set_tlb_flush_inhibit() calls synchronize_srcu().
    sync: bool = True
    # kvm_hv_vcpu_unsuspend_tlb_flush() writes waiting_on = -1 before
    # suspended = false (2/7's order) or the other way round.
    unsuspend_swapped: bool = False
    # No `suspended` field: suspended <=> waiting_on != -1.
    merged_state: bool = False
    # The unsuspend scan wakes every suspended vCPU, whatever it waits on.
    wake_all: bool = False
    # kvm_hv_hypercall_complete() returns 1 after every suspension, even if
    # the vCPU was woken meanwhile: no -EBUSY fall-through, the guest retries.
    retry: bool = False
    # The flush hypercall is a reader of an SRCU domain of its own, and the
    # ioctl synchronizes that one instead of kvm->srcu.
    own_srcu: bool = False

    def toggles(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "bool"}


POSTED = Variant("posted", "the series as posted (patches 2/7 and 5/7)")

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        POSTED,
        replace(
            POSTED,
            name="request-first",
            source="the reviewer's proposal on 5/7: request every target, then check",
            request_first=True,
        ),
        replace(
            POSTED,
            name="no-sync",
            source="what the SRCU comment in 5/7 guards against: no synchronize_srcu()",
            sync=False,
        ),
        replace(
            POSTED,
            name="unsuspend-swapped",
            source="the race 2/7's write order avoids: suspended = false before waiting_on = -1",
            unsuspend_swapped=True,
        ),
        replace(
            POSTED,
            name="merged-state",
            source="the reviewer's suggestion on 2/7: suspended <=> waiting_on != -1",
            merged_state=True,
        ),
        replace(
            POSTED,
            name="wake-all",
            source="Sean Christopherson on 2/7: wake every suspended vCPU and let it retry",
            wake_all=True,
        ),
        replace(
            POSTED,
            name="wake-all-retry",
            source="Sean Christopherson on 2/7: wake every suspended vCPU; "
            "kvm_hv_hypercall_complete() always returns 1, the guest retries",
            wake_all=True,
            retry=True,
        ),
        replace(
            POSTED,
            name="own-srcu",
            source="not posted: the flush path has an SRCU domain of its own, so the ioctl's "
            "synchronize_srcu() waits for flush hypercalls only (Sean's kvm->srcu remark)",
            own_srcu=True,
        ),
    )
}
