"""The incremental property monitor against the properties' plain definition.

`properties.step_violations` looks at one transition and only at the vCPUs
it changed. Here the same properties are decided the slow way: inhibit
windows rebuilt from the event log, the step properties read off each
event, and `state_violations` evaluated on every whole state. For every
variant and random interleaving, the monitor reports nothing the definition
does not, and reports every step where a property turns false.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis_programs import play, programs, schedules, transitions, variants, with_races

from hvtui.model.engine import Engine
from hvtui.model.properties import (
    INHIBIT_HOLDS,
    NO_BOGUS_STATUS,
    NO_FLUSH,
    NO_LOST_WAKEUP,
    NO_NULL_DEREF,
    NO_REQUEST,
    STAYS_PUT,
    SYNC_FLUSHES_ONLY,
    state_violations,
)
from hvtui.model.state import KernelWork, SetInhibit
from hvtui.model.variants import VARIANTS

STATE_PROPERTIES = (NO_LOST_WAKEUP, STAYS_PUT)


def brute_force(engine: Engine, session, states) -> list[set[str]]:
    """Per step, every property the definition says is violated at it."""
    ops = {op.id: op for _, thread_ops in engine.program.threads for op in thread_ops}
    windows = set(engine.program.initial_inhibit)  # whose inhibit window is open
    dropped = set()  # set_inhibit ops whose write found no Hyper-V context
    found = []
    for before, actor, event, after in transitions(session, states):
        kind, _, arg = event.step.partition(" ")
        now = set(state_violations(engine, after))
        if actor < engine.n:
            if kind == "complete":
                flush = engine.ops[actor][before.vcpus[actor].op]
                if windows & set(flush.targets):
                    now.add(INHIBIT_HOLDS)
                if engine.suspended(before.vcpus[actor]):
                    now.add(STAYS_PUT)
            elif kind == "request" and int(arg) in windows:
                now.add(NO_REQUEST)
            elif kind == "service" and actor in windows:
                now.add(NO_FLUSH)
            elif kind == "check" and not before.vcpus[int(arg)].hyperv:
                now.add(NO_NULL_DEREF)
            elif kind == "s3" and after.vcpus[actor].op > before.vcpus[actor].op:
                now.add(NO_BOGUS_STATUS)  # the hypercall returned without flushing
        elif kind == "sync":
            i = actor - engine.n
            for c, _ in after.threads[i].readers:
                if isinstance(engine.ops[c][before.vcpus[c].op], KernelWork):
                    now.add(SYNC_FLUSHES_ONLY)
        op = ops.get(event.op)
        if isinstance(op, SetInhibit):
            if kind in ("compare", "write") and not before.vcpus[op.vcpu].hyperv:
                now.add(NO_NULL_DEREF)
                if kind == "write":
                    dropped.add(op.id)
            # open at the return of set_inhibit(x, true) unless its write was
            # dropped, closed at the lock of a clear
            if kind == "return" and op.value and op.id not in dropped:
                windows.add(op.vcpu)
            elif kind == "lock" and not op.value:
                windows.discard(op.vcpu)
        found.append(now)
    return found


def first_steps(per_step) -> dict[str, int]:
    first: dict[str, int] = {}
    for i, props in enumerate(per_step):
        for p in sorted(props):
            first.setdefault(p, i + 1)
    return first


@settings(max_examples=200, deadline=None)
@given(programs(), variants, schedules)
@with_races
def test_the_monitor_agrees_with_the_whole_state_definition(prog, variant, choices):
    engine = Engine(prog, VARIANTS[variant])
    session, states = play(engine, choices)
    definition = brute_force(engine, session, states)
    assert state_violations(engine, states[0]) == set()
    for i, (monitor, truth) in enumerate(zip(session.violations, definition, strict=True)):
        step = f"step {i + 1} ({session.events[i].actor} {session.events[i].step})"
        assert set(monitor) <= truth, step
        step_props = truth - set(STATE_PROPERTIES) - state_violations(engine, states[i + 1])
        assert step_props <= set(monitor), step
        turned_false = state_violations(engine, states[i + 1]) - state_violations(engine, states[i])
        assert turned_false <= set(monitor), step
    assert session.first_violations() == first_steps(definition)
