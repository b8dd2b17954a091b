"""The vCPU grid: every vCPU of a state, drawn with Textual's Line API, at three zooms.

One ScrollView holds 1 to 4096 vCPUs (one widget per cell would make Textual
slow to start and lay out). Rows start on 64-vCPU sparse-bank boundaries and
carry the bank's number (hvtui.view.bankmap); a zoom shows each vCPU as a
full cell, one character, or half a character. A step changes one or two
vCPUs, so `show` refreshes only their lines, and `render_line` builds a
line's Strip once per distinct content: an LRU keyed by everything the line
shows. A click finds its vCPU from the layout, so segments carry no meta and
neighbouring cells that look alike are one segment.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hvtui.model.engine import Engine
from hvtui.model.state import State
from hvtui.view.bankmap import CELLS, CHARS, HALF_GLYPHS, HALVES, Layout, layout
from hvtui.view.glyphs import (
    COUNTED,
    IDLE_GLYPH,
    NONE,
    RELATION_GLYPHS,
    RELATION_ROLES,
    ROLE_CSS,
    SELECTED,
    STATE_BY_NAME,
    TARGET,
    WAITER,
    CellView,
    Condition,
    cell_runs,
    cell_view,
    component_css,
    dense_glyph,
    id_width,
)

PREFIX = "vcpugrid"
_COUNTERS = tuple((name, STATE_BY_NAME[name].holds) for name in COUNTED)


class VcpuGrid(ScrollView, can_focus=True, inherit_bindings=False):
    """The vCPUs of a state; the cursor selects one."""

    COMPONENT_CLASSES = {f"{PREFIX}--{role}" for role in ROLE_CSS}
    DEFAULT_CSS = "VcpuGrid { height: 1fr; }\n" + component_css("VcpuGrid", PREFIX)
    # inherit_bindings=False: ScrollView's own arrow/page keys would scroll
    # the view instead of moving the cursor.
    BINDINGS = [
        Binding("left,h", "cursor_left", "Left", show=False, id="grid.left"),
        Binding("right,l", "cursor_right", "Right", show=False, id="grid.right"),
        Binding("up,k", "cursor_up", "Up", show=False, id="grid.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="grid.down"),
        Binding("home", "cursor_first", "First vCPU", show=False, id="grid.first"),
        Binding("end", "cursor_last", "Last vCPU", show=False, id="grid.last"),
        Binding("pageup", "cursor_page_up", "Page up", show=False, id="grid.page_up"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False, id="grid.page_down"),
    ]

    cursor: var[int] = var(0, init=False)
    """The selected vCPU."""

    class Selected(Message):
        """The cursor moved to `vcpu` (keys, mouse or move_cursor)."""

        def __init__(self, grid: VcpuGrid, vcpu: int) -> None:
            super().__init__()
            self.grid = grid
            self.vcpu = vcpu

        @property
        def control(self) -> VcpuGrid:
            return self.grid

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ):
        super().__init__(name=name, id=id, classes=classes)
        self._engine: Engine | None = None
        self._state: State | None = None
        self._views: list[CellView] = []
        self._marked: frozenset[int] = frozenset()
        self._queued: frozenset[int] = frozenset()
        self._violators: frozenset[int] = frozenset()
        self._waiters: dict[int, set[int]] = {}  # waiting_on -> who waits on it
        self.counts: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self._digits = 1
        self._zoom = CELLS
        self._filter: Condition | None = None
        self._layout = layout(1, CELLS, 80)
        # Big enough for every line of 4096 vCPUs at 4 cells a row (80 columns),
        # so scrolling back over them renders nothing again.
        self._lines: LRUCache[tuple, Strip] = LRUCache(1100)
        self._styles: dict[tuple, Style] = {}
        self._templates: LRUCache[tuple, tuple[tuple[str, Style], ...]] = LRUCache(4096)
        self._base: Style | None = None  # self.rich_style walks the DOM: once per style change

    # -- what the app calls ----------------------------------------------------

    @property
    def vcpus(self) -> int:
        return len(self._views)

    @property
    def per_row(self) -> int:
        """vCPUs in a row at the current width and zoom."""
        return self._layout.per_row

    @property
    def grid_layout(self) -> Layout:
        return self._layout

    @property
    def zoom(self) -> int:
        return self._zoom

    @property
    def only(self) -> Condition | None:
        """The state the grid shows alone (None: every state)."""
        return self._filter

    def waiters(self, c: int) -> set[int]:
        """The vCPUs whose waiting_on names c."""
        return self._waiters.get(c, set())

    def set_zoom(self, zoom: int) -> None:
        if zoom != self._zoom:
            self._zoom = zoom
            self._relayout()

    def set_filter(self, only: Condition | None) -> None:
        if only != self._filter:
            self._filter = only
            self._lines.clear()
            self.refresh()

    def show(
        self,
        engine: Engine,
        state: State,
        marked: frozenset[int] = frozenset(),
        queued: frozenset[int] = frozenset(),
        violators: frozenset[int] = frozenset(),
    ) -> None:
        """Display this state; refresh only the lines whose cells changed.

        A new Engine for the same machine (the workbench builds one when an op
        is added) draws cells the same way, so it costs a diff, not a redraw.
        """
        old = self._engine
        if old is None or old.n != engine.n or old.variant != engine.variant:
            self._reset(engine, state, marked, queued, violators)
            return
        self._engine = engine
        cursor = self.cursor
        dirty: set[int] = set(self._marked ^ marked)
        flagged = (self._queued ^ queued) | (self._violators ^ violators)
        changed = {c: v for c, _, v in self._state.vcpus.diff(state.vcpus)}
        for c in flagged:
            changed.setdefault(c, state.vcpus[c])
        for c, v in changed.items():
            view = cell_view(v, engine.suspended(v), c in queued, c in violators)
            before = self._views[c]
            if view == before:
                continue
            self._set_view(c, before, view)
            dirty.add(c)
            if view.waiting_on != before.waiting_on and c == cursor:
                # the selected vCPU's target moved: both cells change
                dirty.update(t for t in (before.waiting_on, view.waiting_on) if t >= 0)
        self._state = state
        self._marked, self._queued, self._violators = marked, queued, violators
        self._refresh_cells(dirty)

    def move_cursor(self, vcpu: int) -> None:
        self.cursor = vcpu

    # -- state -----------------------------------------------------------------

    def _reset(
        self,
        engine: Engine,
        state: State,
        marked: frozenset[int],
        queued: frozenset[int],
        violators: frozenset[int],
    ) -> None:
        self._engine = engine
        self._state = state
        self._marked, self._queued, self._violators = marked, queued, violators
        self._views = [
            cell_view(v, engine.suspended(v), c in queued, c in violators)
            for c, v in enumerate(state.vcpus)
        ]
        self._waiters = {}
        self.counts = dict.fromkeys(COUNTED, 0)
        for c, view in enumerate(self._views):
            self._reindex(c, -1, view.waiting_on)
            self._count(view, 1)
        self._digits = id_width(engine.n)
        self.cursor = self.cursor  # clamped to the new vCPU count by validate_cursor
        self._relayout()

    def _set_view(self, c: int, before: CellView, view: CellView) -> None:
        self._views[c] = view
        self._count(before, -1)
        self._count(view, 1)
        if view.waiting_on != before.waiting_on:
            self._reindex(c, before.waiting_on, view.waiting_on)

    def _count(self, view: CellView, sign: int) -> None:
        counts = self.counts
        for name, holds in _COUNTERS:
            if holds(view):
                counts[name] += sign

    def _reindex(self, c: int, old: int, new: int) -> None:
        if old >= 0:
            self._waiters[old].discard(c)
        if new >= 0:
            self._waiters.setdefault(new, set()).add(c)

    def _related(self, c: int) -> set[int]:
        """c, the vCPU it waits on and those waiting on it: the cells c's selection marks."""
        related = {c} | self._waiters.get(c, set())
        if self._views and self._views[c].waiting_on >= 0:
            related.add(self._views[c].waiting_on)
        return related

    def _refresh_cells(self, cells: set[int]) -> None:
        # refresh_lines takes content y: a line index, whatever the scroll.
        line = self._layout.line
        for y in {line(c) for c in cells}:
            self.refresh_lines(y)

    # -- the cursor ------------------------------------------------------------

    def validate_cursor(self, vcpu: int) -> int:
        return max(0, min(vcpu, self.vcpus - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        if not self._views:
            return
        self._refresh_cells(self._related(min(old, self.vcpus - 1)) | self._related(new))
        self._scroll_to_cursor()
        self.post_message(self.Selected(self, new))

    def _scroll_to_cursor(self) -> None:
        if not self._views or not self.size:
            return
        c, lay = self.cursor, self._layout
        region = Region(lay.x(c), lay.line(c), lay.cell, 1)
        self.scroll_to_region(region, animate=False, force=True, immediate=True)

    def action_cursor_left(self) -> None:
        self.cursor -= 1

    def action_cursor_right(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        if self.cursor >= self.per_row:
            self.cursor -= self.per_row

    def action_cursor_down(self) -> None:
        # Down from the row above a short last row lands on the last vCPU.
        if self.cursor // self.per_row < self._layout.rows - 1:
            self.cursor += self.per_row

    def action_cursor_first(self) -> None:
        self.cursor = 0

    def action_cursor_last(self) -> None:
        self.cursor = self.vcpus - 1

    def action_cursor_page_up(self) -> None:
        self._page(-1)

    def action_cursor_page_down(self) -> None:
        self._page(1)

    def _page(self, sign: int) -> None:
        """A screenful up or down: the view scrolls by a page and the cursor moves with
        it, keeping its place on screen (at the first or last row it stops there)."""
        lay = self._layout
        height = max(1, self.scrollable_content_region.height)
        per_line = 2 if lay.zoom == HALVES else 1
        top = max(0, min(self.scroll_offset.y + sign * height, lay.lines - height))
        self.scroll_to(y=top, animate=False, immediate=True, force=True)
        row = self.cursor // lay.per_row + sign * height * per_line
        row = max(0, min(row, lay.rows - 1))
        self.cursor = min(row * lay.per_row + self.cursor % lay.per_row, self.vcpus - 1)

    def vcpu_at(self, x: int, y: int) -> int | None:
        """The vCPU drawn at content offset (x, y) (HALVES: the upper one)."""
        lay = self._layout
        x -= lay.label
        if x < 0:
            return None
        span = lay.per_row * lay.cell + (lay.per_row // 64 - 1 if lay.gaps else 0)
        if x >= span:
            return None
        if lay.gaps:
            bank, rest = divmod(x, 64 * lay.cell + 1)
            if rest == 64 * lay.cell:
                return None  # the gap between two banks
            col = bank * 64 + rest // lay.cell
        else:
            col = x // lay.cell
        row = lay.rows_of_line(y)[0] if y < lay.lines else lay.rows
        c = row * lay.per_row + col
        return c if c < self.vcpus else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        scroll_x, scroll_y = self.scroll_offset
        vcpu = self.vcpu_at(offset.x + scroll_x, offset.y + scroll_y)
        if vcpu is not None:
            self.cursor = vcpu

    # -- layout ----------------------------------------------------------------

    def layout_for(self, width: int) -> Layout:
        return layout(self.vcpus or 1, self._zoom, width)

    def _relayout(self) -> None:
        self._lines.clear()
        self._layout_rows()
        self.refresh()
        self._scroll_to_cursor()

    def _layout_rows(self) -> None:
        """As many vCPUs per row as fit; the scrollbar's columns only when rows overflow."""
        width, height = self.size
        lay = self.layout_for(width)
        if lay.lines > height:
            lay = self.layout_for(width - self.styles.scrollbar_size_vertical)
        self._layout = lay
        self.virtual_size = Size(lay.width, lay.lines)

    def on_resize(self, event: events.Resize) -> None:
        before = self._layout
        self._layout_rows()
        if before != self._layout:
            self._lines.clear()
            self.refresh()
        self._scroll_to_cursor()

    def notify_style_update(self) -> None:
        # A theme or CSS change: every cached colour is stale.
        self._styles.clear()
        self._templates.clear()
        self._lines.clear()
        self._base = None
        super().notify_style_update()

    # -- drawing ---------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        return self._line_strip(scroll_y + y).crop_extend(
            scroll_x, scroll_x + width, self._base_style()
        )

    def _rel(self, c: int, view: CellView, cursor: int, target: int) -> int:
        if c == cursor:
            return SELECTED
        if c == target:
            return TARGET
        return WAITER if view.waiting_on == cursor else NONE

    def _line_strip(self, y: int) -> Strip:
        lay = self._layout
        rows = lay.rows_of_line(y)
        if not rows:
            # below the last row; styled, since the monochrome filter reads every segment's style
            return Strip.blank(0, self._base_style())
        views, cursor, marked = self._views, self.cursor, self._marked
        target = views[cursor].waiting_on
        rel = self._rel
        spans = []
        for row in rows:
            start = row * lay.per_row
            stop = min(self.vcpus, start + lay.per_row)
            spans.append(
                tuple(
                    (views[c], rel(c, views[c], cursor, target), c in marked)
                    for c in range(start, stop)
                )
            )
        key = (y, lay, self._filter, self._mono(), tuple(spans))  # everything the line shows
        strip = self._lines.get(key)
        if strip is None:
            strip = self._lines[key] = self._draw(y, spans)
        return strip

    def _mono(self) -> bool:
        return bool(getattr(self.app, "no_color", False))

    def _draw(self, y: int, spans: list[tuple]) -> Strip:
        lay = self._layout
        pieces: list[tuple[str, Style]] = []
        if lay.label:
            pieces.append((lay.label_text(y), self._style("clear", "")))
        start = lay.rows_of_line(y)[0] * lay.per_row
        if lay.zoom == CELLS:
            for c, (view, rel, marked) in enumerate(spans[0], start):
                pieces.extend(self._cell(c, view, rel, marked))
        elif lay.zoom == CHARS:
            for i, (view, rel, _) in enumerate(spans[0]):
                if lay.gaps and i and i % 64 == 0:
                    pieces.append((" ", self._style("id", "")))
                text, role = dense_glyph(view, self._filter)
                pieces.append((text, self._style(role, RELATION_ROLES[rel])))
        else:
            lower = spans[1] if len(spans) > 1 else ()
            for i, upper in enumerate(spans[0]):
                if lay.gaps and i and i % 64 == 0:
                    pieces.append((" ", self._style("id", "")))
                pieces.append(self._half(upper, lower[i] if i < len(lower) else None))
        return Strip(_joined(pieces))

    def _cell(self, c: int, view: CellView, rel: int, marked: bool) -> list[tuple[str, Style]]:
        """A full cell's runs, from a template shared by cells that look alike."""
        key = (view, rel, marked)
        template = self._templates.get(key)
        if template is None:
            highlight = RELATION_ROLES[rel]
            runs = [
                (text, self._style(role, highlight))
                for text, role in cell_runs(0, view, self._digits, rel, marked)
            ]
            runs.append((" ", self._style("id", "")))  # the gap: never highlighted
            template = self._templates[key] = tuple(runs)
        pieces = list(template)
        pieces[2] = (str(c).rjust(self._digits), pieces[2][1])
        return pieces

    def _filled(self, view: CellView) -> bool:
        only = self._filter
        return only.holds(view) if only is not None else dense_glyph(view) != IDLE_GLYPH

    def _half(self, upper: tuple, lower: tuple | None) -> tuple[str, Style]:
        """One character for two vCPUs: filled halves, each in its vCPU's colour.

        Without colour a filled half is the only sign, so a character whose
        halves are both filled is a full block. The selected vCPU's character
        is its own glyph in reverse video; its target and waiters' are ◆ and ◇.
        """
        pair = (upper, lower) if lower is not None else (upper,)
        for want in (SELECTED, TARGET, WAITER):
            for view, rel, _ in pair:
                if rel == want:
                    glyph = dense_glyph(view)[0] if rel == SELECTED else RELATION_GLYPHS[rel]
                    return glyph, self._style(dense_glyph(view)[1], RELATION_ROLES[rel])
        top = self._filled(upper[0])
        bottom = lower is not None and self._filled(lower[0])
        if self._mono():
            return HALF_GLYPHS[top, bottom], self._style("id", "")
        colours = tuple(
            self._colour(view) if full else None
            for view, full in ((upper[0], top), (lower[0] if lower else None, bottom))
        )
        if top:
            return "▀", self._half_style(*colours)
        if bottom:
            return "▄", self._half_style(colours[1], None)
        return " ", self._style("id", "")

    def _colour(self, view: CellView):
        only = self._filter
        role = only.role if only is not None else dense_glyph(view)[1]
        return self._style(role, "").color

    def _half_style(self, fg, bg) -> Style:
        key = ("half", fg, bg)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self._base_style() + Style(color=fg, bgcolor=bg)
        return style

    def _base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _style(self, role: str, highlight: str) -> Style:
        key = (role, highlight)
        style = self._styles.get(key)
        if style is None:
            style = self._base_style() + self.get_component_rich_style(
                f"{PREFIX}--{role}", partial=True
            )
            if highlight:
                style += self.get_component_rich_style(f"{PREFIX}--{highlight}", partial=True)
            self._styles[key] = style
        return style


def _joined(pieces: list[tuple[str, Style]]) -> list[Segment]:
    """Neighbouring runs of one style as one segment: fewer segments to crop and write."""
    segments: list[Segment] = []
    text, style = pieces[0]
    for t, s in pieces[1:]:
        if s is style or s == style:
            text += t
        else:
            segments.append(Segment(text, style))
            text, style = t, s
    segments.append(Segment(text, style))
    return segments
