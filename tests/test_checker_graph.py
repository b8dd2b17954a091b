"""The state graph is acyclic: why a tree search ends and why POR needs no proviso.

Every step moves something that never moves back: an actor's op or
position in its op, a vCPU's SRCU generation (each hypercall attempt is a
new read-side section), a flush count, or an exit consumed that only a VMM
op (which then moved on) could have requested. So no path returns to a
state it left. The checker leans on this twice: `--no-dedup` explores paths
as a tree and still ends, and the partial-order reduction needs no cycle
proviso (hvtui.check.por). These tests check the claim on whole state graphs,
both as the engine builds them and as the checker stores them (canonical).
"""

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_checker_reductions import as_scenario, programs

from hvtui.check.generations import forget
from hvtui.check.symmetry import Symmetry
from hvtui.model.engine import Engine
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios

ROOT = Path(__file__).parent.parent
FILES = sorted((Path(__file__).parent / "data" / "check").glob("*.yaml")) + [
    ROOT / "scenarios" / "reviewer-race.yaml",
    ROOT / "scenarios" / "three-waiters.yaml",
]


class TooBig(Exception):
    """The graph has more states than a test should hold."""


def graph(engine: Engine, canon=lambda s: s, limit: int = 50_000) -> dict:
    """state -> successor states, over everything reachable."""
    edges: dict = {}
    queue = [canon(engine.initial())]
    edges[queue[0]] = []
    for s in queue:
        for a in engine.enabled(s):
            s2 = canon(engine.step(s, a)[0])
            edges[s].append(s2)
            if s2 not in edges:
                edges[s2] = []
                queue.append(s2)
        if len(queue) > limit:
            raise TooBig
    return edges


def topological_order(edges: dict) -> list:
    """Kahn's algorithm: every state, parents first -- possible only without a cycle."""
    indegree = dict.fromkeys(edges, 0)
    for targets in edges.values():
        for t in targets:
            indegree[t] += 1
    ready = [s for s, d in indegree.items() if d == 0]
    order = []
    while ready:
        s = ready.pop()
        order.append(s)
        for t in edges[s]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    return order


def assert_acyclic(engine: Engine) -> None:
    symmetry = Symmetry(engine)
    for canon in (lambda s: s, lambda s: symmetry.canon(forget(s))):
        edges = graph(engine, canon)
        order = topological_order(edges)
        assert len(order) == len(edges), "some states lie on a cycle"
        assert order[0] == canon(engine.initial())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_state_graph_of_each_scenario_has_no_cycle(path, variant):
    assert_acyclic(replace(scenarios.load(str(path)), variant=variant).engine())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(programs(), st.sampled_from(sorted(VARIANTS)))
def test_the_state_graph_of_a_random_program_has_no_cycle(program, variant):
    engine = as_scenario(program, variant).engine()
    try:
        graph(engine, limit=5_000)
    except TooBig:
        assume(False)  # a draw too big to hold; the scenarios above cover big shapes
    assert_acyclic(engine)


def test_kahn_sees_a_cycle_when_there_is_one():
    """The check above can fail: a two-state loop leaves both states unordered."""
    assert topological_order({"a": ["b"], "b": ["a"], "c": ["a"]}) == ["c"]
