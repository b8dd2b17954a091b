"""Each reduction gives the verdicts of the plain breadth-first search.

The baseline is dedup alone (a tree search gives the same, see the last
tests). Forgetting SRCU generations, symmetry and dedup keep shortest
counterexample lengths; the
partial-order reduction keeps verdicts but not lengths, which is why the
checker shortens its counterexamples in a second pass (Options.shortest);
without that pass its counterexamples are real but may be longer -- except
progress's, a path to an end state, which it keeps as short.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_programs import vcpu_op, vmm_ops

from hvtui.check.generations import forget, forgetter
from hvtui.check.por import PartialOrder
from hvtui.check.search import Options, Result, check
from hvtui.check.symmetry import Symmetry
from hvtui.model.engine import Engine
from hvtui.model.properties import VIOLATED, progress, state_violations, step_violations
from hvtui.model.state import (
    USER,
    Exit,
    Flush,
    HypervInit,
    KernelWork,
    Program,
    Run,
    SetInhibit,
)
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios
from hvtui.scenario.load import Scenario

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "check"
SMALL = sorted(DATA.glob("*.yaml")) + [
    ROOT / "scenarios" / name
    for name in ("reviewer-race.yaml", "two-waiters.yaml", "unsuspend-swapped-clobber.yaml")
]

BASE = Options(generations=False, slicing=False, symmetry=False, por=False, max_states=20_000)
REDUCED = {
    "generations": replace(BASE, generations=True),
    "slicing": replace(BASE, slicing=True),
    "symmetry": replace(BASE, symmetry=True),  # banks included
    "twins only": replace(BASE, symmetry=True, banks=False),
    "por": replace(BASE, por=True),  # commuting requests included
    "por without commuting": replace(BASE, por=True, commuting=False),
    "all": replace(BASE, generations=True, slicing=True, symmetry=True, por=True),
}


def verdicts(result: Result) -> dict[str, str]:
    return {p: v.verdict for p, v in result.properties.items()}


def lengths(result: Result) -> dict[str, int]:
    return {p: len(v.schedule) for p, v in result.properties.items() if v.verdict == VIOLATED}


def ends(result: Result) -> int | None:
    """The length of progress's schedule, if it has one (violated or blocked by design)."""
    schedule = result.properties["progress"].schedule
    return None if schedule is None else len(schedule)


def replays(scenario: Scenario, result: Result) -> None:
    """Every counterexample, stepped by a Session, fails its property at its last
    step (or, for progress, ends where nothing can step)."""
    for prop, verdict in result.properties.items():
        if verdict.verdict != VIOLATED:
            continue
        session = scenarios.replay(
            scenarios.with_schedule(replace(scenario, variant=result.variant), verdict.schedule)
        )
        if prop == "progress":
            assert session.engine.enabled(session.state) == []
            assert session.progress().verdict == VIOLATED
        else:
            first = session.first_violations()
            assert first.get(prop) == len(verdict.schedule), (prop, first)


def agree(scenario: Scenario, variant: str, base: Result) -> None:
    """`base` is the plain search's result: every reduction must match it."""
    replays(scenario, base)
    for name, options in REDUCED.items():
        reduced = check(scenario, variant, options)
        assert reduced.complete, name
        assert verdicts(reduced) == verdicts(base), name
        assert lengths(reduced) == lengths(base), name
        replays(scenario, reduced)
    quick = check(scenario, variant, replace(REDUCED["por"], shortest=False))
    assert verdicts(quick) == verdicts(base)
    for prop, n in lengths(quick).items():
        assert n >= lengths(base)[prop]
    # but a path to an end state (violated or blocked by design) keeps its
    # shortest length (hvtui.check.por)
    assert ends(quick) == ends(base) and quick.properties["progress"].shortest
    replays(scenario, quick)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", SMALL, ids=lambda p: p.stem)
def test_reductions_agree_on_the_small_scenarios(path, variant):
    scenario = scenarios.load(str(path))
    base = check(scenario, variant, BASE)
    assert base.complete
    agree(scenario, variant, base)


# -- random programs ------------------------------------------------------------------


@st.composite
def programs(draw) -> Program:
    """1-3 named vCPUs, sometimes followed by 2-3 twins: identical vCPUs (flushes
    and kernel work) that nothing names, the case the symmetry reduction folds
    -- or, half the time, a bank: each twin's flushes target itself too, so
    their programs are equal up to renaming. Among the named ones, maybe one
    without a Hyper-V context (kernel work only) for the VMM to `hyperv_init`
    while others flush it."""
    named = draw(st.integers(1, 3))
    twins = draw(st.sampled_from([0, 0, 2, 3]))
    ids = list(range(named))
    no_hyperv = frozenset(draw(st.sets(st.sampled_from(ids[1:]), max_size=1)) if named > 1 else ())
    targets = st.sets(st.sampled_from(ids), min_size=1, max_size=named)
    vcpu_ops = [
        tuple(
            draw(vcpu_op(c, j, targets, c not in no_hyperv)) for j in range(draw(st.integers(0, 1)))
        )
        for c in ids
    ]
    if twins:
        twin = [draw(vcpu_op(named, j, targets, True)) for j in range(draw(st.integers(1, 2)))]
        bank = draw(st.booleans())
        # the same ops under each twin's own ids (a bank's flushes also of itself)
        vcpu_ops += [
            tuple(_own(op, f"{op.id}.{k}", named + k if bank else None) for op in twin)
            for k in range(twins)
        ]
    threads = [("vmm", draw(vmm_ops("vmm", st.sampled_from(ids))))]
    if draw(st.booleans()):
        threads.append(("vmm:b", draw(vmm_ops("vmm:b", st.sampled_from(ids)))))
    inhibit = frozenset(draw(st.sets(st.sampled_from(ids), max_size=named))) - no_hyperv
    user = tuple((c, USER) for c in sorted(draw(st.sets(st.sampled_from(ids), max_size=1))))
    return Program(named + twins, tuple(vcpu_ops), tuple(threads), inhibit, user, no_hyperv)


def _own(op, id: str, itself: int | None):
    """op under a new id; a flush also of vCPU `itself`, if given."""
    if itself is None or not isinstance(op, Flush):
        return replace(op, id=id)
    return replace(op, id=id, targets=tuple(sorted({*op.targets, itself})))


def as_scenario(program: Program, variant: str) -> Scenario:
    return Scenario("<hypothesis>", "random", "", program.vcpus, variant, program)


@settings(
    max_examples=25,  # ~2 s each: three checks per draw; raise it for a soak
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(programs(), st.sampled_from(sorted(VARIANTS)))
def test_reductions_agree_on_random_programs(program, variant):
    scenario = as_scenario(program, variant)
    base = check(scenario, variant, BASE)
    assume(base.complete)  # a few draws are too big for the bound: not this test's subject
    agree(scenario, variant, base)


# -- each reduction does reduce ---------------------------------------------------------


def test_symmetry_folds_twin_flushers_and_keeps_every_verdict():
    """Two vCPUs run the same flush and nothing names them: the states that
    differ only by which twin is where are one state."""
    scenario = scenarios.load(str(DATA / "twin-flushers.yaml"))
    plain = check(scenario, None, BASE)
    folded = check(scenario, None, REDUCED["symmetry"])
    assert folded.reductions["symmetry"]["groups"] == 1
    assert folded.reductions["symmetry"]["folded"] > 0
    assert folded.states < plain.states
    assert verdicts(folded) == verdicts(plain) and lengths(folded) == lengths(plain)


def test_symmetry_waits_for_the_last_scan_when_twins_can_suspend():
    """The unsuspend scan visits vCPUs by id, so twins that can suspend are
    swapped only once no scan can come; with none coming they fold at once."""
    engine = scenarios.load(str(DATA / "twin-flushers.yaml")).engine()
    symmetry = Symmetry(engine)
    assert symmetry.groups == [(0, 1)] and symmetry.always == [False]
    s = engine.initial()
    ahead = s._replace(vcpus=s.vcpus.set(0, s.vcpus[0]._replace(flushes=1)))
    assert symmetry.scan_ahead(ahead) and symmetry.canon(ahead) is ahead
    # once the VMM is past its clear, the same state folds onto vcpu1 ahead
    done = ahead._replace(threads=(ahead.threads[0]._replace(op=3),))
    assert not symmetry.scan_ahead(done)
    canon = symmetry.canon(done)
    assert canon.vcpus[0].flushes == 0 and canon.vcpus[1].flushes == 1

    bystanders = Symmetry(scenarios.load(str(DATA / "bystanders.yaml")).engine())
    assert bystanders.groups == [(2, 3)] and bystanders.always == [True]


def test_partial_order_reduction_cuts_states_where_steps_are_independent():
    """vcpu2 and vcpu3 flush vcpu4, which nobody inhibits: their steps commute
    with the race on vcpu1, and the reduction explores one order of them."""
    scenario = scenarios.load(str(DATA / "bystanders.yaml"))
    plain = check(scenario, None, BASE)
    reduced = check(scenario, None, REDUCED["por"])
    assert reduced.states < plain.states / 2
    assert reduced.reductions["por"]["pruned_transitions"] > 0
    assert verdicts(reduced) == verdicts(plain) and lengths(reduced) == lengths(plain)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_tree_search_without_dedup_finds_the_same_verdicts_and_lengths(variant):
    """Without dedup every path is its own branch; it still ends, because the
    state graph is acyclic (test_checker_graph)."""
    scenario = scenarios.load(str(DATA / "self-flush-exit.yaml"))
    graph = check(scenario, variant, BASE)
    for por in (False, True):
        tree = check(scenario, variant, replace(BASE, dedup=False, por=por))
        assert tree.complete
        assert verdicts(tree) == verdicts(graph) and lengths(tree) == lengths(graph)
        assert tree.states >= graph.states
    assert "dedup" not in tree.reductions


# -- the canonical forms are bisimulations, step by step --------------------------------

walks = st.lists(st.integers(0, 2**16), max_size=80)


def successors(engine, s, canon):
    """(canonical successor, violations) of each enabled step, as a sorted list."""
    out = []
    for a in engine.enabled(s):
        s2, event = engine.step(s, a)
        out.append((repr(canon(s2)), step_violations(engine, s, a, event.step, s2)))
    return sorted(out)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(sorted(VARIANTS)), walks)
def test_forgetting_generations_changes_no_guard_no_effect_and_no_verdict(program, variant, walk):
    """Along a random walk (with retries, so generations grow), the forgotten
    state lets the same actors step, the same way, with the same verdicts."""
    engine = Engine(program, VARIANTS[variant])
    forget = forgetter(engine.variant)
    s = engine.initial()
    for choice in walk:
        f = forget(s)
        actors = range(len(engine.names))
        assert [engine.status(s, a) for a in actors] == [engine.status(f, a) for a in actors]
        assert successors(engine, s, forget) == successors(engine, f, forget)
        enabled = engine.enabled(s)
        if not enabled:
            assert progress(engine, s) == progress(engine, f)
            break
        s, _ = engine.step(s, enabled[choice % len(enabled)])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(sorted(VARIANTS)), walks)
def test_sorting_twins_maps_steps_to_steps_where_it_applies(program, variant, walk):
    """Wherever the symmetry swaps twins, the swapped state has the same
    successors (up to the same swap) with the same verdicts, and the same
    progress verdict where nothing can step."""
    engine = Engine(program, VARIANTS[variant])
    symmetry = Symmetry(engine)
    s = engine.initial()
    for choice in walk:
        c = symmetry.canon(s)
        if c is not s:
            assert successors(engine, s, symmetry.canon) == successors(engine, c, symmetry.canon)
        enabled = engine.enabled(s)
        if not enabled:
            assert progress(engine, s).verdict == progress(engine, c).verdict
            break
        s, _ = engine.step(s, enabled[choice % len(enabled)])


def test_forgetting_generations_merges_retries():
    """Three vCPUs suspend on vcpu1 and retry once it is cleared: states that
    differ only in how many times each has entered the hypercall are one."""
    scenario = scenarios.load(str(ROOT / "scenarios" / "three-waiters.yaml"))
    plain = check(scenario, None, BASE)
    merged = check(scenario, None, REDUCED["generations"])
    assert merged.reductions["generations"]["forgotten"] > 0
    assert merged.states < plain.states * 0.6
    assert verdicts(merged) == verdicts(plain) and lengths(merged) == lengths(plain)


def test_a_record_of_a_reader_that_moved_on_is_dropped():
    engine = scenarios.load(str(DATA / "inhibit-window.yaml")).engine()
    s = engine.initial()
    reader = s.vcpus[0]._replace(srcu_reader=True, srcu_gen=7)
    s = s._replace(
        vcpus=s.vcpus.set(0, reader),
        threads=(s.threads[0]._replace(pc="synced", readers=((0, 7),)),),
    )
    f = forget(s)
    assert f.vcpus[0].srcu_gen == 1 and f.threads[0].readers == ((0, 1),)
    left = s._replace(vcpus=s.vcpus.set(0, reader._replace(srcu_reader=False)))
    g = forget(left)
    assert g.vcpus[0].srcu_gen == 0 and g.threads[0].readers == ()
    assert engine.status(left, 2).enabled and engine.status(g, 2).enabled  # synced may return


def reachable(engine, limit: int = 30_000) -> list:
    """Every real state the program reaches (no reduction)."""
    seen = {engine.initial(): None}
    queue = list(seen)
    for s in queue:
        for a in engine.enabled(s):
            s2, _ = engine.step(s, a)
            if s2 not in seen:
                seen[s2] = None
                queue.append(s2)
        assert len(queue) < limit
    return queue


@pytest.mark.parametrize(
    "variant", ["posted", "no-sync", "unsuspend-swapped", "wake-all", "wake-all-retry", "own-srcu"]
)
@pytest.mark.parametrize("name", ["twin-flushers.yaml", "bystanders.yaml", "second-target.yaml"])
def test_both_canonical_forms_commute_with_the_steps_of_every_reachable_state(name, variant):
    """The same two claims as above, on every state of whole scenarios."""
    engine = replace(scenarios.load(str(DATA / name)), variant=variant).engine()
    forget = forgetter(engine.variant)
    symmetry = Symmetry(engine)
    swapped = rewritten = 0
    for s in reachable(engine):
        f = forget(s)
        if f is not s:
            rewritten += 1
            assert successors(engine, s, forget) == successors(engine, f, forget)
        c = symmetry.canon(s)
        if c is not s:
            swapped += 1
            assert successors(engine, s, symmetry.canon) == successors(engine, c, symmetry.canon)
    assert rewritten > 0
    assert swapped > 0 or not symmetry.groups


def state_predicates(engine, s) -> tuple:
    """What the state properties read: who is lost, who runs while suspended."""
    from hvtui.model.properties import in_ioctl, lost_wakeup, runs_suspended

    return (
        in_ioctl(engine, s),
        tuple(lost_wakeup(engine, s, c) for c in range(engine.n)),
        tuple(runs_suspended(engine, s, c) for c in range(engine.n)),
    )


def assert_persistent_where_reduced(engine, po, s) -> bool:
    """At `s`, if POR leaves actors out: each step it keeps fails no property that
    had not failed already, changes nothing a state property reads, and commutes
    with every step left out (both orders give the same state). True if it did."""
    statuses = [engine.status(s, a) for a in range(len(engine.names))]
    enabled = [a for a, st in enumerate(statuses) if st.enabled]
    chosen = po.ample(s, statuses, enabled) if enabled else []
    if len(chosen) == len(enabled):
        return False
    for a in chosen:
        s_a, event = engine.step(s, a)
        assert state_predicates(engine, s) == state_predicates(engine, s_a)
        # step_violations also names a state property again on a step out of
        # a state that already violates it; that was found on the way in
        for prop in step_violations(engine, s, a, event.step, s_a):
            assert prop in state_violations(engine, s), (prop, event)
        for b in set(enabled) - set(chosen):
            s_b, _ = engine.step(s, b)
            assert engine.can_step(s_a, b) and engine.can_step(s_b, a)
            assert engine.step(s_a, b)[0] == engine.step(s_b, a)[0]
    return True


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", ["bystanders.yaml", "second-target.yaml", "inhibit-window.yaml"])
def test_a_proper_persistent_set_is_invisible_and_commutes_with_the_rest(name, variant):
    """The conditions the POR soundness argument (hvtui.check.por) stands on, checked
    at every reachable state: a footprint that misses what a step reads or
    writes shows up here as two steps that do not commute."""
    engine = replace(scenarios.load(str(DATA / name)), variant=variant).engine()
    po = PartialOrder(engine, list(range(len(engine.names))))
    assert sum(assert_persistent_where_reduced(engine, po, s) for s in reachable(engine)) > 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(sorted(VARIANTS)), walks)
def test_persistent_sets_hold_along_random_walks(program, variant, walk):
    engine = Engine(program, VARIANTS[variant])
    po = PartialOrder(engine, list(range(len(engine.names))))
    s = engine.initial()
    for choice in walk:
        assert_persistent_where_reduced(engine, po, s)
        enabled = engine.enabled(s)
        if not enabled:
            break
        s, _ = engine.step(s, enabled[choice % len(enabled)])


# -- the model v2 steps, on whole state graphs --------------------------------------------

V2_PROGRAMS = {
    # vcpu0 flushes every vCPU while vcpu2 (hot-plugged) waits for its
    # KVM_SET_CPUID2; vcpu1 takes an MMIO exit while the other thread inhibits it.
    "hot-plug": Program(
        3,
        ((Flush("f", (0, 1, 2)),), (KernelWork("mmio"),), (KernelWork("mmio2"),)),
        (
            ("vmm", (HypervInit("init", 2), Run("run", 2))),
            ("vmm:b", (Exit("x", 1), SetInhibit("inh", 1, True), Run("r", 1))),
        ),
        initial_no_hyperv=frozenset({2}),
    ),
    # two interchangeable vCPUs doing kernel work beside the reviewer's race
    "mmio-twins": Program(
        4,
        ((Flush("f", (1,)),), (), (KernelWork("w2"),), (KernelWork("w3"),)),
        (
            (
                "vmm",
                (
                    Exit("x", 1),
                    SetInhibit("inh", 1, True),
                    Run("r", 1),
                    Exit("x2", 1),
                    SetInhibit("clr", 1, False),
                    Run("r2", 1),
                ),
            ),
        ),
    ),
    # the ioctl on a vCPU without a context, before and after hyperv_init,
    # while vcpu0 flushes it and a second inhibited target
    "ioctl-null": Program(
        3,
        ((Flush("f", (1, 2)),), (), ()),
        (
            (
                "vmm",
                (SetInhibit("inh", 1, True), HypervInit("init", 1), SetInhibit("inh2", 1, True)),
            ),
            ("vmm:b", (Exit("x", 2), SetInhibit("clr", 2, False), Run("r", 2))),
        ),
        initial_inhibit=frozenset({2}),
        initial_no_hyperv=frozenset({1}),
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(V2_PROGRAMS))
def test_reductions_agree_on_the_v2_programs(name, variant):
    scenario = as_scenario(V2_PROGRAMS[name], variant)
    base = check(scenario, variant, BASE)
    assert base.complete
    agree(scenario, variant, base)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(V2_PROGRAMS))
def test_every_reachable_v2_state_keeps_both_canonical_forms_and_persistent_sets(name, variant):
    engine = Engine(V2_PROGRAMS[name], VARIANTS[variant])
    forget = forgetter(engine.variant)
    symmetry = Symmetry(engine)
    po = PartialOrder(engine, list(range(len(engine.names))))
    reduced = 0
    for s in reachable(engine):
        f = forget(s)
        if f is not s:
            assert successors(engine, s, forget) == successors(engine, f, forget)
        c = symmetry.canon(s)
        if c is not s:
            assert successors(engine, s, symmetry.canon) == successors(engine, c, symmetry.canon)
        reduced += assert_persistent_where_reduced(engine, po, s)
    assert reduced > 0
    assert bool(symmetry.groups) == (name == "mmio-twins")
