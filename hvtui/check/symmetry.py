"""Symmetry reduction: vCPUs the check may swap without changing any verdict.

Two vCPU actors are interchangeable when their programs are equal up to
renaming them into each other and nothing else in the scenario names
either: no other vCPU's flush targets them, no VMM op acts on them,
`initial` leaves them alone. A program may name its own vCPU (a flush of
itself, as every bank member of `many-vcpus-4096` does): *bank symmetry*
reads such a target as "self", so vcpu5 flushing [4, 5] and vcpu6 flushing
[4, 6] run the same program, swapped. The renaming must keep the order in
which kvm_hv_flush_tlb() visits the targets (ascending ids: `check` and
`request` go through them in order), so "self" must sit at the same place
among the same other targets in both. Then the only thing that tells the
two apart is their id, and the id matters in exactly two more places:

- `synchronize_srcu` records readers by id: a swap renames the record too.
- the unsuspend scan visits vCPUs in ascending id order, so a swap can
  change *when* a suspended member is woken relative to the other actors.
  Swapping is therefore exact only where no scan can ever meet a suspended
  member: either the members can never suspend (none of their targets can
  be inhibited), or no `set_inhibit(false)` remains in any VMM thread.

No other field of any vCPU holds a member's id: a vCPU waits on (and its
window is) only a vCPU whose flag can be set, and members' flags never are
(`initial` and every set_inhibit leave them alone).

Where it is exact, a swap is an automorphism of the state graph (it maps
steps to steps, the initial state to itself, and every property to
itself), so the checker may keep one canonical state per orbit: members
sorted by local state -- a counting abstraction, since a sorted group says
only how many members stand where. Verdicts and shortest counterexample
lengths are both preserved. Counterexamples are rebuilt on real states by
replaying (hvtui.check.search), so a user never sees a canonical state.

vCPUs with no ops that nothing names never change, so they are always
alike: swapping them maps every state to itself and saves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from hvtui.model.engine import Engine
from hvtui.model.state import Flush, Program, SetInhibit, State, Thread

SELF = "self"  # a flush target that is the flushing vCPU itself, in a program's shape


def may_be_inhibited(program: Program) -> set[int]:
    """vCPUs whose flag can ever be set: initially, or by a set_inhibit(true)."""
    out = set(program.initial_inhibit)
    for _, ops in program.threads:
        out.update(op.vcpu for op in ops if isinstance(op, SetInhibit) and op.value)
    return out


def flush_targets(ops) -> set[int]:
    """Every vCPU the flushes among `ops` (a vCPU's program) target."""
    return {t for op in ops if isinstance(op, Flush) for t in op.targets}


def named_vcpus(program: Program) -> set[int]:
    """vCPUs something other than their own thread refers to."""
    return _named(program, banks=False)


def _named(program: Program, banks: bool) -> set[int]:
    """vCPUs named by `initial`, a VMM op or a flush -- with `banks`, a flush of
    another vCPU only: a vCPU's flush of itself does not count."""
    named = set(program.initial_inhibit) | {c for c, _ in program.initial_mode}
    named |= program.initial_no_hyperv
    for c, ops in enumerate(program.vcpu_ops):
        named |= flush_targets(ops) - ({c} if banks else set())
    for _, ops in program.threads:
        named.update(op.vcpu for op in ops)
    return named


def interchangeable(program: Program, banks: bool = True) -> list[tuple[int, ...]]:
    """Groups (two or more, ascending ids) of vCPU actors whose programs are equal
    up to renaming them (with `banks`; else equal) and that nothing else names."""
    named = _named(program, banks)
    by_program: dict[tuple, list[int]] = {}
    for c, ops in enumerate(program.vcpu_ops):
        if ops and c not in named:
            # a flush by its targets in visiting order, kernel work as None: op
            # ids do not matter
            shape = tuple(
                tuple(SELF if t == c else t for t in op.targets) if isinstance(op, Flush) else None
                for op in ops
            )
            by_program.setdefault(shape, []).append(c)
    return [tuple(group) for group in by_program.values() if len(group) > 1]


class Symmetry:
    """Canonical states for one program: interchangeable vCPUs sorted by local state."""

    def __init__(self, engine: Engine, banks: bool = True):
        program = engine.program
        self.groups = interchangeable(program, banks)
        self.group_of = {c: g for g, group in enumerate(self.groups) for c in group}
        self.place = {c: i for group in self.groups for i, c in enumerate(group)}
        inhibitable = may_be_inhibited(program)
        # Members that can never suspend are invisible to every scan.
        self.always = [not flush_targets(program.vcpu_ops[g[0]]) & inhibitable for g in self.groups]
        # clears_from[i][j]: thread i still has a set_inhibit(false) at op j or later
        self.clears_from = []
        for _, ops in program.threads:
            tail = [False] * (len(ops) + 1)
            for j in range(len(ops) - 1, -1, -1):
                op = ops[j]
                tail[j] = tail[j + 1] or (isinstance(op, SetInhibit) and not op.value)
            self.clears_from.append(tail)

    def __bool__(self) -> bool:
        return bool(self.groups)

    def scan_ahead(self, s: State) -> bool:
        """Some VMM thread may still run an unsuspend scan (or is inside one)."""
        for th, tail in zip(s.threads, self.clears_from, strict=True):
            if th.pc == "return":  # the current op's scan, if any, is over
                if tail[th.op + 1]:
                    return True
            elif tail[th.op]:
                return True
        return False

    def canon(
        self, s: State, touched: Iterable[int] | None = None, parent: State | None = None
    ) -> State:
        """The orbit's representative; `s` itself when it already is one.

        With `parent` (a canonical state `s` is one step from) and `touched`
        (the vCPUs that step wrote) only the groups that step may have
        unsorted are sorted: those of the vCPUs it wrote or whose
        synchronize_srcu record it changed, and every group a scan kept apart
        if it ended the last scan. The rest are sorted already.
        """
        return self.fold(s, touched, parent)[0]

    def fold(
        self, s: State, touched: Iterable[int] | None = None, parent: State | None = None
    ) -> tuple[State, dict[int, int]]:
        """canon(s, touched, parent), and where it put each vCPU of `s` that it
        moved: old id -> new id."""
        groups = None
        if touched is not None and parent is not None:
            groups = self._unsorted(s, touched, parent)
        return self._sort(s, groups)

    def _unsorted(self, s: State, touched: Iterable[int], parent: State) -> set[int]:
        """The groups that may be out of order in `s`, one step from canonical `parent`."""
        group_of = self.group_of
        moved = set(touched)
        for before, after in zip(parent.threads, s.threads, strict=True):
            if before.readers != after.readers:
                moved.update(c for c, _ in set(before.readers) ^ set(after.readers))
        out = {group_of[c] for c in moved if c in group_of}
        if not all(self.always) and self.scan_ahead(parent) and not self.scan_ahead(s):
            out.update(range(len(self.groups)))
        return out

    def ties(self, s: State, c: int) -> tuple[int, ...]:
        """The vCPUs of canonical `s` that nothing tells from vCPU c (members of its
        group with its local state and records), c included, ascending: the
        ones whose places a sort of equal keys leaves in id order."""
        g = self.group_of.get(c)
        if g is None or (not self.always[g] and self.scan_ahead(s)):
            return (c,)  # not sorted, so not renamed either
        twin = _twin(s)
        mine = twin(c)
        return tuple(x for x in self.groups[g] if twin(x) == mine)

    def twins(self, s: State) -> Twins:
        """Who is whose twin in canonical `s` (Twins)."""
        return Twins(self, s)

    def sort_key(self, s: State, c: int):
        """What a sort of vCPU c's group compares of it in `s`."""
        return _twin(s)(c)

    def _sort(self, s: State, groups: Iterable[int] | None) -> tuple[State, dict[int, int]]:
        """canon(s) and renaming(s), sorting only `groups` (None: every group)."""
        vcpus = s.vcpus
        renamed: dict[int, int] = {}
        scan = None  # scan_ahead(s), asked at most once
        twin = _twin(s)
        for g in range(len(self.groups)) if groups is None else sorted(groups):
            group = self.groups[g]
            if not self.always[g]:
                if scan is None:
                    scan = self.scan_ahead(s)
                if scan:
                    continue
            local = [vcpus[c] for c in group]
            keys = [twin(c) for c in group]
            order = sorted(range(len(group)), key=keys.__getitem__)
            if order == list(range(len(group))):  # already sorted
                continue
            for new, old in enumerate(order):
                if old != new:
                    vcpus = vcpus.set(group[new], local[old])
                    renamed[group[old]] = group[new]
        if not renamed:
            return s, renamed
        return State(vcpus, _rename_readers(s.threads, renamed), s.windows), renamed


class Twins:
    """The twins of one canonical state `s`: two vCPUs of a group, sorted in `s`,
    that nothing tells apart (`Symmetry.ties`). Swapping two twins maps `s` to
    itself, and each one's step to the other's, so their steps lead to the
    same canonical state."""

    def __init__(self, symmetry: Symmetry, s: State):
        self.symmetry = symmetry
        self.twin = _twin(s)
        # groups a scan keeps apart are not sorted in s: no twins there
        self.frozen = not all(symmetry.always) and symmetry.scan_ahead(s)

    def key(self, c: int):
        """What vCPU c shares with exactly its twins; None if it has none."""
        g = self.symmetry.group_of.get(c)
        if g is None or (self.frozen and not self.symmetry.always[g]):
            return None
        return g, self.twin(c)

    def folds(self, c: int, moved) -> bool:
        """Would sorting change vCPU c's own successor, where a twin of c with a
        lower id, stepping, took sort key `moved` (before any sorting)? c's step
        gives c that key and writes nothing else of its group; the group is
        sorted in s and c's left neighbour is a twin of c (ties sit together),
        so the successor stays sorted only if c moved up and past no one."""
        sym, twin = self.symmetry, self.twin
        key = twin(c)
        if moved == key:
            return False
        group = sym.groups[sym.group_of[c]]
        i = sym.place[c] + 1
        after = twin(group[i]) if i < len(group) else None
        return not (key < moved and (after is None or (after != key and moved <= after)))


def _twin(s: State):
    """vCPU id -> what a sort of its group compares: its fields, plus what
    synchronize_srcu has recorded of it (twins alike but for a record are
    not the same twin)."""
    vcpus = s.vcpus
    records = [dict(th.readers) for th in s.threads if th.readers]
    if not records:
        return vcpus.__getitem__
    return lambda c: (vcpus[c], tuple(r.get(c, -1) for r in records))


def _rename_readers(threads: tuple[Thread, ...], renamed: dict[int, int]) -> tuple[Thread, ...]:
    """synchronize_srcu's record follows the vCPUs it names."""
    out = []
    for th in threads:
        if th.readers:
            th = th._replace(readers=tuple(sorted((renamed.get(c, c), g) for c, g in th.readers)))
        out.append(th)
    return tuple(out)
