"""SRCU generations: forget the counter wherever nothing will compare it.

A vCPU's `srcu_gen` counts its read-side sections of kvm->srcu (and, under
own-srcu, `flush_srcu_gen` those of the flush path's own domain); its one
use is in `synchronize_srcu`, which records (vCPU, generation) for each
reader of the domain it waits on and waits until each recorded reader has
left or entered again. So the number itself never matters, only whether a
recorded reader is still in the very section that was recorded. Two states
that differ only in how many times a vCPU has retried its hypercall are
otherwise the same state.

`forget` rewrites a state so that a reader's generation is 1, anyone
else's is 0 (in both domains), and records of readers that have moved on
are dropped (a generation only grows, so such a record can never block
again). Every guard and every step then behaves the same on the rewritten
state, and no property reads the counter: the rewrite is a bisimulation,
and a breadth-first search over rewritten states finds the same verdicts at
the same depths. It never changes what a user sees: counterexamples are
replayed on real states (hvtui.check.search).
"""

from __future__ import annotations

from collections.abc import Callable

from hvtui.model.state import State, Thread, Vcpu, setter, setter_of
from hvtui.model.variants import Variant

Forget = Callable[..., State]

_set_gens = setter("srcu_gen", "flush_srcu_gen")
_set_readers = setter_of(Thread, "readers")


def forget_vcpu(v: Vcpu) -> Vcpu:
    """One vCPU's generations forgotten (`v` itself when nothing changes): the
    generation equals the reader bit (True == 1). A function of the value alone,
    so a search over interned values applies it once per value."""
    if v.srcu_gen != v.srcu_reader or v.flush_srcu_gen != v.flush_srcu_reader:
        return _set_gens(v, 1 if v.srcu_reader else 0, 1 if v.flush_srcu_reader else 0)
    return v


def _pruner(own_srcu: bool) -> Callable:
    """`prune(threads, vcpus)` for records of kvm->srcu readers, or of the flush
    path's own domain: `threads` with the records of readers that have moved on
    (in `vcpus`, not yet forgotten) dropped, the others at generation 1;
    `threads` itself when nothing changes."""
    reader_field = "flush_srcu_reader" if own_srcu else "srcu_reader"
    gen_field = "flush_srcu_gen" if own_srcu else "srcu_gen"
    reader, generation = Vcpu._fields.index(reader_field), Vcpu._fields.index(gen_field)

    def prune(threads: tuple[Thread, ...], vcpus) -> tuple[Thread, ...]:
        for i, th in enumerate(threads):
            if th.readers:
                kept = []
                for c, gen in th.readers:
                    v = vcpus[c]
                    if v[reader] and v[generation] == gen:
                        kept.append((c, 1))
                kept = tuple(kept)
                if kept != th.readers:
                    threads = threads[:i] + (_set_readers(th, kept),) + threads[i + 1 :]
        return threads

    return prune


def _forgetter(prune: Callable) -> Forget:
    def forget(s: State, parent: State | None = None) -> State:
        """`s` with its generations forgotten; `s` itself when nothing changes.

        With `parent` (already forgotten, and `s` one step from it) only the
        vCPUs the step wrote are looked at: the rest are forgotten already.
        """
        vcpus = s.vcpus
        slots = None if parent is None else vcpus.touched(parent.vcpus)
        if slots is None:
            slots = range(len(vcpus))
        for c in slots:
            v = vcpus[c]
            v2 = forget_vcpu(v)
            if v2 is not v:
                vcpus = vcpus.set(c, v2)
        threads = prune(s.threads, s.vcpus)
        if vcpus is s.vcpus and threads is s.threads:
            return s
        return State(vcpus, threads, s.windows)

    return forget


_prune, _prune_own = _pruner(own_srcu=False), _pruner(own_srcu=True)
forget = _forgetter(_prune)  # every variant whose ioctl waits on kvm->srcu
_forget_own = _forgetter(_prune_own)


def forgetter(variant: Variant) -> Forget:
    """The `forget` that knows which domain `variant`'s synchronize_srcu records."""
    return _forget_own if variant.own_srcu else forget


def pruner(variant: Variant) -> Callable:
    """forgetter(variant)'s part that reads synchronize_srcu's records."""
    return _prune_own if variant.own_srcu else _prune
