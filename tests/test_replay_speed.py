"""Session.run's fast path records what taking the same steps one by one records.

`Session.run` takes new steps on a list of vCPUs written in place, makes no
events and hands the monitor only what each step wrote; `Session.step`
goes through the engine's persistent states and builds every event. Here
the two are held to each other on random programs under every variant,
from random starting points, in pieces of random size, with and without
history: the same actors, events (made from the history when read), verdicts,
checkpoints and final state. And the work a run does grows linearly with
its steps (counted in engine calls, not timed).
"""

from __future__ import annotations

from engine_support import flush, program
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_programs import play, programs, variants

from hvtui.model.engine import Engine
from hvtui.model.session import CHECKPOINT, Session
from hvtui.model.state import Exit, Run, SetInhibit
from hvtui.model.variants import POSTED, VARIANTS

LIMIT = 3000  # far beyond any random program's run


def one_by_one(session: Session) -> Session:
    """The slow path: Session.step for every new step, in the default order."""
    taken = 0
    while taken < LIMIT and session.step_default() is not None:
        taken += 1
    return session


def assert_same_run(fast: Session, slow: Session) -> None:
    assert list(fast.actors) == list(slow.actors)
    assert fast.pos == slow.pos and fast.state == slow.state
    assert repr(fast.events).encode() == repr(slow.events).encode()
    assert fast.events == list(slow.events) and fast.violations == slow.violations
    assert fast.first_violations() == slow.first_violations()
    assert fast.progress() == slow.progress()
    assert fast._checkpoints == slow._checkpoints


def busy(n: int = 8, flushes: int = 48) -> Engine:
    """A run of several checkpoints: flushes to the neighbours, vcpu1 inhibited and cleared."""
    vmm = [Exit("k", 1), SetInhibit("on", 1, True), Run("r", 1)]
    vmm += [Exit("k2", 1), SetInhibit("off", 1, False), Run("r2", 1)]
    ops = {
        c: [flush((c + 1) % n, (c + 2) % n, id=f"f{c}.{j}") for j in range(flushes)]
        for c in range(n)
    }
    return Engine(program(n, ops, vmm=vmm), POSTED)


@settings(max_examples=150, deadline=None)
@given(programs(), variants, st.lists(st.integers(0, 2**16), max_size=30))
def test_run_records_what_stepping_one_by_one_records(prog, variant, prefix):
    engine = Engine(prog, VARIANTS[variant])
    fast, _ = play(engine, prefix)  # from wherever a person stepped to
    slow, _ = play(engine, prefix)
    fast.run(LIMIT)
    assert_same_run(fast, one_by_one(slow))


@settings(max_examples=60, deadline=None)
@given(programs(), variants, st.lists(st.integers(1, 40), min_size=1, max_size=10))
def test_a_run_in_pieces_is_the_same_run(prog, variant, pieces):
    engine = Engine(prog, VARIANTS[variant])
    whole = Session(engine)
    whole.run(LIMIT)
    split = Session(engine)
    for piece in pieces:
        split.run(piece)
    split.run(LIMIT)
    assert_same_run(split, whole)


def test_a_long_run_keeps_its_checkpoints_and_events_exactly():
    engine = busy()
    fast, slow = Session(engine), one_by_one(Session(engine))
    fast.run()
    assert fast.pos > 6 * CHECKPOINT
    assert_same_run(fast, slow)
    # events read out of order, and again, are the engine's
    for i in (fast.pos - 1, 3, CHECKPOINT, 2 * CHECKPOINT - 1, 3):
        assert fast.events[i] == slow.events[i]
    assert fast.events[-1] == slow.events[-1] and fast.events[5:9] == slow.events[5:9]


def test_after_a_step_back_run_redoes_the_recorded_steps_then_takes_new_ones():
    engine = busy()
    slow = one_by_one(Session(engine))
    fast = Session(engine)
    fast.run(3 * CHECKPOINT + 7)
    fast.goto(CHECKPOINT + 3)
    fast.run()
    assert_same_run(fast, slow)


@settings(max_examples=100, deadline=None)
@given(programs(), variants, st.lists(st.integers(0, 2**16), max_size=30))
def test_without_history_the_run_ends_alike_and_streams_the_same_events(prog, variant, prefix):
    engine = Engine(prog, VARIANTS[variant])
    full, _ = play(engine, prefix)
    full.run(LIMIT)
    bare, _ = play(engine, prefix)
    bare.drop_history()
    assert not bare.actors and not bare.events
    bare.run(LIMIT)
    assert (bare.pos, bare.state, bare.progress()) == (full.pos, full.state, full.progress())
    assert bare.first_violations() == full.first_violations()
    streamed, _ = play(engine, prefix)
    head = list(zip(streamed.events, streamed.violations, strict=True))
    streamed.drop_history()
    steps = head + list(streamed.stream())
    assert [e for e, _ in steps] == list(full.events)
    assert [found for _, found in steps] == list(full.violations)


def test_a_session_without_history_cannot_step_back():
    s = Session(busy(), history=False)
    s.run(10)
    try:
        s.back()
    except ValueError:
        pass
    else:
        raise AssertionError("stepped back without history")
    assert s.pos == 10


def test_the_work_of_a_run_grows_linearly_with_its_steps():
    """Engine calls per step stay flat as the run gets 4x longer: no step
    rescans the history or all the vCPUs (the unsuspend scan aside, which
    is one step per vCPU)."""

    def calls_per_step(flushes: int) -> float:
        engine = busy(64, flushes)
        count = [0]
        status, thread_status = engine.vcpu_status, engine.thread_status

        def counted(*args):
            count[0] += 1
            return status(*args)

        def counted_thread(*args):
            count[0] += 1
            return thread_status(*args)

        engine.vcpu_status, engine.thread_status = counted, counted_thread
        s = Session(engine)
        s.run()
        return count[0] / s.pos

    short, long = calls_per_step(4), calls_per_step(16)
    assert long < 1.25 * short, (short, long)


def test_a_quiet_run_makes_no_targets_text_and_an_event_shows_it(monkeypatch):
    """`enter`'s line names the flush's targets; a run that shows no event
    formats none of them, and an event made afterwards reads as the engine's."""
    from hvtui.model import engine as engine_module

    calls = []
    real = engine_module.format_targets
    monkeypatch.setattr(engine_module, "format_targets", lambda t: calls.append(t) or real(t))
    engine = busy()
    s = Session(engine)
    s.run()
    assert s.pos > 6 * CHECKPOINT and calls == []
    enter = next(e for e in s.events if e.kind == "enter")
    assert calls and real(engine.ops[0][0].targets) in enter.text
    assert enter == one_by_one(Session(busy())).events[enter.time - 1]


def test_targets_text_is_equal_where_the_targets_are_and_formats_as_format_targets():
    from hvtui.model.engine import TargetsText, format_targets

    wide = tuple(range(0, 4096, 3))
    a, b = TargetsText(wide), TargetsText(tuple(wide))
    assert a == b and hash(a) == hash(b) and a != TargetsText((1, 2))
    assert str(a) == format_targets(wide) and f"[{b}]" == f"[{format_targets(wide)}]"
    assert str(TargetsText((1, 2))) == "0x6" and repr(TargetsText(())) == "'none'"


def test_the_state_half_of_the_monitor_runs_only_where_a_step_can_violate_it(monkeypatch):
    """properties.watch is asked at the steps that leave the ioctl or write a
    suspended vCPU, not at every step, and the run still records what
    stepping one by one records (the test above, on random programs)."""
    from hvtui.model import session as session_module

    asked = []
    real = session_module.watch
    monkeypatch.setattr(session_module, "watch", lambda *a: asked.append(a) or real(*a))
    fast = Session(busy())
    fast.run()
    assert 0 < len(asked) < fast.pos / 10
    monkeypatch.undo()
    assert_same_run(fast, one_by_one(Session(busy())))
