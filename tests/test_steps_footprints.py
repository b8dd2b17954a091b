"""Every step's declared footprint against what its effect really does.

hvtui.model.steps declares, per step, the locations it reads and writes;
the partial-order reduction and the visibility of steps to properties are
derived from those declarations alone. Here the declarations meet the
effects, on random reachable states (hypothesis) and on every reachable
state of small scenarios:

- writes: every location the step changed is declared (for its outcome);
- reads: changing any location the step does not declare reading changes
  neither its status nor its outcome, and changes the state after it only
  at that location (unless the step overwrote it);
- and the scenarios reach every outcome of every step, so no declaration
  goes unchecked.

A declaration that lies fails here, naming the step and the location.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_checker_v2 as v2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_programs import programs, variants

from hvtui.model.engine import Engine
from hvtui.model.state import (
    KVM_RUN,
    MODES,
    USER,
    Exit,
    Flush,
    HypervInit,
    Program,
    Run,
    State,
    Vcpu,
)
from hvtui.model.steps import BY_KIND, OP_PHASES, STEPS, THREAD, Loc, bind
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

DATA = Path(__file__).parent / "data" / "check"
SCENARIOS = Path(__file__).parent.parent / "scenarios"

_POS = ("op", "pc", "k")
_FIELDS = tuple(f for f in Vcpu._fields if f not in _POS)


def _bound(engine: Engine, s: State, a: int, where) -> set[tuple[str, str, int]]:
    """Declared locations as (field, "thread" or "vcpu", id)."""
    return {
        (field, "thread" if who == THREAD else "vcpu", u)
        for field, who in where
        for u in bind(engine, s, a, who)
    }


def _in_ioctl(engine: Engine, s: State, j: int) -> bool:
    th, (_, ops) = s.threads[j], engine.program.threads[j]
    return bool(th.pc) and th.op < len(ops) and ops[th.op].op == "set_inhibit"


def _changed(engine: Engine, s: State, t: State) -> set[tuple[str, str, int]]:
    """Every location whose value differs between s and t."""
    out = set()
    for u, (v, w) in enumerate(zip(s.vcpus, t.vcpus, strict=True)):
        out |= {(f, "vcpu", u) for f in _FIELDS if getattr(v, f) != getattr(w, f)}
        if tuple(getattr(v, f) for f in _POS) != tuple(getattr(w, f) for f in _POS):
            out.add(("pos", "vcpu", u))
    for j, (x, y) in enumerate(zip(s.threads, t.threads, strict=True)):
        if (x.op, x.pc, x.w) != (y.op, y.pc, y.w):
            out.add(("pos", "thread", j))
        if x.readers != y.readers:
            out.add(("readers", "thread", j))
        if _in_ioctl(engine, s, j) != _in_ioctl(engine, t, j):
            out.add(("in_ioctl", "thread", j))
    out |= {("windows", "vcpu", u) for u in range(engine.n) if (s.windows ^ t.windows) >> u & 1}
    return out


def _perturbations(engine: Engine, s: State):
    """(location, state with only that location changed), for every location
    but the actors' positions."""
    n = engine.n
    for u, v in enumerate(s.vcpus):
        for f in _FIELDS:
            old = getattr(v, f)
            if isinstance(old, bool):
                new = not old
            elif f == "waiting_on":
                new = -1 if old != -1 else (u + 1) % n
            elif f == "mode":
                new = MODES[(MODES.index(old) + 1) % len(MODES)]
            elif f == "mutex":
                new = "" if old else KVM_RUN
            else:
                new = old + 1
            yield (f, "vcpu", u), s._replace(vcpus=s.vcpus.set(u, v._replace(**{f: new})))
    for j, th in enumerate(s.threads):
        threads = list(s.threads)
        threads[j] = th._replace(readers=th.readers + ((0, 99),))
        yield ("readers", "thread", j), s._replace(threads=tuple(threads))
    for u in range(n):
        yield ("windows", "vcpu", u), s._replace(windows=s.windows ^ (1 << u))


def _status_reads(engine: Engine, s: State, a: int, st) -> tuple[Loc, ...]:
    """What a's status declares reading: its next step's reads, or for a vCPU
    outside an op the reads of every step it chooses among."""
    if a < engine.n and s.vcpus[a].mode != "kernel":
        v = s.vcpus[a]
        ops = engine.ops[a]
        first = OP_PHASES[ops[v.op].op][0][0] if v.op < len(ops) else None
        return tuple(loc for d in engine._choice[first] for loc in d.reads_under(engine.variant))
    return BY_KIND[st.step.kind].reads_under(engine.variant) if st.step else ()


def check_state(engine: Engine, s: State, seen: set | None = None) -> None:
    """Every actor's next step from s against its declaration."""
    for a in range(len(engine.names)):
        name = engine.names[a]
        st = engine.status(s, a)
        reads = _bound(engine, s, a, _status_reads(engine, s, a, st))
        if st.enabled:
            after, d, case, key = engine.take(s, a, st)
            if seen is not None:
                seen.add((d.kind, case))
            writes = _bound(engine, s, a, d.case_writes(case))
            missing = _changed(engine, s, after) - writes
            assert not missing, f"{name} {st.step} ({case}) writes undeclared {sorted(missing)}"
        for loc, p in _perturbations(engine, s):
            if loc in reads:
                continue
            where = f"{loc[0]}[{loc[1]} {loc[2]}]"
            assert engine.status(p, a) == st, f"{name} {st.step}: its status reads {where}"
            if not st.enabled:
                continue
            after_p, _, case_p, key_p = engine.take(p, a, st)
            assert (case_p, key_p) == (case, key), f"{name} {st.step}: its outcome reads {where}"
            allowed = set() if loc in writes else {loc}
            extra = _changed(engine, after, after_p) - allowed
            assert not extra, f"{name} {st.step}: with {where} changed, it changes {extra} too"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), variants, st.lists(st.integers(0, 2**16), min_size=10, max_size=80))
def test_declared_footprints_cover_what_steps_read_and_write(program, variant, walk):
    engine = Engine(program, VARIANTS[variant])
    s = engine.initial()
    check_state(engine, s)
    for choice in walk:
        enabled = engine.enabled(s)
        if not enabled:
            break
        s, _ = engine.step(s, enabled[choice % len(enabled)])
        check_state(engine, s)


def _reachable(engine: Engine, limit: int = 300) -> list[State]:
    seen = {engine.initial(): None}
    queue = list(seen)
    for s in queue:
        for a in engine.enabled(s):
            s2, _ = engine.step(s, a)
            if s2 not in seen and len(seen) < limit:
                seen[s2] = None
                queue.append(s2)
    return queue


# A vCPU suspended on a flag nobody clears, kicked out of KVM_RUN twice and run
# again: the exits and entries the other programs do not take.
CORNERS = Program(
    2,
    ((Flush("f", (1,)),), ()),
    (("vmm", (Exit("k1", 0), Exit("k2", 0), Run("r", 0))),),
    frozenset({1}),
)
# KVM_SET_CPUID2 on a vCPU that has a context, and on one that has run without.
CPUID = Program(
    2,
    ((), ()),
    (("vmm", (HypervInit("i0", 0), Run("r1", 1), Exit("k1", 1), HypervInit("i1", 1))),),
    initial_mode=((0, USER),),
    initial_no_hyperv=frozenset({1}),
)
# Each program, and how many of its states (per variant) it takes to reach
# every outcome the others do not (s3's retry needs wake-all-retry's 465th).
COVERING = (
    (scenarios.load(str(DATA / "inhibit-window.yaml")).program, 300),
    (scenarios.load(str(SCENARIOS / "clear-twice.yaml")).program, 300),
    (CORNERS, 300),
    (CPUID, 300),
    (v2.TWO_CLEARS, 500),
    (v2.HOT_PLUG, 300),
    (v2.IOCTL, 300),
    (v2.MMIO, 300),
)


def test_small_programs_reach_every_outcome_of_every_step_and_agree_with_it():
    seen: set[tuple[str, str]] = set()
    for program, limit in COVERING:
        for variant in VARIANTS.values():
            engine = Engine(program, variant)
            for s in _reachable(engine, limit):
                check_state(engine, s, seen)
    declared = {(d.kind, case) for d in STEPS for case in d.cases}
    assert declared - seen == set(), "outcomes nothing reaches: their footprints go unchecked"


def test_a_wrong_declaration_fails_loudly(monkeypatch):
    """The check is not vacuous: a step that hides a read or a write is caught."""
    from dataclasses import replace

    from hvtui.model import steps

    path = DATA / "inhibit-window.yaml"
    engine = scenarios.load(str(path)).engine()
    states = _reachable(engine)
    for kind, attr, drop in (("check", "reads", "inhibit"), ("request", "writes", "pending_flush")):
        d = steps.BY_KIND[kind]
        lying = replace(d, **{attr: tuple(loc for loc in getattr(d, attr) if loc.field != drop)})
        monkeypatch.setitem(steps.BY_KIND, kind, lying)
        monkeypatch.setattr("hvtui.model.engine.BY_KIND", steps.BY_KIND)
        with pytest.raises(AssertionError, match=drop):
            for s in states:
                check_state(engine, s)
        monkeypatch.setitem(steps.BY_KIND, kind, d)
