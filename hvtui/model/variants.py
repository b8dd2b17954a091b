"""Variants: named sets of toggles over the series as posted.

A new variant is one entry in VARIANTS (name, source, description,
toggles); the step effects read only the toggles, and `hvtui variants`,
`check --variant all` and the workbench list whatever is here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Variant:
    name: str
    source: str  # where it comes from in the thread
    description: str  # what it changes, in one line
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


def _variant(name: str, source: str, description: str, **toggles: bool) -> Variant:
    return Variant(name, source, description, **toggles)


# One entry per variant: its name, where it comes from, what it changes, its toggles.
POSTED = _variant(
    "posted",
    "the series as posted (patches 2/7 and 5/7)",
    "check every target, then request; synchronize_srcu(); waiting_on = -1 before suspended",
)
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        POSTED,
        _variant(
            "request-first",
            "the reviewer's proposal on 5/7: request every target, then check",
            "kvm_hv_flush_tlb() raises every request first and checks the flags after",
            request_first=True,
        ),
        _variant(
            "no-sync",
            "what the SRCU comment in 5/7 guards against: no synchronize_srcu()",
            "the ioctl returns without waiting for the flush hypercalls already inside",
            sync=False,
        ),
        _variant(
            "unsuspend-swapped",
            "the race 2/7's write order avoids: suspended = false before waiting_on = -1",
            "the unsuspend scan clears `suspended` first, then `waiting_on`",
            unsuspend_swapped=True,
        ),
        _variant(
            "merged-state",
            "the reviewer's suggestion on 2/7: suspended <=> waiting_on != -1",
            "no `suspended` field: one store suspends (s1) and one unsuspends",
            merged_state=True,
        ),
        _variant(
            "wake-all",
            "Sean Christopherson on 2/7: wake every suspended vCPU and let it retry",
            "the scan wakes every suspended vCPU, whatever it waits on",
            wake_all=True,
        ),
        _variant(
            "wake-all-retry",
            "Sean Christopherson on 2/7: wake every suspended vCPU; "
            "kvm_hv_hypercall_complete() always returns 1, the guest retries",
            "wake-all, and s3 always returns 1: no -EBUSY fall-through",
            wake_all=True,
            retry=True,
        ),
        _variant(
            "own-srcu",
            "not posted: the flush path has an SRCU domain of its own, so the ioctl's "
            "synchronize_srcu() waits for flush hypercalls only (Sean's kvm->srcu remark)",
            "flush hypercalls read an SRCU domain of their own; the ioctl syncs only that one",
            own_srcu=True,
        ),
    )
}
