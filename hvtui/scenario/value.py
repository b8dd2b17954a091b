"""What a scenario is, as a value: a Program plus its prose, schedule and
expectations. Loading (hvtui.scenario.load) and the format's rules
(hvtui.scenario.rules) both build these, so they live apart from both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hvtui.model.engine import Engine
from hvtui.model.state import Program
from hvtui.model.variants import VARIANTS

DEFAULT = "default"  # in an `expect.violations` mapping: every variant it does not name


@dataclass(frozen=True)
class Expect:
    # For `check`: the properties expected to fail under the scenario's own
    # variant (a list), or per variant (a mapping {variant: [ids]}, in which a
    # `default` entry covers the variants it does not name).
    violations: tuple[str, ...] | None = None
    by_variant: tuple[tuple[str, tuple[str, ...]], ...] = ()
    final: tuple[tuple[int, tuple[tuple[str, object], ...]], ...] = ()  # vcpu -> fields
    progress: str | None = None  # the run's progress verdict at its end
    stuck: tuple[str, ...] | None = None  # actors unfinished at the end of the run

    def violations_under(self, variant: str, own_variant: str) -> tuple[str, ...]:
        """What `check` should find violated under `variant` (nothing, unless expected)."""
        if self.by_variant:
            named = dict(self.by_variant)
            return named.get(variant, named.get(DEFAULT, ()))
        if variant == own_variant and self.violations is not None:
            return self.violations
        return ()


@dataclass(frozen=True)
class Scenario:
    file: str
    name: str
    description: str
    vcpus: int
    variant: str
    program: Program
    schedule: tuple[str, ...] = ()
    expect: Expect = Expect()
    # where each schedule entry was written, for errors; () if not from a file
    schedule_pos: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    # what those positions are in: "" for the scenario file, or SCHEDULE_ARG
    schedule_source: str = field(default="", compare=False)

    def engine(self) -> Engine:
        return Engine(self.program, VARIANTS[self.variant])

    @property
    def gist(self) -> str:
        """The description's first sentence, on one line ("" without one): what a
        reader is told first. A sentence ends at a full stop before a space or the
        end of the paragraph; "5/7." or "e.g. x" inside one does not end it."""
        paragraph = " ".join(self.description.strip().split("\n\n", 1)[0].split())
        end = re.search(r"(?<!\be\.g)(?<!\bi\.e)\.(\s|$)", paragraph)
        return paragraph if end is None else paragraph[: end.start() + 1]
