"""The plain-text race diagram kernel developers paste into commit messages and replies.

    CPU0                        VMM                              CPU1
    ==========================  ===============================  ===============
 4    READ_ONCE(vcpu1
        ->arch.hyperv
        ->tlb_flush_inhibit)
        == 0
 5                              ioctl(vcpu1_fd,
                                  KVM_HYPERV_SET_TLB_FLUSH_
                                  INHIBIT, {.inhibit = 1})
 ...
15                              ioctl returns 0
                                                                 .- inhibited
16                              ioctl(vcpu1_fd, KVM_RUN)         |
17*                                                              | kvm_hv_vcpu_
                                                                 |   flush_tlb()

One column per actor, headed as in Documentation/memory-barriers.txt
(`CPU0`, `CPU1`, `VMM`), one row per step with its number in the left
margin (the numbers `hvtui run` prints). A row stays inside its actor's
column: long lines wrap within it, at `->`, `(`, `,` and spaces. The columns
share at most WIDTH characters, sized so the fewest lines wrap; past
MAX_COLUMNS actors, those the first violation is least about share a last
column, each line prefixed with its actor. An inhibit window is a bar down the
target's column, from the step its ioctl returned to the `lock` of the
ioctl that clears it. Under the diagram, what went wrong, in a sentence.

What the steps say is hvtui.runs.kernel's business; this module lays out.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import groupby
from typing import NamedTuple

from hvtui.model.session import Session
from hvtui.model.state import actor_sort_key
from hvtui.model.variants import VARIANTS
from hvtui.runs.kernel import Line, cpu_name, ending, explain, kernel_lines, windows
from hvtui.scenario.load import Scenario

WIDTH = 80  # what a plain-text mail keeps unwrapped
MAX_COLUMNS = 4  # own columns; beyond, the rest share the last one
OTHERS = "others"  # the shared column's header
GAP = 2  # spaces between columns
MIN_COLUMN = 12  # narrower, and a kernel line is a word a line
HANG = 2  # a wrapped line's continuation is indented this much more
SPLIT = 30  # what breaking inside an identifier costs, in lines, when sizing columns
BAR = "| "  # the inhibit window, down the target's column
OPENS = ".- inhibited"
CLOSES = "'- uninhibit"
assert max(len(OPENS), len(CLOSES)) <= MIN_COLUMN, "a window's marks fit the narrowest column"


class Row(NamedTuple):
    time: int  # the first step the row stands for
    actors: tuple[str, ...]  # several when consecutive like steps were folded
    depth: int
    text: str
    head: str  # the enclosing call, one level up, drawn first
    violations: tuple[str, ...]


def render(
    scenario: Scenario,
    session: Session,
    width: int = WIDTH,
    actors: Sequence[str] | None = None,
    relevant: bool = False,
) -> str:
    """The diagram; `actors` shows only those (names as in the scenario), `relevant`
    leaves out the steps that do not bear on the first violation."""
    lines = kernel_lines(session)
    kept = lines
    if relevant:
        kept = relevant_lines(session, kept)
    if actors is not None:
        shown = set(actors)
        kept = [ln for ln in kept if ln.actor in shown]
    rows = fold_quiet(kept)
    out = textwrap.wrap(_title(scenario), width) + [""]
    if rows:
        order = order_actors(session, rows)
        out += _table(session, rows, own_columns(order, rows, _focus(kept)), order, width)
    else:
        out.append("(no steps shown)")
    out += _footer(session, lines, kept, width)
    return "\n".join(line.rstrip() for line in out) + "\n"


def _title(scenario: Scenario) -> str:
    variant = VARIANTS.get(scenario.variant)
    return f"{scenario.name}: {variant.source if variant else scenario.variant}"


# -- which steps ----------------------------------------------------------------


def relevant_lines(session: Session, lines: list[Line]) -> list[Line]:
    """The steps that bear on the first violation (or on how the run ends).

    Start from the violating step: its actor and the vCPUs it is about. Any
    actor with a step about one of those joins them (the flush that raised
    the request, the ioctl that set the flag), until nothing changes. Kept:
    every step of those actors up to the violation; dropped: the rest, such
    as an unrelated vCPU servicing its own flush.
    """
    first = session.first_violations()
    if not first:
        return lines
    step = min(first.values())
    upto = [ln for ln in lines if ln.time <= step]
    culprit = upto[-1]
    vcpus = set(culprit.about)
    actors = {culprit.actor}
    if culprit.actor.startswith("vcpu"):
        vcpus.add(int(culprit.actor[4:]))
    while True:
        joined = {ln.actor for ln in upto if vcpus.intersection(ln.about)} - actors
        if not joined:
            break
        actors |= joined
        vcpus |= {int(a[4:]) for a in joined if a.startswith("vcpu")}
    return [ln for ln in upto if ln.actor in actors]


def fold_quiet(lines: list[Line]) -> list[Row]:
    """One row per step, but a scan's run of non-matching iterations is one row."""
    rows: list[Row] = []
    for (quiet, actor), run in groupby(lines, lambda ln: (ln.quiet, ln.actor)):
        run = list(run)
        if quiet:
            first = run[0]
            ids = id_ranges([ln.subject for ln in run])
            found = tuple(v for ln in run for v in ln.violations)
            text = f"/* CPU{ids} not woken */"
            rows.append(Row(first.time, (actor,), first.depth, text, first.head, found))
            continue
        rows += [Row(ln.time, (actor,), ln.depth, ln.text, ln.head, ln.violations) for ln in run]
    return rows


def id_ranges(ids: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2,5"."""
    out = []
    for _, run in groupby(enumerate(ids), lambda pair: pair[1] - pair[0]):
        ids_run = [c for _, c in run]
        out.append(str(ids_run[0]) if len(ids_run) == 1 else f"{ids_run[0]}-{ids_run[-1]}")
    return ",".join(out)


def order_actors(session: Session, rows: list[Row]) -> list[str]:
    """Actors that start something (own ops) left, those that only react right."""
    engine = session.engine
    stepping = {a for row in rows for a in row.actors}

    def key(name: str):
        has_ops = bool(engine.ops[engine.index[name]])
        return (0 if has_ops else 1, actor_sort_key(name))

    return sorted(stepping, key=key)


# -- wrapping within a column ---------------------------------------------------

_DIGITS = re.compile(r"[0-9]")

# where a C line may break: after "(" (not "()") or ",", after a space (but not
# the one in "== 0", "/* x" or "x */"), before "->"
_BREAKS = re.compile(r"(?<=\()(?![ )])|(?<=,)(?! )|(?<=[^=*] )(?! |\*/)|(?=->)")


@lru_cache(maxsize=65536)
def wrap(text: str, width: int) -> tuple[tuple[str, ...], int]:
    """`text` in lines of at most `width`, continuations indented by HANG;
    and how many identifiers had to be broken (a token wider than the line)."""
    pieces = [p for p in _BREAKS.split(text) if p]
    lines: list[str] = []
    splits = 0
    current = ""
    for piece in pieces:
        room = width - (HANG if lines else 0)
        if current and len(current) + len(piece.rstrip()) > room:
            lines.append(current.rstrip())
            current = ""
            room = width - HANG
        if not current:
            piece = piece.lstrip()
        while len(piece.rstrip()) > room:  # an identifier wider than the column
            cut = piece.rfind("_", 1, room) + 1 or room
            lines.append(piece[:cut])
            piece = piece[cut:]
            splits += 1
            room = width - HANG
        current += piece
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return tuple(lines[:1] + [" " * HANG + ln for ln in lines[1:]]), splits


class _Cell(NamedTuple):
    """A row's text, as (indent, text) pieces, before wrapping."""

    pieces: tuple[tuple[int, str], ...]

    def lines(self, width: int) -> tuple[list[str], int]:
        out: list[str] = []
        splits = 0
        for indent, text in self.pieces:
            wrapped, n = wrap(text, max(4, width - indent))
            out += [" " * indent + ln for ln in wrapped]
            splits += n
        return out, splits


def _cell(row: Row, prefix: str) -> _Cell:
    pieces = []
    depth = row.depth
    if row.head:
        pieces.append((2 * max(0, depth - 1), row.head))
    pieces.append((2 * depth, row.text))
    if prefix:
        indent, text = pieces[0]
        pieces[0] = (indent, prefix + text)
    return _Cell(tuple(pieces))


# -- the table ------------------------------------------------------------------


def own_columns(order: list[str], rows: list[Row], focus: set[str]) -> list[str]:
    """The actors that get a column of their own, in column order.

    All of them if they fit; else MAX_COLUMNS - 1: first those the first
    violation is about (its window is drawn in a column of its own), then the
    VMM threads, then those with the most rows; the others share the last.
    """
    if len(order) <= MAX_COLUMNS:
        return order
    count: dict[str, int] = {}
    for row in rows:
        count[row.actors[0]] = count.get(row.actors[0], 0) + 1

    def rank(actor: str):
        return (actor not in focus, actor.startswith("vcpu"), -count[actor], order.index(actor))

    chosen = set(sorted(order, key=rank)[: MAX_COLUMNS - 1])
    return [a for a in order if a in chosen]


def _focus(lines: list[Line]) -> set[str]:
    """The actor that first violated something, and the vCPUs that step is about."""
    for ln in lines:
        if ln.violations:
            return {ln.actor, *(f"vcpu{c}" for c in ln.about)}
    return set()


def _table(session: Session, rows: list[Row], own: list[str], order, width: int) -> list[str]:
    shared = set(order) - set(own)
    if shared:
        rows = _fold_shared(rows, shared)
    names = [cpu_name(a) for a in own] + ([OTHERS] if shared else [])
    column = {a: i for i, a in enumerate(own)}
    column.update((a, len(own)) for a in shared)
    cells = [_cell(r, f"{_who(r.actors)}: " if r.actors[0] in shared else "") for r in rows]
    where = [column[r.actors[0]] for r in rows]
    bars = _bars(session, rows, {a: i for i, a in enumerate(own) if a.startswith("vcpu")})
    gutter = len(str(rows[-1].time)) + 2
    room = width - gutter - GAP * (len(names) - 1)
    if sum(max(MIN_COLUMN, len(n)) for n in names) > room:
        # a heading wider than a column can be (a long vmm:<name>) is cut to its share
        share = room // len(names)
        names = [n if len(n) <= share else n[: share - 3] + "..." for n in names]
    widths = _widths(names, cells, where, bars, room)
    xs = [gutter + sum(widths[:i]) + GAP * i for i in range(len(names))]

    out = [
        _place("", [(x, n) for x, n in zip(xs, names, strict=True)]),
        _place("", [(x, "=" * w) for x, w in zip(xs, widths, strict=True)]),
    ]
    open_bars: set[int] = set()  # columns with a window drawn down them now

    def emit(margin: str, items: list[tuple[int, str]]) -> None:
        taken = {i for i, _ in items}
        placed = [(xs[i], BAR.rstrip()) for i in sorted(open_bars - taken)]
        placed += [(xs[i], (BAR if i in open_bars else "") + text) for i, text in items]
        out.append(_place(margin, sorted(placed)))

    for k, (row, cell, col) in enumerate(zip(rows, cells, where, strict=True)):
        for i in bars.opens.get(k, ()):
            emit("", [(i, OPENS)])
            open_bars.add(i)
        inner = widths[col] - (len(BAR) if col in open_bars else 0)
        text, _ = cell.lines(inner)
        mark = "*" if row.violations else " "
        for n, line in enumerate(text):
            emit(f"{row.time:>{gutter - 2}}{mark} " if n == 0 else "", [(col, line)])
        for i in bars.closes.get(k, ()):
            open_bars.discard(i)
            emit("", [(i, CLOSES)])
    return out


class _Bars(NamedTuple):
    opens: dict[int, list[int]]  # row index -> columns whose window opens just before it
    closes: dict[int, list[int]]  # row index -> columns whose window closes just after it
    inside: set[tuple[int, int]]  # (row index, column) drawn inside a window


def _bars(session: Session, rows: list[Row], own: dict[str, int]) -> _Bars:
    """Where each inhibit window of a vCPU with its own column starts and ends.

    It opens under the row of the ioctl that returned with the flag set (at
    the top if it was set from the start) and closes under the `lock` of the
    ioctl that clears it, or runs on to the last row.
    """
    opens: dict[int, list[int]] = {}
    closes: dict[int, list[int]] = {}
    inside: set[tuple[int, int]] = set()
    for w in windows(session):
        col = own.get(f"vcpu{w.vcpu}")
        first = next((k for k, r in enumerate(rows) if r.time > w.opened), None)
        if col is None or first is None:
            continue
        last = len(rows) - 1
        if w.closed is not None:
            last = max((k for k, r in enumerate(rows) if r.time <= w.closed), default=-1)
            if last < first:
                continue  # nothing shown inside it
            closes.setdefault(last, []).append(col)
        opens.setdefault(first, []).append(col)
        inside.update((k, col) for k in range(first, last + 1))
    return _Bars(opens, closes, inside)


def _widths(names, cells, where, bars: _Bars, room: int) -> list[int]:
    """Each column's width, summing to at most `room`: the fewest lines in all."""
    count = len(names)
    lows = [max(MIN_COLUMN, len(n)) for n in names]
    costs = []
    for i in range(count):
        # Rows that differ only in their digits (vcpu7, vcpu4028) wrap alike: each
        # digit made a 0 keeps every length and break, so each shape is sized once.
        shapes = Counter(
            (_Cell(tuple((n, _DIGITS.sub("0", t)) for n, t in c.pieces)), (k, i) in bars.inside)
            for k, (c, w) in enumerate(zip(cells, where, strict=True))
            if w == i
        )
        natural = max(
            (len(t) + len(BAR) * barred for c, barred in shapes for t in c.lines(10**6)[0]),
            default=0,
        )
        table = {}
        for w in range(lows[i], max(lows[i], min(natural, room)) + 1):
            total = 0
            for (c, barred), n in shapes.items():
                lines, splits = c.lines(w - len(BAR) * barred)
                total += n * (len(lines) + SPLIT * splits)
            table[w] = total
        costs.append(table)
    # best[used] = (cost, widths) over the columns so far
    best: dict[int, tuple[int, list[int]]] = {0: (0, [])}
    for table in costs:
        nxt: dict[int, tuple[int, list[int]]] = {}
        for used, (cost, ws) in best.items():
            for w, c in table.items():
                total = used + w
                if total <= room and (total not in nxt or cost + c < nxt[total][0]):
                    nxt[total] = (cost + c, ws + [w])
        best = nxt
    if not best:
        raise ValueError(f"no diagram layout fits in {room} columns")
    _, ws = min(best.values(), key=lambda v: (v[0], -sum(v[1])))
    return ws


def _fold_shared(rows: list[Row], shared: set[str]) -> list[Row]:
    """In the shared column, consecutive rows of the same line become one."""
    out: list[Row] = []
    run: list[Row] = []
    seen: set[str] = set()

    def close() -> None:
        if run:
            out.append(
                run[0]._replace(
                    actors=tuple(r.actors[0] for r in run),
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
        same = run and (run[0].depth, run[0].text, run[0].head) == (row.depth, row.text, row.head)
        if not same or actor in seen:
            close()
        run.append(row)
        seen.add(actor)
    close()
    return out


def _who(actors: tuple[str, ...]) -> str:
    """CPU7, or CPU3-9 for a fold, or "4086 CPUs" when the list is long."""
    if len(actors) == 1:
        return cpu_name(actors[0])
    if not all(a.startswith("vcpu") for a in actors):
        return f"{len(actors)} threads"
    ids = id_ranges(sorted(int(a[4:]) for a in actors))
    return f"CPU{ids}" if len(ids) <= 12 else f"{len(actors)} CPUs"


def _place(margin: str, items: list[tuple[int, str]]) -> str:
    line = margin
    for x, text in items:
        line = line.ljust(x) + text
    return line


# -- what it shows ----------------------------------------------------------------


def _footer(session: Session, lines: list[Line], kept: list[Line], width: int) -> list[str]:
    out = [""]
    for prop, step in session.first_violations().items():
        text = f"* {explain(session, prop, step)}."
        out += textwrap.wrap(text, width, subsequent_indent="  ")
    out += textwrap.wrap(ending(session), width)
    left_out = sorted({ln.time for ln in lines} - {ln.time for ln in kept})
    if left_out:
        steps = id_ranges(left_out).replace(",", ", ")
        out += textwrap.wrap(f"Left out: steps {steps}.", width)
    return out
