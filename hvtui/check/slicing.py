"""Slicing: forget the fields no property, and no guard on the way to one, reads.

Two vCPU fields are history only as far as the checker is concerned:

- `flushes` counts the requests a vCPU has serviced. No guard reads it, no
  property does, and the one step that writes it (`service`) writes it from
  itself: the count feeds nothing but the count. (A scenario's
  `expect.final` may name it, but the checker decides properties, not final
  states: `hvtui run` checks those.)
- `ran` (has been in KVM_RUN) is read by `hyperv_init` alone, and only for a
  vCPU without a Hyper-V context; a vCPU created with one keeps it, so for
  it `ran` is never read.

`slice_` rewrites a state with every `flushes` 0 and `ran` true where it is
never read. Every guard and effect then behaves the same on the rewritten
state, up to those fields, and no property reads them: the rewrite is a
bisimulation, so a breadth-first search over sliced states finds the same
verdicts at the same depths (the tests check both, state by state and on
whole searches). Counterexamples are replayed on real states
(hvtui.check.search), so a user never sees a sliced count.

Not sliced: a vCPU's pending flag and services, even where no window can
ever open on it. They are guards (a pending request is serviced before the
next hypercall), so forgetting them would drop `service` steps and change
the counterexamples' lengths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hvtui.model.state import Program, State, Vcpu, setter

Slice = Callable[[State, "Iterable[int] | None"], State]

_sliced = setter("flushes", "ran")


def vcpu_slicer(program: Program) -> Callable:
    """`slice_vcpu(c, v)`: vcpu c's value `v` with the sliced fields forgotten
    (`v` itself when nothing changes). A function of (id, value) alone, so a
    search over interned values applies it once per value."""
    read_ran = program.initial_no_hyperv  # the vCPUs whose `ran` hyperv_init reads

    def slice_vcpu(c: int, v: Vcpu) -> Vcpu:
        ran = v.ran or c not in read_ran
        if v.flushes or ran != v.ran:
            return _sliced(v, 0, ran)
        return v

    return slice_vcpu


def slicer(program: Program) -> Slice:
    """`slice_(s, slots)` for this program: `s` with the sliced fields forgotten,
    looking at the vCPUs `slots` only (None: every vCPU); `s` itself when it
    changes nothing."""
    slice_vcpu = vcpu_slicer(program)

    def slice_(s: State, slots: Iterable[int] | None = None) -> State:
        vcpus = s.vcpus
        for c in range(len(vcpus)) if slots is None else slots:
            v = vcpus[c]
            v2 = slice_vcpu(c, v)
            if v2 is not v:
                vcpus = vcpus.set(c, v2)
        if vcpus is s.vcpus:
            return s
        return State(vcpus, s.threads, s.windows)

    return slice_
