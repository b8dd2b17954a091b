"""Flat states: the checker's fast path for states of up to 64 vCPUs
(hvtui.check.flat) is the State path in other clothes.

Each transition of the flat graph -- the statuses it memoizes by interned
value, the violations and canonical successor it memoizes by (vCPU, id,
target's id, windows, ioctl, flags) -- is held to what the engine, the
properties and the reductions compute on real States; and whole searches
over flat states to the same searches over States (the wide path, forced
on small instances), verdicts, schedules, counts and reductions alike.
"""

from pathlib import Path

import pytest
from test_check_stronger import bank_program, scenario_of

from hvtui.check import search
from hvtui.check.flat import Flat
from hvtui.check.search import Options, _Space, check
from hvtui.model import properties as props
from hvtui.model.engine import Engine
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load

ROOT = Path(__file__).resolve().parent.parent
# what the flat memo keys must get right: reader records and pruning (sync),
# scans, kernel work, hot-plug (no context, `ran`), twins the symmetry sorts
SCENARIOS = [
    "reviewer-race.yaml",
    "three-waiters.yaml",
    "hotplug-flush-all.yaml",
    "mmio-exit-during-uninhibit.yaml",
    "ioctl-without-context.yaml",
    "self-flush-inhibited.yaml",
    "unsuspend-swapped-clobber.yaml",
    "wake-all-retry.yaml",
    "reviewer-race-no-sync.yaml",  # flushes completing with a window open
    "lost-wakeup-no-sync.yaml",  # suspensions on a flag cleared meanwhile
    "two-threads",
]
BOUND = 800
OPTIONS = {
    "all": Options(max_states=BOUND),
    "none": Options(generations=False, slicing=False, symmetry=False, por=False, max_states=BOUND),
    "generations": Options(slicing=False, symmetry=False, por=False, max_states=BOUND),
    "slicing": Options(generations=False, symmetry=False, por=False, max_states=BOUND),
    "symmetry": Options(generations=False, slicing=False, por=False, max_states=BOUND),
}


# Two VMM threads: while one is inside its ioctl on vcpu2, vcpu1's window is
# open or not with the same flags set and the same vCPU values -- only the
# windows tell a `complete` of vcpu0's flush that violates inhibit-holds
# from one that does not.
TWO_THREADS = """\
name: two-threads
vcpus: 3
initial:
  mode: {1: user, 2: user}
actors:
  vcpu0: [{id: f, op: flush, targets: [1]}]
  vmm:
    - {id: s1, op: set_inhibit, vcpu: 1, value: true}
  'vmm:b':
    - {id: s2, op: set_inhibit, vcpu: 2, value: true}
"""


def scenario(name: str):
    if name == "two-threads":
        return load.parse(TWO_THREADS, "two-threads.yaml")
    return load.load(str(ROOT / "scenarios" / name))


def walk(sc, variant: str, options: Options, limit: int = 1_000):
    """Every transition of the flat graph from the root, up to `limit` states:
    (flat, space, parent key, actor, its status, what Flat.child says)."""
    engine = Engine(sc.program, VARIANTS[variant])
    space = _Space(engine, options)
    flat = Flat(space, options.generations, options.slicing)
    root = flat.root(space.canon(engine.initial()))
    todo, seen = [root], {root}
    while todo and len(seen) < limit:
        key = todo.pop()
        statuses, enabled, _ = flat.expand(0, key)
        for a in enabled:
            out = flat.child(0, key, a, statuses[a], {})
            yield flat, space, key, a, statuses, out
            if out[1] not in seen:
                seen.add(out[1])
                todo.append(out[1])


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_flat_transition_is_the_state_transition(name, variant):
    walked = 0
    for options in (OPTIONS["all"], OPTIONS["none"]):
        for flat, space, key, a, statuses, out in walk(scenario(name), variant, options):
            engine = space.engine
            s = flat.decode(key)
            assert flat.encode(s) == key
            assert statuses == [
                engine.status(s, b) if b in space.live else flat.idle[b]
                for b in range(len(engine.names))
            ]
            s2 = engine.take(s, a, statuses[a])[0]
            k1, k2, k3, _ = space.reduce(s, s2)
            found, dedup, stored, forgot, sliced, folded = out
            assert set(found) == set(props.step_violations(engine, s, a, statuses[a].step, s2))
            assert dedup == stored and flat.decode(stored) == k3
            assert (forgot, sliced, folded) == (k1 is not s2, k2 is not k1, k3 is not k2)
            walked += 1
    assert walked > 0


def summary(result):
    verdicts = {
        p: (v.verdict, v.schedule, v.detail, v.shortest) for p, v in result.properties.items()
    }
    return (
        result.complete,
        result.states,
        result.transitions,
        result.depth,
        result.bound,
        result.reductions,
        verdicts,
    )


def both(monkeypatch, sc, variant: str, options: Options):
    """The same check over flat states and over States."""
    flat = check(sc, variant, options)
    monkeypatch.setattr(search, "_WHOLE", 0)  # every state is wide
    states = check(sc, variant, options)
    monkeypatch.undo()
    return summary(flat), summary(states)


@pytest.mark.parametrize("config", list(OPTIONS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_search_over_flat_states_is_the_search_over_states(monkeypatch, name, config):
    sc = scenario(name)
    for variant in VARIANTS:
        flat, states = both(monkeypatch, sc, variant, OPTIONS[config])
        assert flat == states, (variant, config)


@pytest.mark.parametrize("variant", ["posted", "wake-all", "no-sync"])
def test_banks_of_twins_fold_alike_over_flat_states(monkeypatch, variant):
    sc = scenario_of(bank_program(2, 4, inhibited=(0,), clear=True), variant)
    for config in ("all", "symmetry"):
        flat, states = both(monkeypatch, sc, variant, OPTIONS[config])
        assert flat == states
        assert flat[5]["symmetry"]["folded"] > 0
