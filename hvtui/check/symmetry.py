"""Symmetry reduction: vCPUs the check may swap without changing any verdict.

Two vCPU actors are interchangeable when they run the same ops (the same
flush target lists and kernel work, in order) and nothing else in the
scenario names them: no flush targets them, no VMM op acts on them,
`initial` leaves them alone.
Then the only thing that tells them apart is their id, and the id matters
in exactly two places:

- `synchronize_srcu` records readers by id: a swap renames the record too.
- the unsuspend scan visits vCPUs in ascending id order, so a swap can
  change *when* a suspended member is woken relative to the other actors.
  Swapping is therefore exact only where no scan can ever meet a suspended
  member: either the members can never suspend (none of their targets can
  be inhibited), or no `set_inhibit(false)` remains in any VMM thread.

Where it is exact, a swap is an automorphism of the state graph (it maps
steps to steps, the initial state to itself, and every property to
itself), so the checker may keep one canonical state per orbit: members
sorted by local state. Verdicts and shortest counterexample lengths are
both preserved. Counterexamples are rebuilt on real states by replaying
(hvtui.check.search), so a user never sees a canonical state.

vCPUs with no ops that nothing names never change, so they are always
alike: swapping them maps every state to itself and saves nothing.
"""

from __future__ import annotations

from hvtui.model.engine import Engine
from hvtui.model.state import Flush, Program, SetInhibit, State, Thread


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
    named = set(program.initial_inhibit) | {c for c, _ in program.initial_mode}
    named |= program.initial_no_hyperv
    for ops in program.vcpu_ops:
        named |= flush_targets(ops)
    for _, ops in program.threads:
        named.update(op.vcpu for op in ops)
    return named


def interchangeable(program: Program) -> list[tuple[int, ...]]:
    """Groups (two or more, ascending ids) of vCPU actors with the same ops that
    nothing names."""
    named = named_vcpus(program)
    by_program: dict[tuple, list[int]] = {}
    for c, ops in enumerate(program.vcpu_ops):
        if ops and c not in named:
            # a flush by its targets, kernel work as None: op ids do not matter
            shape = tuple(op.targets if isinstance(op, Flush) else None for op in ops)
            by_program.setdefault(shape, []).append(c)
    return [tuple(group) for group in by_program.values() if len(group) > 1]


class Symmetry:
    """Canonical states for one program: interchangeable vCPUs sorted by local state."""

    def __init__(self, engine: Engine):
        program = engine.program
        self.groups = interchangeable(program)
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

    def canon(self, s: State) -> State:
        """The orbit's representative; `s` itself when it already is one."""
        vcpus = s.vcpus
        renamed: dict[int, int] = {}
        scan = None  # scan_ahead(s), asked at most once
        # A twin is its vCPU fields plus what synchronize_srcu has recorded of
        # it: twins alike but for a record are not the same twin.
        records = [dict(th.readers) for th in s.threads if th.readers]
        for group, always in zip(self.groups, self.always, strict=True):
            if not always:
                if scan is None:
                    scan = self.scan_ahead(s)
                if scan:
                    continue
            local = [vcpus[c] for c in group]
            keys = local
            if records:
                keys = [(vcpus[c], tuple(r.get(c, -1) for r in records)) for c in group]
            order = sorted(range(len(group)), key=keys.__getitem__)
            if order == list(range(len(group))):  # already sorted
                continue
            for new, old in enumerate(order):
                if old != new:
                    vcpus = vcpus.set(group[new], local[old])
                    renamed[group[old]] = group[new]
        if not renamed:
            return s
        return State(vcpus, _rename_readers(s.threads, renamed), s.windows)


def _rename_readers(threads: tuple[Thread, ...], renamed: dict[int, int]) -> tuple[Thread, ...]:
    """synchronize_srcu's record follows the vCPUs it names."""
    out = []
    for th in threads:
        if th.readers:
            th = th._replace(readers=tuple(sorted((renamed.get(c, c), g) for c, g in th.readers)))
        out.append(th)
    return tuple(out)
