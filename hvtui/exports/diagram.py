"""The plain-text race diagram kernel developers paste into commit messages.

    vcpu0                              vmm
    -----                              ---
  3 kvm_hv_flush_tlb() /* 0x6 */
  4   READ_ONCE(tlb_flush_inhibit) /* vcpu1: 0 */
  5                                    SET_TLB_FLUSH_INHIBIT(vcpu1, 1)

One column per actor that steps, one row per step, the step number in the
left margin (the same numbers `hvtui run` prints), and at the bottom the
properties the run violated, with the step. Pure ASCII and at most WIDTH
columns, so it survives a plain-text mail: a row's text may run on past the
next column's start (only one actor acts per row, as in hand-drawn
diagrams), and when even that does not fit, the actors that do least share
one last column, each line prefixed with its actor.
"""

from __future__ import annotations

import textwrap
from itertools import groupby
from typing import NamedTuple

from hvtui.exports.kernel import Line, kernel_lines
from hvtui.model.properties import DESCRIPTIONS
from hvtui.model.session import Session
from hvtui.model.state import actor_sort_key
from hvtui.scenario.load import Scenario

WIDTH = 80  # what a plain-text mail keeps unwrapped
OTHERS = "others"  # the shared column's header
MIN_STEP = 8  # columns closer than this stop reading as columns
DETAIL_MAX = 160  # a progress detail longer than this is summarised


class Row(NamedTuple):
    time: int  # the first step the row stands for
    actors: tuple[str, ...]  # several when consecutive like steps were folded
    depth: int
    code: str
    note: str
    violations: tuple[str, ...]


def render(scenario: Scenario, session: Session, width: int = WIDTH) -> str:
    rows = fold_quiet(kernel_lines(session))
    title = f"{scenario.name}: variant {scenario.variant}, {session.pos} steps"
    out = [_clip(title, width), ""]
    if rows:
        out += _table(rows, order_actors(session, rows), width)
    else:
        out.append("(no steps taken)")
    out += _footer(session, width)
    return "\n".join(line.rstrip() for line in out) + "\n"


# -- rows ---------------------------------------------------------------------


def fold_quiet(lines: list[Line]) -> list[Row]:
    """One row per step, but a scan's run of non-matching iterations is one row."""
    rows: list[Row] = []
    for (quiet, actor), run in groupby(lines, lambda ln: (ln.quiet, ln.actor)):
        run = list(run)
        if quiet and len(run) > 1:
            first = run[0]
            ids = id_ranges([ln.subject for ln in run])
            found = tuple(v for ln in run for v in ln.violations)
            rows.append(Row(first.time, (actor,), first.depth, "", f"vcpu{ids} stay", found))
            continue
        rows += [Row(ln.time, (actor,), ln.depth, ln.code, ln.note, ln.violations) for ln in run]
    return rows


def id_ranges(ids: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2,5"."""
    out = []
    for _, run in groupby(enumerate(ids), lambda pair: pair[1] - pair[0]):
        ids_run = [c for _, c in run]
        out.append(str(ids_run[0]) if len(ids_run) == 1 else f"{ids_run[0]}-{ids_run[-1]}")
    return ",".join(out)


def order_actors(session: Session, rows: list[Row]) -> list[str]:
    """Actors that start something (own ops) left, those that only react right.

    Reacting vCPUs write short lines (a flush, an exit), so they fit best in
    the narrow room the rightmost columns have.
    """
    engine = session.engine
    stepping = {a for row in rows for a in row.actors}

    def key(name: str):
        has_ops = bool(engine.ops[engine.index[name]])
        return (0 if has_ops else 1, actor_sort_key(name))

    return sorted(stepping, key=key)


# -- layout -------------------------------------------------------------------


def _cell(row: Row, prefix: str = "") -> tuple[str, str]:
    """The row's text as (first line, the note alone) for wrapping."""
    indent = "  " * row.depth
    note = f"/* {row.note} */" if row.note else ""
    if not row.code:
        return prefix + indent + note, ""
    below = " " * len(prefix) + indent + "  " + note  # the note alone, under its line
    return prefix + indent + row.code, below if note else ""


def _lines(row: Row, room: int, prefix: str = "") -> list[str]:
    """The row's text on one line if it fits in `room`, else the note below."""
    code, note = _cell(row, prefix)
    if not note:
        return [code]
    joined = f"{code} {note.strip()}"
    return [joined] if len(joined) <= room else [code, note]


def _offsets(
    names: list[str], rows_of: list[list[Row]], prefix, start: int, width: int
) -> list[int] | None:
    """Where each column starts: the layout that wraps fewest notes.

    First choice: every column as wide as its widest line, nothing wrapped.
    Otherwise evenly spaced columns, the widest spacing among those that
    wrap fewest notes. None if some line cannot fit at all.
    """
    joined = [
        max(
            (
                len(" ".join(t.strip() if i else t for i, t in enumerate(_cell(r, prefix(r))) if t))
                for r in rows
            ),
            default=0,
        )
        for rows in rows_of
    ]
    spans = [max(len(n), j) + 2 for n, j in zip(names, joined, strict=True)]
    natural = [start + sum(spans[:i]) for i in range(len(names))]
    if natural[-1] + joined[-1] <= width:
        return natural
    least = max(MIN_STEP, *(len(n) + 2 for n in names))
    best = None
    for step in range(max(least, (width - start) // max(1, len(names) - 1)), least - 1, -1):
        xs = [start + i * step for i in range(len(names))]
        wraps = _wraps(xs, rows_of, prefix, width)
        if wraps is not None and (best is None or wraps < best[0]):
            best = (wraps, xs)
    return best[1] if best else None


def _wraps(xs: list[int], rows_of: list[list[Row]], prefix, width: int) -> int | None:
    """How many rows wrap their note at these offsets; None if a line overflows."""
    count = 0
    for x, rows in zip(xs, rows_of, strict=True):
        for row in rows:
            lines = _lines(row, width - x, prefix(row))
            if max(map(len, lines)) > width - x:
                return None
            count += len(lines) > 1
    return count


def _table(rows: list[Row], order: list[str], width: int) -> list[str]:
    gutter = len(str(rows[-1].time)) + 2
    most = min(len(order), (width - gutter) // MIN_STEP)  # more columns never fit
    for dedicated in range(most, 0, -1):
        own = order if dedicated == len(order) else order[: dedicated - 1]
        shared = order[len(own) :]
        table = _try_table(rows, own, shared, gutter, width)
        if table is not None:
            return table
    raise ValueError(f"no diagram layout fits in {width} columns")


def _try_table(rows, own: list[str], shared: list[str], gutter: int, width: int):
    column = {a: i for i, a in enumerate(own)}
    in_shared = set(shared)
    if shared:
        rows = _fold_shared(rows, in_shared)
        column.update((a, len(own)) for a in shared)
    names = own + ([OTHERS] if shared else [])
    prefixes = {r.time: f"{_who(r.actors)}: " for r in rows if r.actors[0] in in_shared}

    def prefix(row: Row) -> str:
        return prefixes.get(row.time, "")

    rows_of = [[r for r in rows if column[r.actors[0]] == i] for i in range(len(names))]
    xs = _offsets(names, rows_of, prefix, gutter, width)
    if xs is None:
        return None
    out = [
        _place("", [(x, n) for x, n in zip(xs, names, strict=True)]),
        _place("", [(x, "-" * len(n)) for x, n in zip(xs, names, strict=True)]),
    ]
    for row in rows:
        x = xs[column[row.actors[0]]]
        mark = "*" if row.violations else " "
        margin = f"{row.time:>{gutter - 2}}{mark} "
        for i, text in enumerate(_lines(row, width - x, prefix(row))):
            out.append(_place(margin if i == 0 else "", [(x, text)]))
    return out


def _fold_shared(rows: list[Row], shared: set[str]) -> list[Row]:
    """In the shared column, consecutive rows of the same line become one."""
    out: list[Row] = []
    run: list[Row] = []
    seen: set[str] = set()

    def close() -> None:
        if run:
            notes = {r.note for r in run}
            out.append(
                run[0]._replace(
                    actors=tuple(r.actors[0] for r in run),
                    note=run[0].note if len(notes) == 1 else "",
                    violations=tuple(v for r in run for v in r.violations),
                )
            )
            run.clear()
            seen.clear()

    for row in rows:
        actor = row.actors[0]
        if actor not in shared:
            close()
            out.append(row)
            continue
        if not run or (run[0].depth, run[0].code) != (row.depth, row.code) or actor in seen:
            close()
        run.append(row)
        seen.add(actor)
    close()
    return out


def _who(actors: tuple[str, ...]) -> str:
    """vcpu7, or vcpu3-9 for a fold, or "4086 vCPUs" when the list is long."""
    if len(actors) == 1:
        return actors[0]
    if not all(a.startswith("vcpu") for a in actors):
        return f"{len(actors)} actors"
    ids = id_ranges(sorted(int(a[4:]) for a in actors))
    return f"vcpu{ids}" if len(ids) <= 12 else f"{len(actors)} vCPUs"


def _place(margin: str, items: list[tuple[int, str]]) -> str:
    line = margin
    for x, text in items:
        line = line.ljust(x) + text
    return line


# -- the verdicts -------------------------------------------------------------


def _footer(session: Session, width: int) -> list[str]:
    out = [""]
    events = session.events
    for prop, step in session.first_violations().items():
        event = events[step - 1]
        text = f"* step {step} ({event.actor}, {event.step}) violates {prop}: {DESCRIPTIONS[prop]}."
        out += textwrap.wrap(text, width, subsequent_indent="  ")
    if not session.first_violations():
        out.append("No property was violated on this run.")
    done = session.progress()
    if done is not None:
        detail = done.detail
        if len(detail) > DETAIL_MAX:
            detail = f"{detail.count('; ') + 1} actors wait"
        out += textwrap.wrap(f"progress: {done.verdict} ({detail})", width, subsequent_indent="  ")
    return out


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
