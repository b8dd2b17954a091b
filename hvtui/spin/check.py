"""`hvtui check --engine spin`: the same verdicts, found by SPIN.

The model is `hvtui export --format promela`'s. One pan binary per model
(hvtui.spin.toolchain caches it). A breadth-first pan run stops at the
shallowest violation of any property it checks, which is then a shortest
counterexample of each property its last step violates; the next run
leaves those out, until a run finds nothing and has explored every state
(its counts are the check's). So each violated property gets its own
shortest counterexample, as the hvtui engine reports them, in one run per
violation found plus one. `progress` is two properties to pan: a deadlock,
and an end blocked by design (which a deadlock, if any, overrides).

A counterexample's trail names a pid per step; the model's pid table turns
it into actor names, an hvtui schedule. It is replayed on hvtui's engine
before it is reported: its last step must violate the property there too
(or, for progress, end where nothing can step), so a Promela model that
drifted from the step table fails loudly instead of reporting a schedule
`hvtui run` would not reproduce.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from hvtui.check.limits import INTERRUPTED, Interrupt
from hvtui.check.search import Interrupted, Result, Verdict, unfinished
from hvtui.exports.promela import BY_DESIGN, generate
from hvtui.model import properties as props
from hvtui.model.engine import Engine
from hvtui.model.properties import BLOCKED_BY_DESIGN, HOLDS, INCOMPLETE, PROPERTIES, VIOLATED
from hvtui.model.session import Stop, replay
from hvtui.model.variants import VARIANTS
from hvtui.spin import toolchain
from hvtui.spin.toolchain import Times

_VECTORSZ = 1024  # pan's default bound on the state vector, in bytes


@dataclass(frozen=True)
class SpinOptions:
    cc_flags: tuple[str, ...] = ()  # more compiler flags, e.g. -DBITSTATE, -DBFS_PAR
    pan_flags: tuple[str, ...] = ()  # more pan flags, e.g. -w28, -RS42
    max_memory: int | None = None  # bytes: pan's -DMEMLIM
    max_seconds: float | None = None  # wall time of the whole check, compiling included


@dataclass
class SpinResult(Result):
    times: Times | None = None


class ModelDrift(AssertionError):
    """SPIN's counterexample does not replay to the same violation on hvtui's engine."""


def check(scenario, variant: str | None = None, options: SpinOptions = SpinOptions()) -> SpinResult:
    started = time.monotonic()
    variant = variant or scenario.variant
    scenario = replace(scenario, variant=variant)
    model = generate(scenario)
    cc = options.cc_flags
    if options.max_memory is not None:
        cc = (f"-DMEMLIM={max(1, options.max_memory >> 20)}", *cc)
    if model.vector_bytes > _VECTORSZ:
        cc = (f"-DVECTORSZ={model.vector_bytes}", *cc)
    pan = toolchain.build(model.text, cc)
    engine = Engine(scenario.program, VARIANTS[variant])

    def run(checked: set[int]) -> _Run:
        left = None
        if options.max_seconds is not None:  # what the earlier runs left of it
            left = max(0.0, started + options.max_seconds - time.monotonic())
        found = toolchain.search(pan, sorted(checked), options.pan_flags, left, lambda: ctrl_c.hit)
        return _Run.parse(found)

    # the first Ctrl-C stops the pan run where it stands, as it stops hvtui's search
    with Interrupt() as ctrl_c:
        # several cores search breadth-first only roughly: counterexamples may be longer
        parallel = "-DBFS_PAR" in options.cc_flags
        progress, by_design = PROPERTIES.index(props.PROGRESS), BY_DESIGN
        checked = set(range(len(PROPERTIES))) | {by_design}
        found: dict[int, tuple] = {}  # number -> (schedule, detail, shortest)
        while True:
            last = run(checked)
            if not last.violated:
                break
            schedule = _schedule(model, pan, last)
            step = None
            if last.trail[-1][1] != len(model.pids) - 1:  # not the watcher's step at an end
                step = _violations(engine, schedule, checked)
            if step is None:
                numbers, detail = _end(engine, schedule, checked)
            else:
                numbers, detail, schedule = step
            for number in numbers:
                names = tuple(engine.names[a] for a in schedule)
                found[number] = (names, detail, not parallel)
            checked -= numbers
            if progress in numbers:  # a deadlock decides progress: no end by design needed
                checked.discard(by_design)
    verdicts = {}
    for number, prop in enumerate(PROPERTIES):
        if number == progress:
            verdicts[prop] = _progress_verdict(found, last)
        elif number in found:
            verdicts[prop] = Verdict(VIOLATED, *found[number])
        elif last.limit:
            verdicts[prop] = Verdict(INCOMPLETE, None, _unfinished(last))
        else:
            verdicts[prop] = Verdict(HOLDS)
    result = SpinResult(
        file=scenario.file,
        variant=variant,
        complete=last.limit is None,
        states=last.states,
        transitions=last.transitions,
        seconds=pan.times.total,
        properties=verdicts,
        expected=scenario.expect.violations_under(variant, scenario.variant),
        depth=last.depth,
        bound=last.limit,
        reductions={"dedup": {"revisits": last.matched}},
        times=pan.times,
    )
    if ctrl_c.hit:
        raise Interrupted(result)
    return result


@dataclass
class _Run:
    """What one pan run said."""

    violated: bool
    trail: list[tuple[int, int, int]]
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
        if run.stopped == "ctrl-c":
            limit = INTERRUPTED
        elif run.stopped == "time":
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
    return unfinished(r.limit, r.states)


def _schedule(model, pan, r: _Run) -> tuple[int, ...]:
    """The trail's steps as actor indices (init's and the watcher's left out):
    by pid, or with one scheduler process by the line of the d_step taken."""
    if not model.lines:
        return tuple(a for _, pid, _ in r.trail if (a := model.pids[pid]) is not None)
    lines = toolchain.transition_lines(pan)
    return tuple(a for _, _, tid in r.trail if (a := model.lines.get(lines.get(tid))) is not None)


def _replay(engine: Engine, schedule: tuple[int, ...]):
    """Take the schedule on hvtui's engine: (state before the last step, after it, event)."""
    if not schedule:
        s = engine.initial()
        return s, s, None
    before, stop = replay(engine, engine.initial(), schedule[:-1])
    last = schedule[-1]
    if stop is None and not engine.can_step(before, last):
        stop = Stop(len(schedule) - 1, engine.names[last], None)
    if stop is not None:
        raise ModelDrift(f"step {stop.index + 1}: {stop.name} cannot step in hvtui's model")
    after, event = engine.step(before, last, len(schedule))
    return before, after, event


def _violations(engine: Engine, schedule: tuple[int, ...], checked: set[int]):
    """The checked properties the schedule's last step violates on hvtui's engine,
    that step, and the schedule (one step longer where pan's trail stops short of
    its violating step, as -DBFS_PAR's do); None if it ends where nothing can step."""
    before, after, event = _replay(engine, schedule)
    numbers = set()
    if event is not None:
        hit = props.step_violations(engine, before, schedule[-1], event.step, after)
        numbers = {PROPERTIES.index(p) for p in hit} & checked
    for a in [] if numbers else engine.enabled(after):
        nxt, event = engine.step(after, a, len(schedule) + 1)
        hit = props.step_violations(engine, after, a, event.step, nxt)
        numbers = {PROPERTIES.index(p) for p in hit} & checked
        if numbers:
            schedule += (a,)
            break
    if not numbers:
        if not engine.enabled(after):  # a -DBFS_PAR trail to an end, short of the watcher
            return None
        raise ModelDrift("SPIN's counterexample violates nothing it checked in hvtui's model")
    return numbers, f"{event.actor} {event.step}: {event.text}", schedule


def _end(engine: Engine, schedule: tuple[int, ...], checked: set[int]):
    """A deadlock or an end blocked by design, where nothing can step."""
    _, end, _ = _replay(engine, schedule)
    found = props.progress(engine, end)
    number = {VIOLATED: PROPERTIES.index(props.PROGRESS), BLOCKED_BY_DESIGN: BY_DESIGN}.get(
        found.verdict
    )
    if engine.enabled(end) or number not in checked:
        raise ModelDrift(f"SPIN's end state is {found.verdict} in hvtui's model")
    return {number}, found.detail


def _progress_verdict(found: dict, last: _Run) -> Verdict:
    """A deadlock (violated), else an end blocked by design, else holds."""
    if PROPERTIES.index(props.PROGRESS) in found:
        return Verdict(VIOLATED, *found[PROPERTIES.index(props.PROGRESS)])
    if last.limit:  # a deadlock may still be out there
        return Verdict(INCOMPLETE, None, _unfinished(last))
    if BY_DESIGN in found:
        return Verdict(BLOCKED_BY_DESIGN, *found[BY_DESIGN])
    return Verdict(HOLDS, None, "every actor finishes, in every end state")
