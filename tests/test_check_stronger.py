"""The stronger reductions: slicing, bank symmetry and commuting requests.

Each is checked twice: step by step (the rewrite is a bisimulation, the
declared commutation really commutes) and on whole searches against the
unreduced one (same verdicts, same shortest lengths). The random programs of
test_checker_reductions run every reduction too; here are the instances each
one is for.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from test_checker_reductions import (
    BASE,
    DATA,
    agree,
    lengths,
    reachable,
    successors,
    verdicts,
)

from hvtui.check.por import SETS, PartialOrder
from hvtui.check.search import Options, check
from hvtui.check.slicing import slicer
from hvtui.check.symmetry import Symmetry, interchangeable
from hvtui.cli.main import main
from hvtui.model.engine import Engine
from hvtui.model.properties import PROPERTIES, progress
from hvtui.model.state import Flush, Program, SetInhibit
from hvtui.model.steps import BY_KIND
from hvtui.model.variants import VARIANTS
from hvtui.scenario import load as scenarios
from hvtui.scenario.load import Scenario

ROOT = Path(__file__).parent.parent


def bank_program(banks: int, size: int, inhibited=(0,), clear: bool = False) -> Program:
    """`banks` banks of `size` vCPUs, the shape of many-vcpus-4096: each bank's
    head does nothing, every other member flushes its head and itself; the
    heads of `inhibited` start inhibited in user mode (and, with `clear`, a
    VMM thread clears the first one's flag)."""
    ops = []
    for c in range(banks * size):
        head = c - c % size
        ops.append(() if c == head else (Flush(f"f{c}", (head, c)),))
    heads = frozenset(b * size for b in inhibited)
    threads = (("vmm", (SetInhibit("c", min(heads), False),)),) if clear else ()
    mode = tuple((h, "user") for h in sorted(heads))
    return Program(banks * size, tuple(ops), threads, heads, mode)


def scenario_of(program: Program, variant: str = "posted") -> Scenario:
    return Scenario("<bank>", "bank", "", program.vcpus, variant, program)


# -- bank symmetry ------------------------------------------------------------------------


def test_bank_members_flushing_themselves_are_one_group_each_bank():
    program = bank_program(2, 4)
    assert interchangeable(program) == [(1, 2, 3), (5, 6, 7)]
    assert interchangeable(program, banks=False) == []  # each names itself


def test_a_renaming_that_changes_the_visiting_order_is_no_symmetry():
    """vcpu1 flushes [1, 2] (itself first), vcpu3 flushes [2, 3] (itself last):
    swapping them would change which target `check` reads first."""
    ops = ((), (Flush("a", (1, 2)),), (), (Flush("b", (2, 3)),), (Flush("c", (2, 4)),))
    program = Program(5, ops, ())
    assert interchangeable(program) == [(3, 4)]


def test_a_vcpu_another_one_flushes_is_in_no_bank():
    ops = ((), (Flush("a", (0, 1)),), (Flush("b", (0, 2)),), (Flush("c", (0, 3)),))
    ops += ((Flush("d", (2, 4)),),)  # names vcpu2
    assert interchangeable(Program(5, ops, ())) == [(1, 3)]


# two banks of 3 (two members each), or one bank of 3 whose inhibited head the VMM clears
SMALL_BANKS = [(2, 3, False), (1, 3, True)]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("banks,size,clear", SMALL_BANKS)
def test_sorting_a_bank_maps_steps_to_steps_on_every_reachable_state(banks, size, clear, variant):
    engine = Engine(bank_program(banks, size, clear=clear), VARIANTS[variant])
    symmetry = Symmetry(engine)
    swapped = 0
    for s in reachable(engine):
        c = symmetry.canon(s)
        if c is not s:
            swapped += 1
            assert successors(engine, s, symmetry.canon) == successors(engine, c, symmetry.canon)
            if not engine.enabled(s):
                assert progress(engine, s).verdict == progress(engine, c).verdict
    assert swapped > 0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("banks,size,clear", SMALL_BANKS)
def test_banks_agree_with_the_unreduced_search(banks, size, clear, variant):
    scenario = scenario_of(bank_program(banks, size, clear=clear), variant)
    base = check(scenario, variant, BASE)
    assert base.complete
    agree(scenario, variant, base)
    banked = check(scenario, variant, replace(BASE, symmetry=True))
    twins = check(scenario, variant, replace(BASE, symmetry=True, banks=False))
    assert banked.states < twins.states == base.states


def test_a_bank_scenario_grows_slowly_with_every_reduction():
    """Two banks of 8 (14 flushers at once): the unreduced search has tens of
    thousands of states; with banks and the partial order a few hundred."""
    scenario = scenario_of(bank_program(2, 8))
    reduced = check(scenario, "posted", Options())
    twins = check(scenario, "posted", Options(banks=False, max_states=20_000))
    assert reduced.complete and reduced.states < 1_000
    assert not twins.complete or twins.states > 5 * reduced.states
    assert verdicts(reduced)["progress"] == "blocked-by-design"


# -- slicing ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", ["twin-flushers.yaml", "self-flush-exit.yaml", "bystanders.yaml"])
def test_slicing_commutes_with_every_step_of_every_reachable_state(name, variant):
    engine = replace(scenarios.load(str(DATA / name)), variant=variant).engine()
    slice_ = slicer(engine.program)
    sliced = 0
    for s in reachable(engine):
        f = slice_(s)
        if f is not s:
            sliced += 1
            actors = range(len(engine.names))
            assert [engine.status(s, a) for a in actors] == [engine.status(f, a) for a in actors]
            assert successors(engine, s, slice_) == successors(engine, f, slice_)
            if not engine.enabled(s):
                assert progress(engine, s) == progress(engine, f)
    assert sliced > 0


def test_ran_stays_where_hyperv_init_reads_it():
    hot = scenarios.load(str(ROOT / "scenarios" / "hotplug-flush-all.yaml"))
    slice_ = slicer(hot.program)
    s = hot.engine().initial()
    for c in hot.program.initial_no_hyperv:
        assert slice_(s).vcpus[c].ran == s.vcpus[c].ran is False


# -- commuting requests -------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_request_only_ever_sets_the_flag_so_two_commute(variant):
    """SETS' claim on every reachable state of a scenario where two vCPUs
    request one target: the flag ends set, and two such steps commute."""
    engine = Engine(bank_program(1, 4, inhibited=()), VARIANTS[variant])
    assert ("request", "pending_flush") in SETS and "pending_flush" in {
        loc.field for loc in BY_KIND["request"].all_writes()
    }
    pairs = 0
    for s in reachable(engine):
        requests = [a for a in engine.enabled(s) if engine.status(s, a).step.kind == "request"]
        for a in requests:
            s2, _ = engine.step(s, a)
            assert s2.vcpus[engine.status(s, a).step.arg].pending_flush
        for a in requests:
            for b in requests:
                if a < b and engine.status(s, a).step.arg == engine.status(s, b).step.arg:
                    pairs += 1
                    ab = engine.step(engine.step(s, a)[0], b)[0]
                    ba = engine.step(engine.step(s, b)[0], a)[0]
                    assert ab == ba
    assert pairs > 0


def test_commuting_requests_cut_states_and_keep_verdicts():
    """Three vCPUs flush vcpu3, which is outside KVM_RUN and never services:
    their requests only set its flag, so the order of them does not matter."""
    ops = tuple((Flush(f"f{c}", (3,)),) for c in range(3)) + ((),)
    scenario = scenario_of(Program(4, ops, (), initial_mode=((3, "user"),)))
    on = check(scenario, "posted", replace(BASE, por=True))
    off = check(scenario, "posted", replace(BASE, por=True, commuting=False))
    assert verdicts(on) == verdicts(off) and lengths(on) == lengths(off)
    assert on.states < off.states
    po = PartialOrder(scenario.engine(), list(range(4)), commuting=False)
    assert not po.sets


# -- the flags, as a user gives them --------------------------------------------------------


def test_each_reduction_can_be_switched_off_from_the_command_line(capsys):
    path = str(ROOT / "scenarios" / "two-waiters.yaml")
    assert main(["check", "--quiet", path]) == 0
    on = capsys.readouterr().out
    flags = ["--no-slicing", "--no-banks", "--no-commuting"]
    assert main(["check", "--quiet", *flags, path]) == 0
    off = capsys.readouterr().out
    assert "slicing forgot flush counts" in on and "no slicing" in off

    def verdict_lines(text: str) -> list[str]:
        # the verdict, not its detail: how many end states the reduced graph has differs
        return [
            line.split(":")[0] for line in text.splitlines() if line.strip().startswith(PROPERTIES)
        ]

    assert verdict_lines(on) == verdict_lines(off)
