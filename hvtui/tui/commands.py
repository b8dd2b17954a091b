"""The command palette: every action valid now, and every scenario to open.

Actions come from the one bindings table (named "category: action", and
offered only when the app's check_action allows them), plus what has no
key of its own: each other variant, each counterexample of the last check.
Scenarios come from a Provider that lists `scenarios/` folders.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider

from hvtui.model.variants import VARIANTS
from hvtui.tui.bindings import BINDINGS, palette_name
from hvtui.view.glyphs import STATES
from hvtui.view.library import scenario_files
from hvtui.view.words import n_steps

if TYPE_CHECKING:
    from hvtui.tui.app import WorkbenchApp


def action_commands(app: WorkbenchApp) -> Iterable[SystemCommand]:
    for binding in BINDINGS:
        if app.check_action(binding.action, ()) is True:
            callback = partial(app.run_action, binding.action)
            yield SystemCommand(palette_name(binding), binding.tooltip, callback)
    # `a` cycles through every actor that can step: at 4096 vCPUs, thousands of presses
    # to reach one; here the selected vCPU's thread and each VMM thread, by name.
    bench, engine = app.bench, app.bench.engine
    statuses, up_next = bench.statuses(), bench.next_actor()[0]
    for actor in (app.selected, *range(engine.n, len(engine.names))):
        if statuses[actor].enabled and actor != up_next:
            name = engine.names[actor]
            yield SystemCommand(
                f"step: choose {name}",
                f"{name} takes the next step: {statuses[actor].step}",
                partial(app.choose_actor, actor),
            )
    if app.check_action("switch_variant", ()) is True:
        for name, variant in VARIANTS.items():
            if name != app.bench.variant:
                yield SystemCommand(
                    f"variant: switch to {name}", variant.source, partial(app.use_variant, name)
                )
    for name in VARIANTS:
        if name != app.bench.variant:
            yield SystemCommand(
                f"compare: this schedule under {name}",
                f"the current line under {app.bench.variant} and under {name}, side by side",
                partial(app.compare_with, None, name),
            )
    for branch in app.bench.branches:
        yield SystemCommand(
            f"branch: switch to {branch.name}",
            f"{n_steps(len(branch.trace))} under {branch.variant}, "
            f"left at {branch.pos}: {branch.why}",
            partial(app._branch_chosen, ("switch", branch.name)),
        )
        yield SystemCommand(
            f"branch: compare {branch.name} with this line",
            "the two side by side, the first divergent step marked",
            partial(app.compare_with, branch.name),
        )
    for index, state in enumerate(STATES):
        yield SystemCommand(
            f"view: show only {state.name}",
            f"the grid shows the vCPUs in that state ({state.glyph}) and no other",
            partial(app.use_filter, index),
        )
    for prop, steps in app.counterexamples():
        yield SystemCommand(
            f"check: load the counterexample for {prop}",
            f"{n_steps(steps)}, opened at step 0 to step through",
            partial(app.load_counterexample, prop),
        )


class ScenarioProvider(Provider):
    """`scenario: open FILE` for every scenario in ./scenarios, beside the open file, built in."""

    def _commands(self) -> list[tuple[str, str]]:
        app: WorkbenchApp = self.app  # type: ignore[assignment]
        return [(f"scenario: open {path}", path) for path in scenario_files(app.bench.origin.file)]

    async def discover(self) -> Hits:
        app: WorkbenchApp = self.app  # type: ignore[assignment]
        for title, path in self._commands():
            yield DiscoveryHit(title, partial(app.open_file, path), help="open it in the workbench")

    async def search(self, query: str) -> Hits:
        app: WorkbenchApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for title, path in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(app.open_file, path),
                    help="open it in the workbench",
                )
