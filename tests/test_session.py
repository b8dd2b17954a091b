"""Session: the trace a person steps through, its default order and its history.

History is the actors that stepped plus one checkpoint state every
CHECKPOINT steps, so any earlier state is rebuilt by replaying at most
CHECKPOINT steps, and stepping back returns the very state first reached.
"""

from __future__ import annotations

from engine_support import Walk, flush, program
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_programs import programs, variants

from hvtui.model.engine import Engine
from hvtui.model.session import CHECKPOINT, Session
from hvtui.model.state import Exit, SetInhibit
from hvtui.model.variants import POSTED, VARIANTS


def busy(n: int = 4, flushes: int = 8) -> Session:
    """Every vCPU flushes its neighbour `flushes` times: a long, simple trace."""
    prog = program(
        n, {c: [flush((c + 1) % n, id=f"f{c}.{j}") for j in range(flushes)] for c in range(n)}
    )
    return Session(Engine(prog, POSTED))


def test_round_robin_starts_with_vcpu0_and_continues_after_the_last_to_step():
    w = Walk(program(3, {0: [flush(1)], 2: [flush(1)]}))
    s = w.session
    assert s.next_default() == 0
    s.step(2)  # vcpu2 steps out of turn
    assert s.next_default() == 0  # after vcpu2 the order wraps around to vcpu0
    s.step(0)
    assert s.next_default() == 2  # vcpu1 has nothing to do: skipped
    s.run()
    assert [e.actor for e in s.events[:6]] == ["vcpu2", "vcpu0", "vcpu2", "vcpu0", "vcpu2", "vcpu0"]


def test_vmm_threads_come_after_the_vcpus_vmm_first():
    prog = program(1, {0: [flush(0)]}, vmm=[Exit("a", 0)], threads={"vmm:b": [Exit("b", 0)]})
    w = Walk(prog)
    assert w.engine.names == ["vcpu0", "vmm", "vmm:b"]
    w.session.run(3)
    assert [e.actor for e in w.session.events] == ["vcpu0", "vmm", "vmm:b"]


def test_run_stops_when_nothing_can_step_or_at_its_limit():
    s = busy(2, 2)
    assert s.run(5) == 5 and s.pos == 5
    total = 5 + s.run()
    assert s.at_end and s.pos == total
    assert s.run() == 0 and s.step_default() is None


def test_back_then_step_default_redoes_the_recorded_step():
    s = busy()
    s.run(10)
    events, state = list(s.events), s.state
    s.back()
    s.back()
    assert s.pos == 8
    assert s.step_default() is events[8]
    assert s.step_default() is events[9]
    assert s.state == state and s.events == events


def test_stepping_the_recorded_actor_after_back_keeps_the_future():
    s = busy()
    s.run(10)
    s.goto(4)
    s.step(s.actors[4])
    assert s.pos == 5 and len(s.events) == 10


def test_a_different_step_after_back_drops_the_recorded_future():
    s = busy(4, 40)  # past CHECKPOINT + 5 steps
    s.run(CHECKPOINT * 3)
    pos = CHECKPOINT + 5
    s.goto(pos)
    recorded = s.actors[pos]
    other = next(a for a in s.enabled() if a != recorded)
    before = s.state
    event = s.step(other)
    assert len(s.actors) == len(s.events) == len(s.violations) == pos + 1
    assert event.time == pos + 1 and event.actor == s.engine.names[other]
    assert s.state == s.engine.step(before, other)[0]
    assert len(s._checkpoints) == pos // CHECKPOINT + 1
    s.run(CHECKPOINT * 2)
    for p in (pos + CHECKPOINT, pos, 3):  # the new branch steps back exactly too
        expected = Session(s.engine)
        for a in s.actors[:p]:
            expected.step(a)
        s.goto(p)
        assert s.state == expected.state


def test_goto_clamps_to_the_recorded_steps():
    s = busy(2, 1)
    s.run()
    end = s.pos
    s.goto(-3)
    assert s.pos == 0 and s.state == s.initial
    s.goto(end + 50)
    assert s.pos == end


def test_step_back_replays_at_most_checkpoint_steps():
    s = busy(8, 40)
    s.run()
    assert s.pos > 4 * CHECKPOINT
    calls = []
    step = s.engine.step_with  # every replay steps through it

    def counting(state, actor, status, time=0):
        calls.append(actor)
        return step(state, actor, status, time)

    s.engine.step_with = counting
    worst = 0
    for pos in range(s.pos - 1, -1, -1):
        calls.clear()
        s.back()
        assert s.pos == pos
        worst = max(worst, len(calls))
    assert worst == CHECKPOINT - 1  # from the checkpoint below, never from the start


def test_history_keeps_one_state_per_checkpoint_not_per_step():
    s = busy(8, 40)
    s.run()
    assert len(s._checkpoints) == s.pos // CHECKPOINT + 1
    assert len(s.actors) == len(s.events) == len(s.violations) == s.pos


def test_first_violations_and_verdicts_follow_the_current_position():
    prog = program(2, {0: [flush(1)]}, vmm=[SetInhibit("inh", 1, True)], user=(1,))
    w = Walk(prog, "no-sync")
    w("vcpu0", "vcpu0", "vmm", "vmm", "vmm", "vmm", "vcpu0", "vcpu0")
    s = w.session
    assert s.first_violations() == {"no-request-while-inhibited": 7, "inhibit-holds": 8}
    s.goto(7)
    assert s.first_violations() == {"no-request-while-inhibited": 7}
    assert s.verdicts()["inhibit-holds"] == "holds"
    assert s.verdicts()["progress"] == "pending"
    s.goto(8)
    assert s.verdicts()["progress"] == "holds"


def round_robin(session: Session) -> int | None:
    """The documented default order, asked of the engine actor by actor."""
    engine, count = session.engine, len(session.engine.names)
    start = session.actors[session.pos - 1] + 1 if session.pos else 0
    for i in range(count):
        a = (start + i) % count
        if engine.status(session.state, a).enabled:
            return a
    return None


@settings(max_examples=100, deadline=None)
@given(programs(), variants, st.lists(st.integers(0, 2**16), max_size=80))
def test_the_cached_round_robin_is_the_documented_one(prog, variant, moves):
    """Session remembers statuses between steps; it must pick what a full scan picks."""
    s = Session(Engine(prog, VARIANTS[variant]))
    for move in moves:
        assert s.next_default() == round_robin(s)
        for a in range(len(s.engine.names)):
            assert s.status(a) == s.engine.status(s.state, a)
        if move % 5 == 0 and s.pos:
            s.goto(move % s.pos)  # wander back: the cache must notice
        elif s.step_default() is None:
            break
