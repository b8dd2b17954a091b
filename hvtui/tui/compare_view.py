"""Two runs side by side: two branches, or one schedule under two variants.

The comparison itself (where the runs part, how their verdicts differ) is
hvtui.runs.compare's, the one `hvtui compare` prints; this screen lays its
two event logs out in two columns, step by step, with the first divergent
step marked and scrolled into view.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from hvtui.tui.panels import LineList, Row, columns_for
from hvtui.tui.screens import Dialog


class PairLog(LineList):
    """Row i: step i of the left run beside step i of the right one."""

    PREFIX = "pairlog"
    ROLES = {
        "diverges": "text-style: bold reverse;",
        "after": "color: $foreground-muted;",
        "violation": "color: $error; text-style: bold;",
    }

    def __init__(self, comparison, *, id: str | None = None):
        super().__init__(id=id)
        self._c = comparison
        self._steps = max(len(comparison.left.events), len(comparison.right.events))
        left, right = comparison.left.session.engine, comparison.right.session.engine
        self._cols = (columns_for(left, self._steps), columns_for(right, self._steps))

    def on_mount(self) -> None:
        at = self._c.diverges_at
        self.show_rows(self._steps, (at - 1) if at else 0)

    def row(self, i: int) -> Row:
        # the mark, two halves and " │ " in the view (a scrollbar, if any, is not in it)
        half = max(20, (self.scrollable_content_region.width - 4) // 2)
        at = self._c.diverges_at
        texts = []
        for side, cols in zip((self._c.left, self._c.right), self._cols, strict=True):
            events = side.events
            text = cols.line(events[i]) if i < len(events) else "(ended)"
            # Every line has the mark's column, as in the event log: a ✗ shifts nothing.
            mark = "✗ " if i < len(events) and side.session.violations[i] else "  "
            cell = mark + text
            if len(cell) > half:  # cut where a reader sees it is cut: `vcpu 1 exi…`
                cell = cell[: half - 1] + "…"
            texts.append(cell.ljust(half))
        mark = "▶" if at == i + 1 else " "
        role = "diverges" if at == i + 1 else "after" if at is not None and i + 1 > at else ""
        return Row(((mark, ""), (texts[0], ""), (" │ ", ""), (texts[1], "")), role)


class CompareScreen(Dialog):
    """The comparison of two runs; escape closes it."""

    BINDINGS = [Binding("escape,q", "cancel", "Close", id="compare.close")]
    DEFAULT_CSS = """
    CompareScreen > Vertical { width: 100%; height: 100%; }
    CompareScreen PairLog { height: 1fr; }
    """

    def __init__(self, comparison):
        super().__init__()
        self._c = comparison

    def compose(self) -> ComposeResult:
        c = self._c
        at = c.diverges_at
        where = f"the first divergent step is {at} (▶)" if at else "the two runs are identical"
        head = Text.assemble(
            (f"{c.left.label}", "bold"), " (left) and ", (f"{c.right.label}", "bold"),
            f" (right): {where}",
        )  # fmt: skip
        differs = [v for v in c.verdicts if v.differs]
        verdicts = "; ".join(f"{v.prop}: {v.left} / {v.right}" for v in differs)
        with Vertical():
            yield Label(head)
            yield Label(f"verdicts that differ: {verdicts}" if differs else "same verdicts")
            yield PairLog(c, id="pairs")
            yield Label("escape closes", classes="hint")


def comparison(bench, name: str | None, variant: str | None):
    """Branch `name` (left) beside the current line, or the current line under its own
    variant (left) and `variant`: each replayed to its end, as `hvtui run` would."""
    from hvtui.model.engine import Engine
    from hvtui.model.variants import VARIANTS
    from hvtui.runs.compare import Run, compare

    here = bench.line()
    if variant is not None:
        left = Run(here.variant, Engine(here.program, VARIANTS[here.variant]), here.trace)
        right = Run(variant, Engine(here.program, VARIANTS[variant]), here.trace)
        return compare(left, right)
    other = bench.line(name)
    left = Run(f"branch {name}", Engine(other.program, VARIANTS[other.variant]), other.trace)
    right = Run("current", Engine(here.program, VARIANTS[here.variant]), here.trace)
    return compare(left, right)
