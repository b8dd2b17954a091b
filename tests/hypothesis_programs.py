"""Hypothesis strategies: random programs and random schedules over them.

Small on purpose (1-4 vCPUs, a few ops each): every step kind, variant
branch and wait reason is reachable in a few dozen steps, and a failure
shrinks to an interleaving a person can read. Programs mix flushes with
kernel work, and some vCPUs start without a Hyper-V context (no flushes of
their own, as the loader requires) for a VMM thread to `hyperv_init`.
"""

from __future__ import annotations

from hypothesis import strategies as st

from hvtui.model.engine import Engine, Event
from hvtui.model.session import Session
from hvtui.model.state import (
    USER,
    Exit,
    Flush,
    HypervInit,
    KernelWork,
    Program,
    Run,
    SetInhibit,
    State,
)
from hvtui.model.variants import VARIANTS

MAX_STEPS = 160


@st.composite
def vmm_ops(draw, name: str, vcpu) -> tuple:
    """A VMM thread's ops, mostly whole ioctl calls the way a VMM makes them.

    A set_inhibit can only lock the vCPU's mutex once the vCPU is out of
    KVM_RUN, so a block kicks it out, flips the flag and runs it again; a
    few bare ops are mixed in to reach the odd orders too (a hot-plugged
    vCPU's KVM_SET_CPUID2, `hyperv_init`, among them).
    """
    ops: list = []
    for kind in draw(st.lists(st.sampled_from(["set", "clear", "bare"]), min_size=1, max_size=4)):
        x = draw(vcpu)
        j = len(ops)
        if kind == "bare":
            bare = draw(st.sampled_from([SetInhibit, SetInhibit, Run, Exit, HypervInit]))
            ops.append(
                bare(f"{name}.{j}", x, draw(st.booleans()))
                if bare is SetInhibit
                else bare(f"{name}.{j}", x)
            )
            continue
        ops += [
            Exit(f"{name}.{j}", x),
            SetInhibit(f"{name}.{j + 1}", x, kind == "set"),
            Run(f"{name}.{j + 2}", x),
        ]
    return tuple(ops)


@st.composite
def vcpu_op(draw, c: int, j: int, targets, flushes: bool):
    """A flush of some targets (when the vCPU may flush) or kernel work."""
    if flushes and draw(st.integers(0, 3)):
        chosen = sorted(draw(targets))
        # spec as a scenario file would write it, so a saved program keeps its targets
        return Flush(f"f{c}.{j}", tuple(chosen), spec=chosen)
    return KernelWork(f"k{c}.{j}")


@st.composite
def programs(draw) -> Program:
    n = draw(st.integers(1, 4))
    vcpu = st.integers(0, n - 1)
    # at most one vCPU without a Hyper-V context, none when N = 1
    no_hyperv = frozenset(draw(st.sets(st.integers(1, n - 1), max_size=1)) if n > 1 else ())
    targets = st.sets(vcpu, min_size=1, max_size=n)
    vcpu_ops = tuple(
        tuple(
            draw(vcpu_op(c, j, targets, c not in no_hyperv)) for j in range(draw(st.integers(0, 2)))
        )
        for c in range(n)
    )
    names = draw(st.sampled_from([("vmm",), ("vmm", "vmm:b")]))
    threads = tuple((name, draw(vmm_ops(name, vcpu))) for name in names)
    inhibit = frozenset(draw(st.sets(vcpu, max_size=n))) - no_hyperv
    user = tuple((c, USER) for c in sorted(draw(st.sets(vcpu, max_size=n))))
    return Program(n, vcpu_ops, threads, inhibit, user, no_hyperv)


variants = st.sampled_from(sorted(VARIANTS))

# Each choice picks among the actors enabled at that step (modulo their count).
schedules = st.lists(st.integers(0, 2**16), min_size=MAX_STEPS // 4, max_size=MAX_STEPS)


def play(engine: Engine, choices: list[int]) -> tuple[Session, list[State]]:
    """A session stepped by the choices; every state it reached, from the initial one."""
    session = Session(engine)
    states = [session.state]
    for choice in choices:
        enabled = engine.enabled(session.state)
        if not enabled:
            break
        session.step(enabled[choice % len(enabled)])
        states.append(session.state)
    return session, states


def transitions(session: Session, states: list[State]):
    """(before, actor, event, after) for every step of a played session."""
    events: list[Event] = session.events
    return zip(states[:-1], session.actors, events, states[1:], strict=True)


def choices_for(prog: Program, variant: str, actors: tuple[str, ...]) -> list[int]:
    """The choices that make `play` step exactly these actors."""
    engine = Engine(prog, VARIANTS[variant])
    s = engine.initial()
    out = []
    for name in actors:
        actor = engine.index[name]
        out.append(engine.enabled(s).index(actor))
        s, _ = engine.step(s, actor)
    return out


def with_races(test):
    """Also run `test` on every known race (engine_support.RACES), whatever hypothesis draws."""
    from engine_support import RACES
    from hypothesis import example

    for race in RACES.values():
        test = example(race.program, race.variant, choices_for(*race[:3]))(test)
    return test
