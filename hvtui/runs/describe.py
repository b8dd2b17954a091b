"""A saved run describes itself: a generated name, what it shows, what to verify.

`hvtui check --save` and the workbench's saved sessions both write a
scenario whose schedule is the run. The original's name and description
would point at the wrong run (its prose says "step 17" where the saved run
violates at step 16), so the saved file gets:

- a name made from the original's, the variant if it changed, and the first
  violation with its step (`reviewer-race-no-flush-while-inhibited-at-16`);
- the original description, untouched, and under it a paragraph saying
  what the run shows, step by step numbers as `hvtui run` prints them;
- an `expect` block: how the replay ends (`final`, `progress`, `stuck`),
  which `hvtui run` verifies, and, when the caller knows them, the
  properties `hvtui check` finds violated, which `check` verifies.

Describing a file that was itself described replaces the old paragraph and
name suffix instead of stacking another.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import replace

from hvtui.model.properties import PROPERTIES
from hvtui.scenario.expect import stuck, vcpu_view
from hvtui.scenario.load import Expect, Scenario, replay, with_schedule

HEADING = "What this run shows"  # starts the generated paragraph; what a re-describe cuts
FINAL_FIELDS = ("inhibit", "suspended", "waiting_on", "mode", "pending_flush", "flushes")
WIDTH = 76  # the description is read in an editor and in the workbench
MAX_FINAL = 32  # vCPUs named in expect.final; at 4096 vCPUs the rest stay as they started
# the suffix _name adds: "-<property>-at-<step>" or "-<n>-steps"
_SUFFIX = re.compile(rf"-(?:(?:{'|'.join(map(re.escape, PROPERTIES))})-at-\d+|\d+-steps)$")


def describe(
    scenario: Scenario,
    schedule: Sequence[str],
    variant: str | None = None,
    violations: Sequence[str] | None = None,
    source: str = "hvtui check --save",
    focus: str | None = None,
) -> Scenario:
    """`scenario` with `schedule` (under `variant`), named and described by what it does.

    `violations` is what `hvtui check` finds under that variant (None when
    the caller has not checked: the expect block then says nothing about it).
    `focus` is the property the run was saved for (a counterexample's), which
    names it; by default the first one the run violates.
    """
    variant = variant or scenario.variant
    saved = replace(with_schedule(scenario, tuple(schedule)), variant=variant)
    session = replay(saved)
    session.run()  # what `hvtui run` replays: the schedule, then round robin
    first = session.first_violations()
    done = session.progress()
    expect = Expect(
        violations=None if violations is None else tuple(violations),
        final=_final(session),
        progress=done.verdict if done else None,
        stuck=tuple(stuck(session)),
    )
    return replace(
        saved,
        name=_name(scenario, variant, first, session.pos, focus),
        description=_description(scenario, variant, session, first, source),
        expect=expect,
    )


def _name(scenario: Scenario, variant: str, first: dict[str, int], steps: int, focus) -> str:
    base = _SUFFIX.sub("", scenario.name)
    if variant != scenario.variant and not base.endswith(f"-{variant}"):
        base = f"{base}-{variant}"
    if focus in first:
        return f"{base}-{focus}-at-{first[focus]}"
    if first:
        prop, step = next(iter(first.items()))
        return f"{base}-{prop}-at-{step}"
    return f"{base}-{steps}-steps"


def _description(scenario: Scenario, variant: str, session, first, source: str) -> str:
    from hvtui.runs.kernel import explain  # the one place that reads events as prose

    original = scenario.description.split(HEADING, 1)[0].rstrip()
    lines = [f"{HEADING} ({source}; `hvtui run` replays it): {session.pos} steps under {variant}."]
    for prop, step in first.items():
        lines.append(f"Step {step} violates {prop}: {explain(session, prop, step, str)}.")
    if not first:
        lines.append("No property is violated along the run.")
    done = session.progress()
    if done is not None:
        lines.append(f"The run ends with progress {done.verdict} ({done.detail}).")
    text = "".join(textwrap.fill(line, WIDTH, break_on_hyphens=False) + "\n" for line in lines)
    return f"{original}\n\n{text}" if original else text


def _final(session) -> tuple:
    """The fields of each vCPU that the run changed, as expect.final holds them."""
    out = []
    for c in range(session.engine.n):
        start = vcpu_view(session, c, session.initial)
        end = vcpu_view(session, c)
        changed = tuple((k, end[k]) for k in FINAL_FIELDS if end[k] != start[k])
        if changed:
            out.append((c, changed))
        if len(out) == MAX_FINAL:
            break
    return tuple(out)
