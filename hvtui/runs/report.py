"""Plain-text views of a session: the final grid and the event log.

Shared by `hvtui run` and the exports; rich renders, nothing here is Textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.table import Table

from hvtui.model.engine import Event
from hvtui.model.session import Session
from hvtui.model.state import Flush
from hvtui.scenario.expect import vcpu_view

GRID_COLUMNS = ("inhibit", "suspended", "waiting_on", "mode", "pending_flush", "flushes", "mutex")


def shown_vcpus(session: Session) -> list[int]:
    """vCPUs worth a row: named by the program, or no longer as they started.

    At 4096 vCPUs the idle ones would bury the few that matter.
    """
    engine = session.engine
    named: set[int] = set(engine.program.initial_inhibit)
    for c, ops in enumerate(engine.program.vcpu_ops):
        if ops:
            named.add(c)
            for op in ops:
                if isinstance(op, Flush) and len(op.targets) <= 64:  # not kernel work
                    named.update(op.targets)
    for _, ops in engine.program.threads:
        named.update(op.vcpu for op in ops)
    named.update(c for c, _, _ in session.initial.vcpus.diff(session.state.vcpus))
    return sorted(named) if engine.n > 16 else list(range(engine.n))


def grid_table(session: Session, title: str = "final state") -> Table:
    """One row per vCPU worth showing; past 16 vCPUs a run of consecutive
    vCPUs whose rows read the same is one row, `64-831`."""
    rows = shown_vcpus(session)
    cells = [tuple(_cell(vcpu_view(session, c)[col]) for col in GRID_COLUMNS) for c in rows]
    fold = session.engine.n > 16
    labelled = []
    i = 0
    while i < len(rows):
        j = i + 1
        while fold and j < len(rows) and rows[j] == rows[j - 1] + 1 and cells[j] == cells[i]:
            j += 1
        labelled.append((str(rows[i]) if j == i + 1 else f"{rows[i]}-{rows[j - 1]}", cells[i]))
        i = j
    table = Table(title=title, title_justify="left")
    # the ids stay whole: the other columns give way first
    width = max((len(label) for label, _ in labelled), default=4)
    table.add_column("vcpu", justify="right", no_wrap=True, min_width=width)
    for col in GRID_COLUMNS:
        table.add_column(col)
    for label, row in labelled:
        table.add_row(label, *row)
    hidden = session.engine.n - len(rows)
    if hidden:
        table.caption = f"{hidden} more vCPUs, untouched, in their initial state"
    return table


def abridged(detail: str, most: int = 8) -> str:
    """A progress detail ("vcpu1 waits at ...; vcpu2 ...") cut to its first
    `most` parts, saying how many more there are."""
    parts = detail.split("; ")
    if len(parts) <= most:
        return detail
    return "; ".join(parts[:most]) + f"; and {len(parts) - most:,} more (--json lists them all)"


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "-"
    return str(value) if value != "" else "-"


def event_line(event: Event) -> str:
    """`  12 vmm     inh  sync       synchronize_srcu: waits for vcpu0`"""
    return f"{event.time:>4} {event.actor:<8} {event.op or '.':<6} {event.step:<12} {event.text}"


def event_log(session: Session, keep: tuple[int, list[int]] | None, hint: str) -> Iterator[str]:
    """The event log as lines, each violating step marked.

    `keep` = (n, steps): past 2n steps only the first n, the last n and the
    given steps are shown; each gap is one line saying how many steps it
    stands for and `hint` (the flag that shows them all). None: every step.
    """
    events, violations = session.events, session.violations
    total = len(events)
    if keep is None or total <= 2 * keep[0]:
        shown: Iterable[int] = range(total)
    else:
        n, steps = keep
        middle = sorted({s - 1 for s in steps if n < s <= total - n})
        shown = [*range(n), *middle, *range(total - n, total)]
    after = 0  # the index one past the last line shown
    for i in shown:
        if i > after:
            yield f"     ... {i - after:,} steps elided ({hint}) ..."
        found = violations[i]
        mark = f"   <-- violates {', '.join(found)}" if found else ""
        yield event_line(events[i]) + mark
        after = i + 1
