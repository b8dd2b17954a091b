"""The partial-order reduction on flat states (Flat.ample) chooses what
PartialOrder.ample chooses on the decoded State.

With few actors the flat graph looks each actor's part up by its interned id
(a thread's by its status memo key) and memoizes each step's visibility by
its move key, the threads' id and (windows, in the ioctl, flags set), while
the decided properties stay. Every state of a walk is held to the State
computation -- parts, each enabled step's visibility, the actors chosen --
with the properties decided growing along the walk as a search's do, so a
memo entry found under one key is read back under every state that shares
it: a field missing from a key shows as a wrong answer.
"""

import pytest
from test_check_flat import BOUND, OPTIONS, scenario

from hvtui.check.flat import Flat
from hvtui.check.por import PartialOrder
from hvtui.check.search import Options, _Space, check
from hvtui.model.engine import Engine
from hvtui.model.properties import (
    INHIBIT_HOLDS,
    NO_BOGUS_STATUS,
    NO_LOST_WAKEUP,
    NO_NULL_DEREF,
    NO_REQUEST,
    STAYS_PUT,
)
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load

SCENARIOS = [
    "reviewer-race.yaml",
    "three-waiters.yaml",
    "hotplug-flush-all.yaml",
    "self-flush-inhibited.yaml",
    "unsuspend-swapped-clobber.yaml",
    "wake-all-retry.yaml",
    "reviewer-race-no-sync.yaml",
    "lost-wakeup-no-sync.yaml",
    "two-threads",
    "three-flushers",
    "clear-then-set",
]
# what a search has decided, growing as its `found` does
DECIDED = [
    (),
    (NO_REQUEST, STAYS_PUT),
    (NO_REQUEST, STAYS_PUT, INHIBIT_HOLDS, NO_LOST_WAKEUP, NO_BOGUS_STATUS, NO_NULL_DEREF),
]
CONFIGS = {
    "all": OPTIONS["all"],
    "bare": Options(generations=False, slicing=False, symmetry=False, max_states=BOUND),
}


# vcpu3's flag is set both before the VMM clears and sets it again and after:
# a suspension on it is visible in the first (a clear is ahead) and not in the
# second, with the same values, flags and windows that may open
CLEAR_THEN_SET = """\
name: clear-then-set
vcpus: 4
initial:
  inhibit: [3]
  mode: {3: user}
actors:
  vcpu0: [{id: f, op: flush, targets: [3]}]
  vmm:
    - {id: c, op: set_inhibit, vcpu: 3, value: false}
    - {id: s, op: set_inhibit, vcpu: 3, value: true}
"""


def scenario_named(name: str):
    if name == "three-flushers":
        return load.load("benchmarks/three-flushers-vs-vcpu3.yaml")
    if name == "clear-then-set":
        return load.parse(CLEAR_THEN_SET, "clear-then-set.yaml")
    return scenario(name)


def walked(sc, variant: str, options: Options, limit: int = 1_500):
    """Breadth-first over the flat graph: at every state with more than one
    enabled actor, Flat.ample's answers next to PartialOrder's on States."""
    engine = Engine(sc.program, VARIANTS[variant])
    space = _Space(engine, options)
    flat = Flat(space, options.generations, options.slicing)
    planned, reference = PartialOrder(engine, space.live), PartialOrder(engine, space.live)
    assert planned.few and reference.few
    ample = flat.reducer(planned)
    root = flat.root(space.canon(engine.initial()))
    queue, seen = [root], {root}
    for i, key in enumerate(queue):
        decided = DECIDED[min(3 * i // limit, len(DECIDED) - 1)]
        statuses, enabled, seeds = flat.expand(i, key)
        if len(enabled) > 1:
            s = flat.decode(key)
            chosen = ample(key, statuses, enabled, {}, decided, seeds)
            assert list(chosen) == list(reference.ample(s, statuses, enabled, {}, decided))
            # (after ample: it is what starts the memo again when `decided` grows)
            parts = flat.parts(planned, key, statuses)
            assert parts == tuple(planned.part(s, a, statuses[a]) for a in space.live)
            opens, clears = reference.ahead(s)
            for a in enabled:
                expected = reference.visible(s, a, statuses[a], opens, clears, None, decided)
                assert flat.visible(planned, key, statuses, decided, a) == expected
            yield len(chosen) < len(enabled)
        for a in enabled:
            child = flat.child(i, key, a, statuses[a], {})[1]
            if child not in seen and len(queue) < limit:
                seen.add(child)
                queue.append(child)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_flat_ample_chooses_what_ample_on_states_chooses(name, config):
    sc = scenario_named(name)
    proper = sum(sum(walked(sc, variant, CONFIGS[config])) for variant in VARIANTS)
    assert proper > 0  # the reduction did leave actors out


def test_the_visibility_memo_answers_most_states_without_decoding(monkeypatch):
    decodes = []
    decode = Flat.decode
    monkeypatch.setattr(Flat, "decode", lambda self, key: decodes.append(key) or decode(self, key))
    result = check(scenario_named("three-flushers"), "request-first", Options())
    assert result.complete
    assert len(decodes) < result.states // 4
