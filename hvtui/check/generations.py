"""SRCU generations: forget the counter wherever nothing will compare it.

A vCPU's `srcu_gen` counts its read-side sections; its one use is in
`synchronize_srcu`, which records (vCPU, generation) for each reader and
waits until each recorded reader has left or entered again. So the number
itself never matters, only whether a recorded reader is still in the very
section that was recorded. Two states that differ only in how many times a
vCPU has retried its hypercall are otherwise the same state.

`forget` rewrites a state so that a reader's generation is 1, anyone
else's is 0, and records of readers that have moved on are dropped (a
generation only grows, so such a record can never block again). Every
guard and every step then behaves the same on the rewritten state, and no
property reads the counter: the rewrite is a bisimulation, and a
breadth-first search over rewritten states finds the same verdicts at the
same depths. It never changes what a user sees: counterexamples are
replayed on real states (hvtui.check.search).
"""

from __future__ import annotations

from hvtui.model.state import State


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
        gen = 1 if v.srcu_reader else 0
        if v.srcu_gen != gen:
            vcpus = vcpus.set(c, v._replace(srcu_gen=gen))
    threads = s.threads
    for i, th in enumerate(threads):
        if th.readers:
            kept = _blocking(th.readers, s)
            if kept != th.readers:
                threads = threads[:i] + (th._replace(readers=kept),) + threads[i + 1 :]
    if vcpus is s.vcpus and threads is s.threads:
        return s
    return State(vcpus, threads, s.windows)


def _blocking(readers: tuple[tuple[int, int], ...], s: State) -> tuple[tuple[int, int], ...]:
    """The recorded readers still inside the section synchronize_srcu waits for,
    with the generation they will have once forgotten."""
    kept = []
    for c, gen in readers:
        v = s.vcpus[c]
        if v.srcu_reader and v.srcu_gen == gen:
            kept.append((c, 1))
    return tuple(kept)
