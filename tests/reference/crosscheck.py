"""The reference model against `hvtui.check.search.check`: verdicts and lengths.

`disagreements(program, variant)` names every property on which the two
differ: the verdict, or the length of a shortest schedule (hvtui's
counterexamples are shortest by design; one its checker itself marks as not
shortest, a blocked-by-design end found under the partial order, has only
its verdict compared). `python -m reference.crosscheck N SEED` (from
tests/) runs a batch of N random programs under every variant, half drawn
by tests/hypothesis_programs.py and half as scenario files by
tests/scenario_strategies.py (then loaded, as a user's file would be);
`python -m reference.crosscheck N SEED twins` runs twin_programs instead,
`... wide` wide_programs (every v2 feature, up to 6 vCPUs and 3 VMM
threads), and `... literal` compares wide_programs' verdicts with
reference.literal, the model whose vCPUs take any step whose guard holds.
"""

from __future__ import annotations

import functools
import sys

from hypothesis import strategies as st

from hvtui.check.search import check
from hvtui.model.state import Exit, Flush, HypervInit, KernelWork, Program, Run, SetInhibit
from hvtui.scenario.value import Scenario
from reference.model import PROGRESS, TOO_BIG, VIOLATED, Model, end_of, explore, replay


def as_scenario(program: Program, variant: str) -> Scenario:
    return Scenario("<reference>", "reference", "", program.vcpus, variant, program)


@functools.lru_cache(maxsize=256)
def hvtui_check(program: Program, variant: str):
    """hvtui's verdicts, kept: the test's mutants compare against the same
    check the scenario sweep ran (a Program is a value, so a key)."""
    return check(as_scenario(program, variant), variant)


def disagreements(
    program: Program, variant: str, max_states: int = 100_000, model=Model
) -> list[str] | None:
    """What differs between the reference and hvtui; None if the reference
    model's state space is beyond `max_states` (nothing compared)."""
    ref = explore(program, variant, max_states, model)
    if any(found.verdict == TOO_BIG for found in ref.values()):
        return None
    result = hvtui_check(program, variant)
    out = []
    for prop, found in ref.items():
        got = result.properties[prop]
        length = None if got.schedule is None else len(got.schedule)
        if got.verdict != found.verdict or (got.shortest and length != found.length):
            out.append(
                f"{variant} {prop}: reference {found.verdict} in {found.length} "
                f"{list(found.schedule or ())}, hvtui {got.verdict} in {length} "
                f"{list(got.schedule or ())}"
            )
        elif got.schedule is not None and not reaches(program, variant, prop, got, model):
            out.append(
                f"{variant} {prop}: hvtui's schedule {list(got.schedule)} does not reach "
                f"{got.verdict} in the reference"
            )
    return out


def verdict_disagreements(
    program: Program, variant: str, max_states: int = 100_000, model=None
) -> list[str] | None:
    """`disagreements` on verdicts alone, against reference.literal's model by
    default: its schedules are not schedules of actor names, and may be
    shorter than hvtui's."""
    from reference.literal import Literal

    ref = explore(program, variant, max_states, model or Literal)
    if any(found.verdict == TOO_BIG for found in ref.values()):
        return None
    result = hvtui_check(program, variant)
    return [
        f"{variant} {prop}: reference {found.verdict} in {found.length} "
        f"{list(found.schedule or ())}, hvtui {result.properties[prop].verdict}"
        for prop, found in ref.items()
        if result.properties[prop].verdict != found.verdict
    ]


def reaches(program: Program, variant: str, prop: str, got, model=Model) -> bool:
    """hvtui's schedule, replayed on the reference, ends in what it claims:
    its last step violates `prop`, or it ends where nobody can step with
    that progress verdict."""
    replayed = replay(program, variant, got.schedule, model)
    if replayed is None:
        return False
    state, bad = replayed
    if prop == PROGRESS:
        return end_of(program, variant, state, model) == got.verdict
    return got.verdict == VIOLATED and prop in bad


def random_programs():
    """Small random programs (2-4 vCPUs, 1-2 VMM threads, a few ops), from both
    of the test suite's generators."""
    from hypothesis_programs import programs
    from scenario_strategies import scenario_docs, yaml_text

    from hvtui.scenario.load import parse

    docs = scenario_docs(max_vcpus=4).filter(lambda d: d["vcpus"] >= 2)
    loaded = docs.map(lambda d: parse(yaml_text(d), "<random>").program)
    return st.one_of(programs().filter(lambda p: p.vcpus >= 2), loaded)


@st.composite
def twin_programs(draw) -> Program:
    """Programs in which vCPUs 2 and 3 (and 1, when nothing names it) run the
    same ops up to renaming -- flushes of themselves, of vcpu0, kernel work --
    and nothing else names them: the shapes hvtui's symmetry reduction
    folds, which random programs rarely draw. Half of them never clear a
    flag, so twins may also fold while suspended."""
    n = 4
    shape = draw(st.lists(st.sampled_from(["self", "zero", "self+zero", "work"]), max_size=2))
    first = draw(st.sampled_from([1, 2]))

    def op(c: int, j: int, kind: str):
        if kind == "work":
            return KernelWork(f"k{c}.{j}")
        targets = {"self": [c], "zero": [0], "self+zero": [0, c]}[kind]
        return Flush(f"f{c}.{j}", tuple(targets), spec=targets)

    vcpu_ops = [()] * n
    for c in range(first, n):
        vcpu_ops[c] = tuple(op(c, j, kind) for j, kind in enumerate(shape))
    if first == 2 and draw(st.booleans()):
        vcpu_ops[0] = (Flush("f0", (1,), spec=[1]),)
    named = list(range(first))  # the vCPUs the VMM may act on
    clears = draw(st.booleans())
    ops = []
    for j, x in enumerate(draw(st.lists(st.sampled_from(named), min_size=1, max_size=2))):
        ops += [Exit(f"e{j}", x), SetInhibit(f"s{j}", x, True), Run(f"r{j}", x)]
        if clears:
            ops += [Exit(f"x{j}", x), SetInhibit(f"c{j}", x, False), Run(f"y{j}", x)]
    return Program(n, tuple(vcpu_ops), (("vmm", tuple(ops)),))


@st.composite
def wide_programs(draw) -> Program:
    """Programs that exercise every feature at once, up to 6 vCPUs and 3 VMM
    threads. A few *victims* are what the VMM acts on and what the flushes
    aim at (so the races happen): their flags set or cleared, from an
    initial flag and user mode or after a kick, hot-plugged ones given a
    context (`hyperv_init`) before or after their first KVM_RUN. The
    flushes hit all vCPUs, themselves or a few victims and bystanders,
    beside kernel work. The more vCPUs, the fewer ops, so most state
    spaces stay within the reference's bound."""
    n = draw(st.integers(2, 6))
    vcpu = st.integers(0, n - 1)
    no_hyperv = frozenset(draw(st.sets(st.integers(1, n - 1), max_size=2 if n > 2 else 1)))
    with_context = [c for c in range(n) if c not in no_hyperv]
    victims = sorted(
        draw(st.sets(vcpu, min_size=1, max_size=2))
        | set(draw(st.sets(st.sampled_from(sorted(no_hyperv)), max_size=1)) if no_hyperv else ())
    )
    vcpu_ops: list[tuple] = [()] * n
    for j in range(draw(st.integers(1, 3 if n <= 3 else 2))):
        c = draw(st.sampled_from(with_context + sorted(no_hyperv)))
        if c in no_hyperv or not draw(st.integers(0, 4)):
            op = KernelWork(f"k{c}.{j}")
        else:
            form = draw(st.sampled_from(["all", "self", "victims", "victims", "any"]))
            if form == "all":
                targets = list(range(n))
            elif form == "self":
                targets = [c]
            else:
                pool = victims if form == "victims" else range(n)
                targets = sorted(draw(st.sets(st.sampled_from(pool), min_size=1, max_size=3)))
                targets = sorted(set(targets) | set(draw(st.sets(vcpu, max_size=1))))
            op = Flush(f"f{c}.{j}", tuple(targets), spec="all" if form == "all" else targets)
        vcpu_ops[c] = vcpu_ops[c] + (op,)
    inhibit = frozenset(draw(st.sets(st.sampled_from(victims), max_size=2))) - no_hyperv
    user = draw(st.sets(st.sampled_from(victims), max_size=2)) - no_hyperv
    modes = tuple((c, "user") for c in sorted(user))
    names = ["vmm", "vmm:b", "vmm:c"][: draw(st.integers(1, 3 if n <= 4 else 2))]
    threads = []
    for name in names:
        ops: list = []
        for _ in range(draw(st.integers(1, 2))):
            x = draw(st.sampled_from(victims))
            # a bare ioctl only on a vCPU that starts outside KVM_RUN: on
            # one inside it would wait for the mutex for ever
            blocks = HOTPLUG if x in no_hyperv else BLOCKS + (BARE if x in user else ())
            for make in draw(st.sampled_from(blocks)):
                ops.append(make(f"{name}.{len(ops)}", x, draw(st.booleans())))
        threads.append((name, tuple(ops)))
    return Program(n, tuple(vcpu_ops), tuple(threads), inhibit, modes, no_hyperv)


def _set(op_id, x, value):
    return SetInhibit(op_id, x, value)


def _clear(op_id, x, value):
    return SetInhibit(op_id, x, False)


def _run(op_id, x, value):
    return Run(op_id, x)


def _exit(op_id, x, value):
    return Exit(op_id, x)


def _init(op_id, x, value):
    return HypervInit(op_id, x)


# What a VMM thread does to one vCPU: whole ioctl sequences the way a VMM
# makes them (kick, ioctl, run again), and bare ops for the odd orders.
BLOCKS = (
    (_exit, _set, _run),
    (_exit, _clear, _run),
    (_exit, _set, _run, _exit, _clear, _run),
    (_exit,),
)
BARE = ((_clear,), (_set,), (_clear, _run), (_set, _run))
# ... and to a hot-plugged one: KVM_SET_CPUID2 before its first KVM_RUN or
# after it, and the ioctl on it before either
HOTPLUG = ((_init, _run), (_run, _exit, _init), (_set, _init, _run), (_init, _set, _run))


def batch(
    examples: int,
    seed: int,
    max_states: int = 100_000,
    programs=None,
    report=None,
    compare=disagreements,
) -> tuple[dict, list[str]]:
    """`examples` random programs under every variant: counts, and each
    disagreement `compare` finds, as text (the program first, so it can be
    replayed)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from reference.model import VARIANTS

    counts = {"programs": 0, "compared": 0, "too_big": 0}
    found: list[str] = []

    @hseed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(programs if programs is not None else random_programs())
    def one(program):
        counts["programs"] += 1
        for variant in VARIANTS:
            diff = compare(program, variant, max_states)
            if diff is None:
                counts["too_big"] += 1
                continue
            counts["compared"] += 1
            found.extend(f"{program!r}\n  {line}" for line in diff)
        if report is not None:
            report(counts, found)

    one()
    return counts, found


# `python -m reference.crosscheck N SEED [KIND]`: the programs to draw, and how to compare
KINDS = {
    "random": (None, disagreements),
    "twins": (twin_programs, disagreements),
    "wide": (wide_programs, disagreements),
    "literal": (wide_programs, verdict_disagreements),
}


def main(argv: list[str]) -> int:
    make, compare = KINDS[argv[2] if len(argv) > 2 else "random"]
    shown = []

    def report(counts: dict, found: list[str]) -> None:
        for line in found[len(shown) :]:
            print("DISAGREE", line, flush=True)
        shown[:] = found
        print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)

    programs = make() if make else None
    counts, found = batch(
        int(argv[0]), int(argv[1]), programs=programs, report=report, compare=compare
    )
    print(" ".join(f"{k}={v}" for k, v in counts.items()), f"disagreements={len(found)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
