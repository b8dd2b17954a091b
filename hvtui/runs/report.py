"""Plain-text views of a session: the final grid and the event log.

Shared by `hvtui run` and the exports; rich renders, nothing here is Textual.
"""

from __future__ import annotations

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
    table = Table(title=title, title_justify="left")
    table.add_column("vcpu", justify="right")
    for col in GRID_COLUMNS:
        table.add_column(col)
    rows = shown_vcpus(session)
    for c in rows:
        view = vcpu_view(session, c)
        table.add_row(str(c), *(_cell(view[col]) for col in GRID_COLUMNS))
    hidden = session.engine.n - len(rows)
    if hidden:
        table.caption = f"{hidden} more vCPUs, untouched, in their initial state"
    return table


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "-"
    return str(value) if value != "" else "-"


def event_line(event: Event) -> str:
    """`  12 vmm     inh  sync       synchronize_srcu: waits for vcpu0`"""
    return f"{event.time:>4} {event.actor:<8} {event.op or '.':<6} {event.step:<12} {event.text}"
