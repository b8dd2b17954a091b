"""Wide states: what the checker carries from a parent to its child is what
it would compute from scratch.

At thousands of vCPUs the search asks again only what a step changed: the
enabled set and the POR's seeds (search._Ready.after), the groups the
symmetry re-sorts (Symmetry.fold with a parent) and the dedup hash. Here,
on 128+ vCPU instances of many-vcpus-4096's shape (a VMM thread clearing a
head's flag, so scans, reader records and thread steps are among the
steps), every carried value is held to the one computed from the whole
state, and whole searches to searches that recompute everything.
"""

import pytest
from test_check_stronger import bank_program, scenario_of

from hvtui.check import por, search
from hvtui.check.search import Options, check
from hvtui.check.symmetry import Symmetry
from hvtui.model import properties as props
from hvtui.model.session import replay

BOUND = 1_500  # states per search: enough to pass scans, records and closures


def wide(variant: str = "posted"):
    """2 banks of 64: vcpu0 inhibited in user mode (its members suspend),
    the VMM clears it (the scan wakes them); bank 1 flushes freely."""
    return scenario_of(bank_program(2, 64, inhibited=(0,), clear=True), variant)


def summary(result):
    verdicts = {p: (v.verdict, v.schedule, v.detail) for p, v in result.properties.items()}
    return result.states, result.transitions, result.depth, result.reductions, verdicts


@pytest.mark.parametrize("variant", ["posted", "request-first", "wake-all"])
def test_carried_enabled_sets_and_seeds_are_the_ones_of_the_whole_state(monkeypatch, variant):
    carried = search._Ready.after
    asked = []

    def after(self, masks, child, changed):
        out = carried(self, masks, child, changed)
        assert out == self.of(child)
        asked.append(child)
        return out

    monkeypatch.setattr(search._Ready, "after", after)
    result = check(wide(variant), options=Options(max_states=BOUND))
    assert len(asked) == result.states - 1


def test_a_sort_from_the_parent_is_the_sort_of_the_whole_state(monkeypatch):
    fold = Symmetry.fold
    partial = []

    def checked(self, s, touched=None, parent=None):
        out = fold(self, s, touched, parent)
        assert out[0] == fold(self, s)[0]
        if touched is not None and parent is not None:
            partial.append(len(out[1]))
        return out

    monkeypatch.setattr(Symmetry, "fold", checked)
    check(wide(), options=Options(max_states=BOUND))
    assert len(partial) > 100
    assert max(partial) > 10  # a member moved past many twins


@pytest.mark.parametrize("variant", ["posted", "no-sync"])
def test_a_search_that_recomputes_everything_finds_the_same(monkeypatch, variant):
    """States, transitions, depth, reductions, verdicts and schedules alike."""
    options = Options(max_states=BOUND)
    carried = summary(check(wide(variant), options=options))
    monkeypatch.setattr(search._Ready, "after", lambda self, masks, child, changed: self.of(child))
    fold = Symmetry.fold
    monkeypatch.setattr(Symmetry, "fold", lambda self, s, *_: fold(self, s))
    assert summary(check(wide(variant), options=options)) == carried


def test_a_long_wide_witness_replays_to_the_state_it_names():
    """The blocked-by-design end state of 2 banks of 64 (bank 0's members
    suspended for good): the schedule the renaming-following replay builds
    is one a replay takes to the end, and it ends blocked by design."""
    scenario = scenario_of(bank_program(2, 64))
    result = check(scenario)
    assert result.complete
    verdict = result.properties[props.PROGRESS]
    assert verdict.verdict == "blocked-by-design" and len(verdict.schedule) > 300
    engine = scenario.engine()
    state, stop = replay(engine, engine.initial(), verdict.schedule)
    assert stop is None
    assert props.progress(engine, state).verdict == "blocked-by-design"
    assert not engine.enabled(state)


def free(variant: str = "posted"):
    """3 banks of 64, no VMM op: each bank is a component of its own."""
    return scenario_of(bank_program(3, 64), variant)


@pytest.mark.parametrize(
    "make,variant", [(free, "posted"), (free, "request-first"), (wide, "posted")]
)
def test_kept_walks_find_what_walks_from_scratch_find(monkeypatch, make, variant):
    """A persistent set's growth kept from an earlier state (its component
    unchanged) is the growth walked again, and the whole search is the same.
    With a VMM thread (`wide`: its scan and synchronize_srcu read every vCPU)
    there is one component and nothing is kept."""
    options = Options(max_states=BOUND)
    kept = summary(check(make(variant), options=options))
    reused = []
    walk = por._Here.walk

    def fresh(self, seed):
        out = walk(self, seed)
        reused.append(self.po.component[seed] is not None)
        assert out[:3] == self._walk(seed)[:3]  # members, stops, chosen
        return out

    monkeypatch.setattr(por._Here, "walk", fresh)
    assert summary(check(make(variant), options=options)) == kept
    assert any(reused) == (make is free)
    monkeypatch.setattr(por._Here, "walk", lambda self, seed: self._walk(seed))
    assert summary(check(make(variant), options=options)) == kept


def test_a_walk_never_leaves_its_component(monkeypatch):
    """What a seed's growth takes in (and so reads) is inside the component
    its kept walk is compared on: that is what makes keeping it sound."""
    needs = por._Here.needs
    asked = []

    def inside(self, x):
        out = needs(self, x)
        comp = self.po.component[x]
        if comp is not None:
            assert set(out) <= set(comp)
            asked.append(x)
        return out

    monkeypatch.setattr(por._Here, "needs", inside)
    check(free(), options=Options(max_states=BOUND))
    assert asked


@pytest.mark.parametrize("make,variant", [(free, "posted"), (wide, "wake-all"), (wide, "posted")])
def test_a_twins_step_leads_where_the_first_twins_did(monkeypatch, make, variant):
    """A twin's child, taken from the first twin's, is the child its own step
    gives (and the sort folds it exactly when it folds that one); the search
    that steps every twin finds the same states, transitions, counts, verdicts
    and schedules."""
    options = Options(max_states=BOUND)
    shared = summary(check(make(variant), options=options))
    child = search._Wide.child
    again = []

    def fresh(self, i, s, a, st, taken):
        twin = self.twins.key(a) if self.twins is not None and a < self.engine.n else None
        hit = twin is not None and twin in self.made
        out = child(self, i, s, a, st, taken)
        own = self._child(i, s, a, st, None)
        assert own[:6] == out[:6] and (own[6], own[7]) == (self.changed, self.hash)
        again.append(hit)
        return out

    monkeypatch.setattr(search._Wide, "child", fresh)
    assert summary(check(make(variant), options=options)) == shared
    assert any(again)
    monkeypatch.setattr(Symmetry, "twins", lambda self, s: None)
    assert summary(check(make(variant), options=options)) == shared


def test_independent_banks_add_their_states_rather_than_multiply_them():
    """Banks that never touch each other are explored one after another: each
    free bank of 64 adds the same number of states, whatever the others do."""
    counts = [check(scenario_of(bank_program(b, 64))).states for b in (2, 3, 4)]
    assert counts[2] - counts[1] == counts[1] - counts[0] < counts[0]
