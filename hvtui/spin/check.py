"""`hvtui check --engine spin`: the same verdicts, found by SPIN.

The model is `hvtui export --format promela`'s. One pan binary per model
(hvtui.spin.toolchain caches it); pan runs once with no property on, which
counts the states, then once per property with only that one on, so each
violated property gets its own shortest counterexample (breadth-first),
as the hvtui engine reports them. `progress` takes two runs: a deadlock,
else an end blocked by design.

A counterexample's trail names a pid per step; the model's pid table turns
it into actor names, an hvtui schedule. It is replayed on hvtui's engine
before it is reported: its last step must violate the property there too
(or, for progress, end where nothing can step), so a Promela model that
drifted from the step table fails loudly instead of reporting a schedule
`hvtui run` would not reproduce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from hvtui.check.search import Result, Verdict
from hvtui.exports.promela import BY_DESIGN, generate
from hvtui.model import properties as props
from hvtui.model.engine import Engine
from hvtui.model.properties import BLOCKED_BY_DESIGN, HOLDS, INCOMPLETE, PROPERTIES, VIOLATED
from hvtui.model.variants import VARIANTS
from hvtui.spin import toolchain
from hvtui.spin.toolchain import Times

NONE = BY_DESIGN + 1  # HVTUI_PROPERTY for a run that checks nothing, and counts the states


@dataclass(frozen=True)
class SpinOptions:
    cc_flags: tuple[str, ...] = ()  # more compiler flags, e.g. -DBITSTATE, -DBFS_PAR
    pan_flags: tuple[str, ...] = ()  # more pan flags, e.g. -w28, -RS42
    max_memory: int | None = None  # bytes: pan's -DMEMLIM
    max_seconds: float | None = None  # per pan run


@dataclass
class SpinResult(Result):
    times: Times | None = None


class ModelDrift(AssertionError):
    """SPIN's counterexample does not replay to the same violation on hvtui's engine."""


def check(scenario, variant: str | None = None, options: SpinOptions = SpinOptions()) -> SpinResult:
    variant = variant or scenario.variant
    scenario = replace(scenario, variant=variant)
    model = generate(scenario)
    cc = options.cc_flags
    if options.max_memory is not None:
        cc = (f"-DMEMLIM={max(1, options.max_memory >> 20)}", *cc)
    pan = toolchain.build(model.text, cc)
    engine = Engine(scenario.program, VARIANTS[variant])

    def run(prop: int) -> _Run:
        return _Run.parse(toolchain.search(pan, prop, options.pan_flags, options.max_seconds))

    whole = run(NONE)
    verdicts = {}
    for prop in PROPERTIES:
        if prop == props.PROGRESS:
            verdicts[prop] = _progress(engine, model, run, whole)
            continue
        r = run(PROPERTIES.index(prop))
        if r.violated:
            schedule, detail = _violation(engine, _schedule(model, r), prop)
            verdicts[prop] = Verdict(VIOLATED, schedule, detail)
        elif r.limit:
            verdicts[prop] = Verdict(INCOMPLETE, None, _unfinished(r))
        else:
            verdicts[prop] = Verdict(HOLDS)
    return SpinResult(
        file=scenario.file,
        variant=variant,
        complete=whole.limit is None,
        states=whole.states,
        transitions=whole.transitions,
        seconds=pan.times.total,
        properties=verdicts,
        expected=scenario.expect.violations_under(variant, scenario.variant),
        depth=whole.depth,
        bound=whole.limit,
        reductions={"dedup": {"revisits": whole.matched}},
        times=pan.times,
    )


@dataclass
class _Run:
    """What one pan run said."""

    violated: bool
    trail: list[tuple[int, int]]
    states: int  # hvtui's count: pan's stored states less init's
    transitions: int
    matched: int
    depth: int
    limit: str | None  # why the search is not exhaustive, if it is not

    @classmethod
    def parse(cls, run: toolchain.PanRun) -> _Run:
        out = run.output

        def number(pattern: str) -> int:
            m = re.search(pattern, out)
            return int(m.group(1)) if m else 0

        stored = number(r"(\d+) states, stored")
        atomic = number(r"(\d+) atomic steps")
        # Init's one atomic step makes `atomic` unstored states and one stored
        # state before it: neither is an hvtui state.
        states = max(0, stored - atomic - 1)
        limit = None
        if run.timed_out:
            limit = "--max-seconds (pan was stopped)"
        elif "max search depth too small" in out:
            limit = "pan: max search depth too small (-m)"
        elif re.search(r"out of memory|memory limit|MEMLIM", out, re.IGNORECASE):
            limit = "pan: out of memory (--max-memory)"
        elif "Full statespace search" not in out:
            limit = "pan: not a full state-space search (bitstate or hash-compact)"
        elif "errors: " not in out:
            limit = "pan: ended without its summary"
        return cls(
            violated=number(r"errors: (\d+)") > 0 and bool(run.trail),
            trail=run.trail,
            states=states,
            transitions=max(0, number(r"(\d+) transitions \(") - atomic - 1),
            matched=number(r"(\d+) states, matched"),
            depth=max(0, number(r"depth reached (\d+)") - atomic - 1),
            limit=limit,
        )


def _unfinished(r: _Run) -> str:
    return f"not decided when the search stopped ({r.limit}, {r.states} states)"


def _schedule(model, r: _Run) -> tuple[int, ...]:
    """The trail's steps as actor indices (init's and the watcher's left out)."""
    return tuple(a for _, pid in r.trail if (a := model.pids[pid]) is not None)


def _replay(engine: Engine, schedule: tuple[int, ...]):
    """Take the schedule on hvtui's engine: (state before the last step, after it, event)."""
    s = before = engine.initial()
    event = None
    for t, a in enumerate(schedule, 1):
        if not engine.can_step(s, a):
            raise ModelDrift(f"step {t}: {engine.names[a]} cannot step in hvtui's model")
        before = s
        s, event = engine.step(s, a, t)
    return before, s, event


def _violation(engine: Engine, schedule: tuple[int, ...], prop: str):
    before, after, event = _replay(engine, schedule)
    if event is None or prop not in props.step_violations(
        engine, before, schedule[-1], event.step, after
    ):
        raise ModelDrift(f"SPIN's counterexample for {prop} does not violate it in hvtui's model")
    names = tuple(engine.names[a] for a in schedule)
    return names, f"{event.actor} {event.step}: {event.text}"


def _progress(engine: Engine, model, run, whole: _Run) -> Verdict:
    """A deadlock (violated), else an end blocked by design, else holds."""
    for number, verdict in (
        (PROPERTIES.index(props.PROGRESS), VIOLATED),
        (BY_DESIGN, BLOCKED_BY_DESIGN),
    ):
        r = run(number)
        if r.violated:
            schedule = _schedule(model, r)
            _, end, _ = _replay(engine, schedule)
            found = props.progress(engine, end)
            if engine.enabled(end) or found.verdict != verdict:
                raise ModelDrift(f"SPIN's end state is not {verdict} in hvtui's model")
            return Verdict(verdict, tuple(engine.names[a] for a in schedule), found.detail)
        if r.limit:
            return Verdict(INCOMPLETE, None, _unfinished(r))
    return Verdict(HOLDS, None, "every actor finishes, in every end state")
