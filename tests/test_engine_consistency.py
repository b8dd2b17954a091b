"""Random programs under random schedules never leave the model's rules.

Whatever the interleaving and the variant, the state stays one the kernel
could be in, stepping back returns the very state first reached, and the
same schedule always logs the same bytes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_programs import play, programs, schedules, transitions, variants, with_races

from hvtui.model.engine import DONE, Engine
from hvtui.model.session import Session
from hvtui.model.state import BLOCKED, GUEST, KERNEL, KVM_RUN, USER, State
from hvtui.model.variants import VARIANTS

RUN = settings(max_examples=100, deadline=None)


def assert_consistent(engine: Engine, s: State) -> None:
    n = engine.n
    for c, v in enumerate(s.vcpus):
        assert v.waiting_on == -1 or 0 <= v.waiting_on < n, (c, v)
        # KVM_RUN holds vcpu->mutex exactly while the thread is inside it
        assert (v.mode in (GUEST, KERNEL, BLOCKED)) == (v.mutex == KVM_RUN), (c, v)
        assert v.mode in (USER, GUEST, KERNEL, BLOCKED), (c, v)
        # only the hypercall and kernel work run under srcu_read_lock(&kvm->srcu)
        assert v.srcu_reader == (v.mode == KERNEL), (c, v)
        # own-srcu: the flush hypercall, and it alone, holds the flush path's domain
        in_flush = v.mode == KERNEL and v.pc != "vmentry"
        assert v.flush_srcu_reader == (in_flush and engine.variant.own_srcu), (c, v)
        if not v.hyperv:
            # no context: no flag, never suspended, never inside a flush hypercall
            assert not v.inhibit and not v.suspended and v.waiting_on == -1, (c, v)
            assert not in_flush and c in engine.program.initial_no_hyperv, (c, v)
        if not v.ran:
            assert v.mode == USER, (c, v)
        if engine.suspended(v):
            # suspended-stays-put, kept by construction: only the hypercall
            # suspends, and its next line (s3) blocks
            assert v.mode != GUEST, (c, v)
            assert v.mode != KERNEL or v.pc == "s3", (c, v)
    for a in range(len(engine.names)):
        st_ = engine.status(s, a)
        assert st_.enabled or st_.why, (engine.names[a], st_)
        assert (st_.why == DONE) == (not st_.step), (engine.names[a], st_)


@RUN
@given(programs(), variants, schedules)
@with_races
def test_random_interleavings_keep_the_state_consistent(prog, variant, choices):
    engine = Engine(prog, VARIANTS[variant])
    session, states = play(engine, choices)
    assert_consistent(engine, states[0])
    for before, actor, event, after in transitions(session, states):
        assert_consistent(engine, after)
        if event.step == "complete":
            assert not engine.suspended(before.vcpus[actor]), "a suspended vCPU completed"
        assert event.actor == engine.names[actor]


@RUN
@given(programs(), variants, schedules, st.data())
def test_step_back_and_goto_return_the_identical_state(prog, variant, choices, data):
    engine = Engine(prog, VARIANTS[variant])
    session, states = play(engine, choices)
    end = session.pos
    for pos in range(end, 0, -1):
        assert session.state == states[pos]
        session.back()
    assert session.pos == 0 and session.state == states[0]
    for pos in data.draw(st.lists(st.integers(0, end), max_size=12)):
        session.goto(pos)
        assert (session.pos, session.state) == (pos, states[pos])
    session.goto(end)
    assert session.state == states[end]


@RUN
@given(programs(), variants, schedules)
def test_replaying_the_same_actors_logs_byte_identical_events(prog, variant, choices):
    engine = Engine(prog, VARIANTS[variant])
    first, _ = play(engine, choices)
    again = Session(Engine(prog, VARIANTS[variant]))
    for actor in first.actors:
        again.step(actor)
    assert repr(again.events).encode() == repr(first.events).encode()
    assert again.violations == first.violations
    assert again.state == first.state
