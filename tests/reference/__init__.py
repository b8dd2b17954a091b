"""An independent reference model of the protocol, to cross-check hvtui's checker.

`model.py` is written from the series' code (5/7's `kvm_hv_flush_tlb()` and
`kvm_vcpu_ioctl_set_tlb_flush_inhibit()`, 2/7's suspend/unsuspend helpers)
and the project's documented decisions, without importing hvtui's step
table, engine or properties: a mistake shared by both would go unseen.
"""
