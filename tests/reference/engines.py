"""Three computations of one scenario's verdicts, compared property by property.

`decide(path, variant)` loads a scenario file as a user's would be loaded
and decides it under `variant` with the reference model (reference.model,
no reduction), with `hvtui check` and every reduction, with `hvtui check`
and none (`UNREDUCED`), and, if asked, with `--engine spin` (SPIN on the
generated Promela). `disagreements(decided)` names every property on which
two of them differ: the verdict, or the length where both claim a
shortest counterexample; and every counterexample that does not reach
what it claims, replayed on the reference model and through `hvtui run
--schedule` (the CLI, in this process).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field, replace

from hvtui.check.search import Options, check
from hvtui.model.state import Exit, Flush, HypervInit, KernelWork, Program, Run, SetInhibit
from hvtui.scenario.load import load
from reference.crosscheck import reaches
from reference.model import PROGRESS, TOO_BIG, explore

UNREDUCED = Options(generations=False, slicing=False, symmetry=False, por=False)
# every reduction but one: `check --no-X` for each flag X (shortest: the
# counterexamples of the partial order are left as its main pass finds them)
ONE_OFF = ("generations", "slicing", "symmetry", "banks", "por", "commuting", "shortest")
ENGINES = ("full", "none", "off", "spin")  # compared with the reference and with each other
PAIRS = (
    ("ref", "full"),
    ("ref", "none"),
    ("full", "none"),
    ("ref", "off"),
    ("ref", "spin"),
    ("none", "spin"),
)


@dataclass(frozen=True)
class Claim:
    """One computation's answer for one property."""

    verdict: str
    length: int | None = None
    schedule: tuple[str, ...] | None = None
    shortest: bool = True


@dataclass
class Decided:
    path: str
    variant: str
    program: object = None
    # engine name ("ref", "full", "none", "spin") -> property -> claim;
    # no "ref" when the reference's search passed its bound
    claims: dict[str, dict[str, Claim]] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)  # engines that stopped early


def decide(
    path: str,
    variant: str,
    max_states: int = 30_000,
    spin: bool = False,
    big: bool = True,
    off: str | None = None,
) -> Decided:
    """`off`: also `check` with that one of ONE_OFF switched off (engine
    "off"). `big=False`: nothing more is decided once the reference's
    search passes `max_states` (CI's share keeps its time that way)."""
    scenario = load(path)
    out = Decided(path, variant, scenario.program)
    ref = explore(scenario.program, variant, max_states)
    if not any(found.verdict == TOO_BIG for found in ref.values()):
        out.claims["ref"] = {
            p: Claim(f.verdict, f.length, f.schedule, True) for p, f in ref.items()
        }
    elif not big:
        return out
    # the unreduced search stops at a few times the reference's bound: a
    # state space that big is compared between the reduced and the unreduced
    # search only when it fits
    unreduced = replace(UNREDUCED, max_states=4 * max_states)
    runs = [
        ("full", lambda: check(scenario, variant)),
        ("none", lambda: check(scenario, variant, unreduced)),
    ]
    if off is not None:
        runs.append(("off", lambda: check(scenario, variant, replace(Options(), **{off: False}))))
    if spin and "ref" in out.claims:  # SPIN only where an unreduced search ends soon
        from hvtui.spin.check import SpinOptions
        from hvtui.spin.check import check as spin_check

        bounded = SpinOptions(max_memory=1 << 30, max_seconds=120)
        runs.append(("spin", lambda: spin_check(scenario, variant, bounded)))
    for name, run in runs:
        result = run()
        if not result.complete:
            out.incomplete.append(name)
            continue
        out.claims[name] = {
            p: Claim(
                v.verdict,
                None if v.schedule is None else len(v.schedule),
                v.schedule,
                v.shortest,
            )
            for p, v in result.properties.items()
        }
    return out


def disagreements(decided: Decided, run_cli: bool = True) -> list[tuple[str, str]]:
    """(pair or engine, what differs) for every difference found."""
    found = []
    claims = decided.claims
    for a, b in PAIRS:
        if a not in claims or b not in claims:
            continue
        for prop, x in claims[a].items():
            y = claims[b][prop]
            if x.verdict != y.verdict:
                found.append((f"{a}~{b}", f"{prop}: {a} {_said(x)}, {b} {_said(y)}"))
            elif x.shortest and y.shortest and x.length != y.length:
                found.append((f"{a}~{b}", f"{prop}: {a} {_said(x)}, {b} {_said(y)}"))
    replayed: dict[tuple, str | None] = {}
    for engine in ENGINES:
        for prop, claim in claims.get(engine, {}).items():
            if claim.schedule is None:
                continue
            key = (prop, claim.verdict, claim.schedule)
            if key not in replayed:
                replayed[key] = _misses(decided, prop, claim, run_cli)
            if replayed[key]:
                found.append((engine, f"{prop}: {_said(claim)}: {replayed[key]}"))
    return found


def _said(claim: Claim) -> str:
    if claim.schedule is None:
        return claim.verdict
    mark = "" if claim.shortest else " (not shortest)"
    return f"{claim.verdict} in {claim.length}{mark} {list(claim.schedule)}"


def _misses(decided: Decided, prop: str, claim: Claim, run_cli: bool) -> str | None:
    """Why `claim`'s schedule does not reach its verdict, or None if it does."""
    if not reaches(decided.program, decided.variant, prop, claim):
        return "the reference does not reach that verdict there"
    if run_cli:
        return _run_misses(decided, prop, claim)
    return None


def _run_misses(decided: Decided, prop: str, claim: Claim) -> str | None:
    """`hvtui run FILE --variant V --schedule S --json`: the run must violate
    `prop` at the schedule's last step (a progress claim: end right there
    with that verdict)."""
    from hvtui.cli.main import main

    out = io.StringIO()
    args = ["run", decided.path, "--variant", decided.variant, "--json"]
    args += ["--schedule", " ".join(claim.schedule)]
    with contextlib.redirect_stdout(out):
        code = main(args)
    if code not in (0, 1):
        return f"hvtui run exited {code}"
    doc = json.loads(out.getvalue())
    steps = len(claim.schedule)
    if prop == PROGRESS:
        if doc["steps"] != steps or doc["progress"]["verdict"] != claim.verdict:
            return f"hvtui run ends after {doc['steps']} steps with {doc['progress']}"
        return None
    first = doc["violations"].get(prop)
    if first is None:
        return "hvtui run does not violate it"
    if first["step"] != steps and (claim.shortest or first["step"] > steps):
        return f"hvtui run violates it first at step {first['step']}"
    return None


# -- the file, read without the loader ------------------------------------------------


def read_independently(doc: dict) -> Program:
    """The Program a scenario document means, read here from the document
    itself: the reference model takes its Program from hvtui's loader, so a
    wrong reading of a target form would otherwise be shared by all three
    computations. Targets as 5/7's kvm_hv_flush_tlb() resolves them: `all`
    and a zero processor mask (its WS2012 workaround) are every vCPU, a
    mask or sparse bit of a VP the VM lacks names nobody, ascending."""
    n = doc["vcpus"]

    def targets(spec) -> tuple[int, ...]:
        if spec == "all" or spec == {"mask": 0}:
            return tuple(range(n))
        if isinstance(spec, list):
            return tuple(sorted(set(spec)))
        if "mask" in spec:
            return tuple(t for t in range(min(n, 64)) if spec["mask"] >> t & 1)
        ids = {64 * int(b) + i for b, m in spec["sparse"].items() for i in range(64) if m >> i & 1}
        return tuple(sorted(t for t in ids if t < n))

    vcpu_ops = [()] * n
    threads = []
    for actor, ops in doc["actors"].items():
        if actor.startswith("vcpu"):
            vcpu_ops[int(actor[4:])] = tuple(
                Flush(op["id"], targets(op["targets"]))
                if op["op"] == "flush"
                else KernelWork(op["id"])
                for op in ops
            )
            continue
        make = {
            "set_inhibit": lambda op: SetInhibit(op["id"], op["vcpu"], op["value"]),
            "run": lambda op: Run(op["id"], op["vcpu"]),
            "exit": lambda op: Exit(op["id"], op["vcpu"]),
            "hyperv_init": lambda op: HypervInit(op["id"], op["vcpu"]),
        }
        threads.append((actor, tuple(make[op["op"]](op) for op in ops)))
    initial = doc.get("initial", {})
    return Program(
        n,
        tuple(vcpu_ops),
        tuple(threads),
        frozenset(initial.get("inhibit", ())),
        tuple(sorted(initial.get("mode", {}).items())),
        frozenset(initial.get("no_hyperv", ())),
    )
