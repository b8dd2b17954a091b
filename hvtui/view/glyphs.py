"""How one vCPU reads in a grid cell: its glyphs, their slots and the roles that colour them.

No Textual here, so the grid, its legend and any export draw from the same
table. Every field has its own slot and its own glyph, so a cell reads the
same in a monochrome terminal: colour only repeats what the glyphs say.

A cell, for ids of width w (w = digits of the highest id):

    rel mark id(w) ' ' inhibit mode flush ' ' wait(w+2) gap
     ▶   *   12        I      K    F         S→3

`wait` is `S→3` (suspended, waiting on 3), `S→?` (suspended with
waiting_on = -1: nobody will wake it, a lost wake-up), `·→3` (waiting_on
set but not suspended: between the two writes of suspend or unsuspend), or
`·` when neither. `rel` tells how the cell relates to the selected vCPU.
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.state import BLOCKED, GUEST, KERNEL, USER, Vcpu

CLEAR = "·"  # a clear flag: a dot keeps the slot visible, so columns line up
INHIBIT = "I"
FLUSH = "F"
SUSPENDED = "S"
ARROW = "→"
LOST = "?"
MARK = "*"
MODE_GLYPHS = {GUEST: "g", KERNEL: "K", BLOCKED: "b", USER: "u"}

# How a cell relates to the selected vCPU; the glyph sits in the `rel` slot.
NONE, SELECTED, TARGET, WAITER = 0, 1, 2, 3
RELATION_GLYPHS = {NONE: " ", SELECTED: "▶", TARGET: "◆", WAITER: "◇"}
RELATION_ROLES = {NONE: "", SELECTED: "cursor", TARGET: "target", WAITER: "waiter"}

# Roles name the colour of a run of text. The grid and the legend turn each
# into a component class; these are its Textual CSS declarations. Theme
# variables keep light and dark themes readable; bold/underline survive
# NO_COLOR, where a terminal drops every colour.
ROLE_CSS = {
    "id": "color: $foreground;",
    "clear": "color: $foreground-muted;",
    "inhibit": "color: $warning; text-style: bold;",
    "guest": "color: $success;",
    "kernel": "color: $accent; text-style: bold;",
    "blocked": "color: $error;",
    "user": "color: $secondary;",
    "flush": "color: $primary; text-style: bold;",
    "suspended": "color: $error; text-style: bold;",
    "waiting": "color: $warning;",
    "lost": "color: $error; text-style: bold reverse;",
    "mark": "color: $secondary; text-style: bold;",
    "cursor": "background: $block-cursor-background; color: $block-cursor-foreground;"
    " text-style: bold;",
    "target": "background: $error-muted; text-style: underline;",
    "waiter": "background: $warning-muted;",
}


def component_css(widget: str, prefix: str) -> str:
    """`Widget > .prefix--role { ... }` for every role: one colour table for grid and legend."""
    return "\n".join(f"{widget} > .{prefix}--{role} {{ {css} }}" for role, css in ROLE_CSS.items())


MODE_ROLES = {GUEST: "guest", KERNEL: "kernel", BLOCKED: "blocked", USER: "user"}


class CellView(NamedTuple):
    """What a cell shows of one vCPU; two equal views draw identical cells."""

    inhibit: bool
    mode: str
    suspended: bool
    waiting_on: int
    pending_flush: bool


def cell_view(v: Vcpu, suspended: bool) -> CellView:
    """`suspended` comes from Engine.suspended(v): merged-state derives it."""
    return CellView(v.inhibit, v.mode, suspended, v.waiting_on, v.pending_flush)


def id_width(vcpus: int) -> int:
    return len(str(max(vcpus - 1, 0)))


def cell_width(vcpus: int) -> int:
    """rel + mark + id + space + 3 flags + space + wait + gap."""
    w = id_width(vcpus)
    return 1 + 1 + w + 1 + 3 + 1 + (w + 2) + 1


Run = tuple[str, str]  # (text, role)


def wait_runs(view: CellView, w: int) -> tuple[Run, ...]:
    """The wait slot, w + 2 columns."""
    if view.suspended:
        if view.waiting_on == -1:
            return (((SUSPENDED + ARROW + LOST).ljust(w + 2), "lost"),)
        return ((SUSPENDED + ARROW + str(view.waiting_on).ljust(w), "suspended"),)
    if view.waiting_on != -1:
        return (CLEAR, "clear"), (ARROW + str(view.waiting_on).ljust(w), "waiting")
    return ((CLEAR.ljust(w + 2), "clear"),)


ID_RUN = 2  # where cell_runs puts the id: a drawing can keep the rest and swap the id in


def cell_runs(vcpu: int, view: CellView, w: int, rel: int, marked: bool) -> tuple[Run, ...]:
    """One cell as runs of (text, role), left to right: cell_width() - 1 columns.

    The highlight for `rel` (cursor, target, waiter) covers the cell but not
    trailing gap (the grid adds it), so neighbouring highlighted cells stay apart.
    """
    return (
        (RELATION_GLYPHS[rel], RELATION_ROLES[rel] or "id"),
        (MARK, "mark") if marked else (" ", "id"),
        (str(vcpu).rjust(w), "id"),
        (" ", "id"),
        (INHIBIT, "inhibit") if view.inhibit else (CLEAR, "clear"),
        (MODE_GLYPHS[view.mode], MODE_ROLES[view.mode]),
        (FLUSH, "flush") if view.pending_flush else (CLEAR, "clear"),
        (" ", "id"),
        *wait_runs(view, w),
    )


class LegendEntry(NamedTuple):
    sample: str
    role: str
    meaning: str


LEGEND = (
    LegendEntry(RELATION_GLYPHS[SELECTED], "cursor", "selected"),
    LegendEntry(RELATION_GLYPHS[TARGET], "target", "it waits on"),
    LegendEntry(RELATION_GLYPHS[WAITER], "waiter", "waits on it"),
    LegendEntry(MARK, "mark", "marked"),
    LegendEntry(INHIBIT, "inhibit", "inhibited"),
    LegendEntry(MODE_GLYPHS[GUEST], "guest", "guest"),
    LegendEntry(MODE_GLYPHS[KERNEL], "kernel", "in hypercall"),
    LegendEntry(MODE_GLYPHS[BLOCKED], "blocked", "blocked"),
    LegendEntry(MODE_GLYPHS[USER], "user", "userspace"),
    LegendEntry(FLUSH, "flush", "flush pending"),
    LegendEntry(SUSPENDED + ARROW + "3", "suspended", "suspended on 3"),
    LegendEntry(CLEAR + ARROW + "3", "waiting", "waiting_on only"),
    LegendEntry(SUSPENDED + ARROW + LOST, "lost", "lost wake-up"),
    LegendEntry(CLEAR, "clear", "clear"),
)
