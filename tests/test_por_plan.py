"""With few actors, ample() reads its persistent sets off a plan found once per
tuple of the actors' parts (PartialOrder.plan); it must choose exactly what the
search of seeds it stands for (the one many actors still take) chooses, in
every reachable state, whichever properties are already decided."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_programs import programs
from test_checker_reductions import DATA, ROOT, reachable, walks

from hvtui.check.por import PartialOrder, _plan
from hvtui.model.engine import Engine
from hvtui.model.properties import INHIBIT_HOLDS, NO_LOST_WAKEUP, NO_REQUEST, STAYS_PUT
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

FILES = [DATA / "bystanders.yaml", DATA / "second-target.yaml", DATA / "wake-all-resuspend.yaml"]
FILES += [ROOT / "scenarios" / "reviewer-race.yaml", ROOT / "scenarios" / "two-waiters.yaml"]
DECIDED = [(), (NO_REQUEST, STAYS_PUT), (INHIBIT_HOLDS, NO_LOST_WAKEUP)]


def pair(engine: Engine) -> tuple[PartialOrder, PartialOrder]:
    """The planned POR and one made to search its seeds, as with many actors."""
    live = list(range(len(engine.names)))
    planned, searching = PartialOrder(engine, live), PartialOrder(engine, live)
    assert planned.few
    searching.few = False
    return planned, searching


def same_choice(engine: Engine, planned: PartialOrder, searching: PartialOrder, s) -> int:
    """Both choose the same actors at s, with every `decided`; how many proper sets."""
    statuses = [engine.status(s, a) for a in range(len(engine.names))]
    enabled = [a for a, st in enumerate(statuses) if st.enabled]
    if not enabled:
        return 0
    proper = 0
    for decided in DECIDED:
        taken: dict = {}
        chosen = planned.ample(s, statuses, enabled, taken, decided)
        assert list(chosen) == list(searching.ample(s, statuses, enabled, {}, decided))
        # the successors it took to judge visibility are the real ones
        for a, after in taken.items():
            assert after == engine.step(s, a)[0]
        proper += len(chosen) < len(enabled)
    return proper


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_plan_chooses_what_the_search_of_seeds_chooses(path, variant):
    engine = replace(scenarios.load(str(path)), variant=variant).engine()
    planned, searching = pair(engine)
    states = reachable(engine)
    assert sum(same_choice(engine, planned, searching, s) for s in states) > 0
    # found once per tuple of parts, not once a state
    assert len(planned._by_parts) < len(states)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(sorted(VARIANTS)), walks)
def test_the_plan_agrees_along_random_walks(program, variant, walk):
    engine = Engine(program, VARIANTS[variant])
    planned, searching = pair(engine)
    s = engine.initial()
    for choice in walk:
        same_choice(engine, planned, searching, s)
        enabled = engine.enabled(s)
        if not enabled:
            break
        s, _ = engine.step(s, enabled[choice % len(enabled)])


def test_a_plan_puts_lone_actors_first_then_closures_shortest_first():
    # 0 and 1 need each other, 2 needs the disabled 3, 4 needs nobody, 5 needs 0
    needs = (0b10, 0b1, 0b1000, 0, 0, 0b1)
    assert _plan((0, 1, 2, 4, 5), needs) == ((4,), (2,), (0, 1), (0, 1, 5))
    # a closure of every enabled actor is no candidate
    assert _plan((0, 1), (0b10, 0b1)) == ()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parts_alike_to_the_plan_are_one_kind(path):
    """Parts that need and are needed alike share a kind, and the plans kept by
    kinds (PartialOrder._regroup) are chosen as the search of seeds chooses
    (the test above); on these programs some parts do share one."""
    engine = scenarios.load(str(path)).engine()
    planned, searching = pair(engine)
    for s in reachable(engine):
        same_choice(engine, planned, searching, s)
    planned._regroup()
    assert len(set(planned._kinds)) < len(planned.parts_of)
