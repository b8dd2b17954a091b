"""The engine's memos and the property monitor's shortcuts, against what they stand for.

`Engine` remembers a vCPU's status by its value and a vCPU's move (the
effect's outcome, line key and writes) by its value and, at a target, the
target's: that is exact only if a vCPU step's effect reads nothing else.
test_steps_footprints perturbs a state and takes the step again, which a
memo would answer from memory; here the effects are called themselves.
`step_violations` decides in_ioctl from the pc and from set_inhibit's phases
instead of asking every thread's op; here against the definition.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_programs import programs, schedules, variants
from test_steps_footprints import COVERING, _perturbations, _reachable

from hvtui.model import engine as engine_module
from hvtui.model import properties
from hvtui.model.engine import Engine
from hvtui.model.properties import in_ioctl, step_violations
from hvtui.model.state import SetInhibit, State, Vec
from hvtui.model.steps import BY_KIND
from hvtui.model.variants import VARIANTS


def _raw_move(engine: Engine, s: State, c: int):
    """vcpu c's next step, computed by its effect without any memo."""
    st = engine.status(s, c)
    return BY_KIND[st.step.kind].effect(engine, s, c, s.vcpus[c])


@pytest.mark.parametrize("program", [p for p, _ in COVERING], ids=range(len(COVERING)))
def test_a_vcpu_step_reads_only_its_own_vcpu_and_its_target(program):
    for variant in VARIANTS.values():
        engine = Engine(program, variant)
        for s in _reachable(engine, 200):
            for c in range(engine.n):
                st = engine.status(s, c)
                if not st.enabled:
                    continue
                move = _raw_move(engine, s, c)
                mine = {c} if st.step.arg is None else {c, st.step.arg}
                for (field, kind, u), p in _perturbations(engine, s):
                    if kind == "vcpu" and u in mine and field != "windows":
                        continue
                    assert _raw_move(engine, p, c) == move, (
                        f"vcpu{c} {st.step} reads {field} of {kind} {u}: the move memo is unsound"
                    )


def _same_as_fresh(engine: Engine, s: State) -> None:
    """Every actor's status and step from `s` as an engine that remembers nothing has them."""
    fresh = Engine(engine.program, engine.variant)
    for a in range(len(engine.names)):
        st = engine.status(s, a)
        assert st == fresh.status(s, a)
        if st.enabled:
            after, d, case, key = engine.take(s, a, st)
            assert (after, d, case, key) == fresh.take(s, a, st)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), variants, schedules)
def test_a_warm_engine_answers_as_a_cold_one(program, variant, walk):
    engine = Engine(program, VARIANTS[variant])
    s = engine.initial()
    for choice in walk:
        _same_as_fresh(engine, s)
        enabled = engine.enabled(s)
        if not enabled:
            break
        s, _ = engine.step(s, enabled[choice % len(enabled)])


def test_a_full_memo_starts_again_and_answers_the_same(monkeypatch):
    program = COVERING[0][0]
    monkeypatch.setattr(engine_module, "_MEMO", 3)
    engine = Engine(program, VARIANTS["posted"])
    values = [set() for _ in range(engine.n)]
    for s in _reachable(engine, 300):
        _same_as_fresh(engine, s)
        for c, v in enumerate(s.vcpus):
            values[c].add(v)
        for memo in (engine._statuses, engine._moves):
            assert sum(len(m) for m in memo.of) <= 3
    assert max(len(vs) for vs in values) > 3, "the memo never filled: the test proves nothing"


def _definition(engine: Engine, s: State) -> bool:
    """in_ioctl as docs/model.md says it: a thread past the `lock` of a set_inhibit."""
    return any(
        th.pc and th.op < len(ops) and isinstance(ops[th.op], SetInhibit)
        for th, (_, ops) in zip(s.threads, engine.program.threads, strict=True)
    )


@pytest.mark.parametrize("program", [p for p, _ in COVERING], ids=range(len(COVERING)))
def test_in_ioctl_and_the_phases_agree_with_the_definition(program):
    for variant in VARIANTS.values():
        engine = Engine(program, variant)
        for s in _reachable(engine, 200):
            assert in_ioctl(engine, s) == _definition(engine, s)
            for a in range(engine.n, len(engine.names)):
                st = engine.status(s, a)
                if not st.enabled:
                    continue
                after = engine.take(s, a, st)[0]
                if st.step.kind in properties._INSIDE_BEFORE:
                    assert _definition(engine, s), f"{st.step} is taken inside the ioctl"
                if st.step.kind in properties._INSIDE_AFTER:
                    assert _definition(engine, after), f"{st.step} leaves the thread inside"


@pytest.mark.parametrize("program", [p for p, _ in COVERING], ids=range(len(COVERING)))
def test_step_violations_reads_a_text_step_and_unrelated_states_alike(program):
    """A step given as text ("check 1"), and an `after` not made from `before`
    (Vec.touched knows nothing: every slot is compared), judge the same."""
    for variant in VARIANTS.values():
        engine = Engine(program, variant)
        for s in _reachable(engine, 200):
            for a in engine.enabled(s):
                st = engine.status(s, a)
                after = engine.take(s, a, st)[0]
                rebuilt = State(Vec.of(list(after.vcpus)), after.threads, after.windows)
                assert rebuilt.vcpus.touched(s.vcpus) is None
                found = step_violations(engine, s, a, st.step, after)
                assert step_violations(engine, s, a, str(st.step), rebuilt) == found
