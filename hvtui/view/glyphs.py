"""How one vCPU reads in the grid: its glyphs, their slots and the roles that colour them.

No Textual here, so the grid, its legend and any export draw from the same
table. Every field has its own slot and its own glyph, so a cell reads the
same in a monochrome terminal: colour only repeats what the glyphs say.

A full cell, for ids of width w (w = digits of the highest id):

    rel mark id(w) ' ' inhibit mode flush exit ' ' wait(w+2) gap
     ▶   *   12        I      K    F     x         S→3

`mark` is `*` (a marked flush target) or `✗` (this vCPU's own step violated
a property). `exit` is `x` (an exit is pending: it leaves KVM_RUN at its next
chance) or `q` (a VMM op naming it waits behind another op of its thread).
`wait` is `S→3` (suspended, waiting on 3), `S→?` (suspended with
waiting_on = -1: nobody will wake it, a lost wake-up), `·→3` (waiting_on
set but not suspended: between the two writes of suspend or unsuspend), or
`·` when neither. `rel` tells how the cell relates to the selected vCPU.

The dense zooms draw one character per vCPU (`dense_glyph`: the most telling
of its states), or half a character (a filled or empty half, see
hvtui.view.bankmap).
"""

from __future__ import annotations

from typing import NamedTuple

from hvtui.model.state import BLOCKED, GUEST, KERNEL, USER, Vcpu

CLEAR = "·"  # a clear flag: a dot keeps the slot visible, so columns line up
INHIBIT = "I"
NO_HYPERV = "∅"  # in the inhibit slot: no Hyper-V context, so no flag at all
FLUSH = "F"
EXIT = "x"
QUEUED = "q"
SUSPENDED = "S"
ARROW = "→"
LOST = "?"
MARK = "*"
VIOLATOR = "✗"
MODE_GLYPHS = {GUEST: "g", KERNEL: "K", BLOCKED: "b", USER: "u"}

# How a cell relates to the selected vCPU; the glyph sits in the `rel` slot.
NONE, SELECTED, TARGET, WAITER = 0, 1, 2, 3
RELATION_GLYPHS = {NONE: " ", SELECTED: "▶", TARGET: "◆", WAITER: "◇"}
RELATION_ROLES = {NONE: "", SELECTED: "cursor", TARGET: "target", WAITER: "waiter"}

# Roles name the look of a run of text. The grid and the legend turn each
# into a component class; these are its Textual CSS declarations. Theme
# variables keep light and dark themes readable; reverse, bold and underline
# carry the selection and the relations where a terminal has no colour
# (NO_COLOR) or only 16 (where a blend of two theme colours can land on the
# same ANSI colour as the text).
ROLE_CSS = {
    "id": "color: $foreground;",
    "clear": "color: $foreground-muted;",
    "inhibit": "color: $warning; text-style: bold;",
    "guest": "color: $success;",
    "kernel": "color: $accent; text-style: bold;",
    "blocked": "color: $error;",
    "user": "color: $foreground; text-style: italic;",
    "flush": "color: $primary; text-style: bold;",
    "exit": "color: $warning; text-style: bold;",
    "suspended": "color: $error; text-style: bold;",
    "waiting": "color: $warning;",
    "lost": "color: $error; text-style: bold reverse;",
    "mark": "color: $secondary; text-style: bold;",
    "violator": "color: $error; text-style: bold;",
    "nohv": "color: $secondary; text-style: bold;",
    "cursor": "text-style: bold reverse;",
    "target": "text-style: bold underline;",
    "waiter": "text-style: underline;",
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
    exit_pending: bool = False
    queued: bool = False  # a VMM op naming this vCPU waits behind another op
    violator: bool = False  # one of its own steps violated a property
    hyperv: bool = True  # has a Hyper-V context (model v2: a hot-plugged vCPU may not)


def cell_view(v: Vcpu, suspended: bool, queued: bool = False, violator: bool = False) -> CellView:
    """`suspended` comes from Engine.suspended(v): merged-state derives it."""
    return CellView(
        v.inhibit,
        v.mode,
        suspended,
        v.waiting_on,
        v.pending_flush,
        v.exit_pending,
        queued,
        violator,
        v.hyperv,
    )


def id_width(vcpus: int) -> int:
    return len(str(max(vcpus - 1, 0)))


def cell_width(vcpus: int) -> int:
    """rel + mark + id + space + 4 flags + space + wait + gap."""
    w = id_width(vcpus)
    return 1 + 1 + w + 1 + 4 + 1 + (w + 2) + 1


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


def _mark_run(view: CellView, marked: bool) -> Run:
    if view.violator:
        return VIOLATOR, "violator"
    return (MARK, "mark") if marked else (" ", "id")


def _flag_run(view: CellView) -> Run:
    if not view.hyperv:
        return NO_HYPERV, "nohv"
    return (INHIBIT, "inhibit") if view.inhibit else (CLEAR, "clear")


def _exit_run(view: CellView) -> Run:
    if view.exit_pending:
        return EXIT, "exit"
    return (QUEUED, "exit") if view.queued else (CLEAR, "clear")


def cell_runs(vcpu: int, view: CellView, w: int, rel: int, marked: bool) -> tuple[Run, ...]:
    """One cell as runs of (text, role), left to right: cell_width() - 1 columns.

    The highlight for `rel` (cursor, target, waiter) covers the cell but not
    trailing gap (the grid adds it), so neighbouring highlighted cells stay apart.
    """
    return (
        (RELATION_GLYPHS[rel], RELATION_ROLES[rel] or "id"),
        _mark_run(view, marked),
        (str(vcpu).rjust(w), "id"),
        (" ", "id"),
        _flag_run(view),
        (MODE_GLYPHS[view.mode], MODE_ROLES[view.mode]),
        (FLUSH, "flush") if view.pending_flush else (CLEAR, "clear"),
        _exit_run(view),
        (" ", "id"),
        *wait_runs(view, w),
    )


# -- the states a person counts and filters by ---------------------------------


class Condition(NamedTuple):
    """A state of a vCPU the grid can count, filter by and draw in one character."""

    name: str
    glyph: str
    role: str

    def holds(self, view: CellView) -> bool:
        return _PREDICATES[self.name](view)


_PREDICATES = {
    "no Hyper-V context": lambda v: not v.hyperv,
    "lost wake-up": lambda v: v.suspended and v.waiting_on == -1,
    "suspended": lambda v: v.suspended,
    "in hypercall": lambda v: v.mode == KERNEL,
    "inhibited": lambda v: v.inhibit,
    "blocked": lambda v: v.mode == BLOCKED,
    "flush pending": lambda v: v.pending_flush,
    "exit pending": lambda v: v.exit_pending,
    "userspace": lambda v: v.mode == USER,
}

# Most telling first: a vCPU's one-character glyph is the first state that holds.
STATES = (
    Condition("no Hyper-V context", NO_HYPERV, "nohv"),
    Condition("lost wake-up", LOST, "lost"),
    Condition("suspended", SUSPENDED, "suspended"),
    Condition("in hypercall", MODE_GLYPHS[KERNEL], "kernel"),
    Condition("inhibited", INHIBIT, "inhibit"),
    Condition("blocked", MODE_GLYPHS[BLOCKED], "blocked"),
    Condition("flush pending", FLUSH, "flush"),
    Condition("exit pending", EXIT, "exit"),
    Condition("userspace", MODE_GLYPHS[USER], "user"),
)
STATE_BY_NAME = {s.name: s for s in STATES}
# What the counts line shows, in reading order (the list first).
COUNTED = (
    "inhibited",
    "suspended",
    "blocked",
    "in hypercall",
    "flush pending",
    "exit pending",
    "no Hyper-V context",
)
IDLE_GLYPH = (CLEAR, "clear")  # in guest mode with nothing pending


def dense_glyph(view: CellView, only: Condition | None = None) -> tuple[str, str]:
    """One character and its role: the first state that holds, or, under a filter,
    the filter's glyph where it holds and the idle dot elsewhere."""
    if only is not None:
        return (only.glyph, only.role) if only.holds(view) else IDLE_GLYPH
    for state in STATES:
        if state.holds(view):
            return state.glyph, state.role
    return IDLE_GLYPH


def count_states(views) -> dict[str, int]:
    """How many vCPUs are in each counted state."""
    counts = dict.fromkeys(COUNTED, 0)
    preds = [(name, _PREDICATES[name]) for name in COUNTED]
    for view in views:
        for name, holds in preds:
            if holds(view):
                counts[name] += 1
    return counts


class LegendEntry(NamedTuple):
    sample: str
    role: str
    meaning: str


LEGEND = (
    LegendEntry(RELATION_GLYPHS[SELECTED], "cursor", "selected"),
    LegendEntry(RELATION_GLYPHS[TARGET], "target", "it waits on"),
    LegendEntry(RELATION_GLYPHS[WAITER], "waiter", "waits on it"),
    LegendEntry(MARK, "mark", "marked"),
    LegendEntry(VIOLATOR, "violator", "violated"),
    LegendEntry(INHIBIT, "inhibit", "inhibited"),
    LegendEntry(NO_HYPERV, "nohv", "no Hyper-V context"),
    LegendEntry(MODE_GLYPHS[GUEST], "guest", "guest"),
    LegendEntry(MODE_GLYPHS[KERNEL], "kernel", "in hypercall"),
    LegendEntry(MODE_GLYPHS[BLOCKED], "blocked", "blocked"),
    LegendEntry(MODE_GLYPHS[USER], "user", "userspace"),
    LegendEntry(FLUSH, "flush", "flush pending"),
    LegendEntry(EXIT, "exit", "exit pending"),
    LegendEntry(QUEUED, "exit", "VMM op queued"),
    LegendEntry(SUSPENDED + ARROW + "3", "suspended", "suspended on 3"),
    LegendEntry(CLEAR + ARROW + "3", "waiting", "waiting_on only"),
    LegendEntry(SUSPENDED + ARROW + LOST, "lost", "lost wake-up"),
    LegendEntry(CLEAR, "clear", "clear"),
)
