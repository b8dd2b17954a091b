"""The vCPU grid: every vCPU as one cell, drawn with Textual's Line API.

One ScrollView holds 1 to 4096 vCPUs (one widget per cell would make Textual
slow to start and lay out). Cells flow left to right, as many per row as the
width allows, and the rows scroll. A step changes one or two vCPUs, so
`show` refreshes only their lines, and `render_line` builds a line's Strip
once per distinct content: an LRU keyed by everything the line shows.
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
from hvtui.view.glyphs import (
    ID_RUN,
    NONE,
    RELATION_ROLES,
    ROLE_CSS,
    SELECTED,
    TARGET,
    WAITER,
    CellView,
    cell_runs,
    cell_view,
    cell_width,
    component_css,
    id_width,
)

PREFIX = "vcpugrid"
ID_SLOT = "\0"  # where a cell template takes its vCPU's id
Templated = tuple[str, Style, bool]  # (text, style, has the id slot)


class VcpuGrid(ScrollView, can_focus=True, inherit_bindings=False):
    """The vCPUs of a state, one cell each; the cursor selects one."""

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
        self._waiters: dict[int, set[int]] = {}  # waiting_on -> who waits on it
        self._digits = 1
        self._cell = cell_width(1)
        self._per_row = 1
        # Big enough for every row of 4096 vCPUs at 4 cells a row (80 columns),
        # so scrolling back over them renders nothing again.
        self._lines: LRUCache[tuple, Strip] = LRUCache(1100)
        self._styles: dict[tuple[str, str], Style] = {}
        self._templates: LRUCache[tuple, tuple[Templated, ...]] = LRUCache(4096)
        self._base: Style | None = None  # self.rich_style walks the DOM: once per style change

    # -- what the app calls ----------------------------------------------------

    @property
    def vcpus(self) -> int:
        return len(self._views)

    @property
    def per_row(self) -> int:
        """Cells in a row at the current width."""
        return self._per_row

    def show(self, engine: Engine, state: State, marked: frozenset[int] = frozenset()) -> None:
        """Display this state; refresh only the lines whose cells changed.

        A new Engine for the same machine (the workbench builds one when an op
        is added) draws cells the same way, so it costs a diff, not a redraw.
        """
        old = self._engine
        if old is None or old.n != engine.n or old.variant != engine.variant:
            self._reset(engine, state, marked)
            return
        self._engine = engine
        views = self._views
        cursor = self.cursor
        dirty: set[int] = set(self._marked ^ marked)
        for c, _, v in self._state.vcpus.diff(state.vcpus):
            view = cell_view(v, engine.suspended(v))
            before = views[c]
            if view == before:
                continue
            views[c] = view
            dirty.add(c)
            if view.waiting_on != before.waiting_on:
                self._reindex(c, before.waiting_on, view.waiting_on)
                if c == cursor:  # the selected vCPU's target moved: both cells change
                    dirty.update(t for t in (before.waiting_on, view.waiting_on) if t >= 0)
        self._state = state
        self._marked = marked
        self._refresh_cells(dirty)

    def move_cursor(self, vcpu: int) -> None:
        self.cursor = vcpu

    # -- state -----------------------------------------------------------------

    def _reset(self, engine: Engine, state: State, marked: frozenset[int]) -> None:
        self._engine = engine
        self._state = state
        self._marked = marked
        self._views = [cell_view(v, engine.suspended(v)) for v in state.vcpus]
        self._waiters = {}
        for c, view in enumerate(self._views):
            self._reindex(c, -1, view.waiting_on)
        self._digits = id_width(engine.n)
        self._cell = cell_width(engine.n)
        self._lines.clear()
        self.cursor = self.cursor  # clamped to the new vCPU count by validate_cursor
        self._layout()
        self.refresh()

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
        # refresh_lines takes content y: a row index, whatever the scroll.
        for row in {c // self._per_row for c in cells}:
            self.refresh_lines(row)

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
        c, per_row = self.cursor, self._per_row
        region = Region((c % per_row) * self._cell, c // per_row, self._cell, 1)
        self.scroll_to_region(region, animate=False, force=True, immediate=True)

    def action_cursor_left(self) -> None:
        self.cursor -= 1

    def action_cursor_right(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        if self.cursor >= self._per_row:
            self.cursor -= self._per_row

    def action_cursor_down(self) -> None:
        # Down from the row above a short last row lands on the last vCPU.
        if self.cursor // self._per_row < self._rows() - 1:
            self.cursor += self._per_row

    def action_cursor_first(self) -> None:
        self.cursor = 0

    def action_cursor_last(self) -> None:
        self.cursor = self.vcpus - 1

    def action_cursor_page_up(self) -> None:
        self._move_rows(-self._page())

    def action_cursor_page_down(self) -> None:
        self._move_rows(self._page())

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _move_rows(self, rows: int) -> None:
        """Up or down by whole rows in the same column, stopping at the first or last row."""
        row = max(0, min(self.cursor // self._per_row + rows, self._rows() - 1))
        self.cursor = row * self._per_row + self.cursor % self._per_row

    def on_click(self, event: events.Click) -> None:
        vcpu = event.style.meta.get("vcpu")
        if vcpu is not None:
            self.cursor = vcpu

    # -- layout ----------------------------------------------------------------

    def _rows(self) -> int:
        return -(-self.vcpus // self._per_row)

    def _layout(self) -> None:
        """As many cells per row as fit; the scrollbar's columns only when rows overflow."""
        width, height = self.size
        per_row = max(1, width // self._cell)
        if -(-self.vcpus // per_row) > height:
            per_row = max(1, (width - self.styles.scrollbar_size_vertical) // self._cell)
        self._per_row = per_row
        self.virtual_size = Size(per_row * self._cell, self._rows())

    def on_resize(self, event: events.Resize) -> None:
        per_row = self._per_row
        self._layout()
        if per_row != self._per_row:
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
        return self._row_strip(scroll_y + y).crop_extend(
            scroll_x, scroll_x + width, self._base_style()
        )

    def _row_strip(self, row: int) -> Strip:
        per_row = self._per_row
        start = row * per_row
        stop = min(self.vcpus, start + per_row)
        if start >= stop:
            # below the last row; styled, since the monochrome filter reads every segment's style
            return Strip.blank(0, self._base_style())
        views = self._views
        cursor = self.cursor
        target = views[cursor].waiting_on
        marked = self._marked
        cells = []
        for c in range(start, stop):
            view = views[c]
            if c == cursor:
                rel = SELECTED
            elif c == target:
                rel = TARGET
            elif view.waiting_on == cursor:
                rel = WAITER
            else:
                rel = NONE
            cells.append((view, rel, c in marked))
        key = (row, per_row, tuple(cells))  # everything the line shows
        strip = self._lines.get(key)
        if strip is None:
            strip = self._draw(start, key[2])
            self._lines[key] = strip
        return strip

    def _draw(self, start: int, cells: tuple[tuple[CellView, int, bool], ...]) -> Strip:
        segments: list[Segment] = []
        append = segments.append
        digits = self._digits
        for c, (view, rel, marked) in enumerate(cells, start):
            # The vCPU id rides on every segment, so a click anywhere in the cell finds it.
            meta = Style.from_meta({"vcpu": c})
            for text, style, has_id in self._template(view, rel, marked):
                if has_id:
                    text = text.replace(ID_SLOT, str(c).rjust(digits))
                append(Segment(text, style + meta))
        return Strip(segments, len(cells) * self._cell)

    def _template(self, view: CellView, rel: int, marked: bool) -> tuple[Templated, ...]:
        """A cell's styled runs with a slot for its id: cells that look alike share one.

        Every segment's style is unique once the id's meta is added, so runs of
        one role are joined here, once per look rather than once per cell.
        """
        key = (view, rel, marked)
        template = self._templates.get(key)
        if template is None:
            runs = list(cell_runs(0, view, self._digits, rel, marked))
            runs[ID_RUN] = (ID_SLOT, runs[ID_RUN][1])
            joined: list[list[str]] = []
            for text, role in runs:
                if joined and joined[-1][1] == role:
                    joined[-1][0] += text
                else:
                    joined.append([text, role])
            highlight = RELATION_ROLES[rel]
            styled = [
                (text, self._style(role, highlight), ID_SLOT in text) for text, role in joined
            ]
            styled.append((" ", self._style("id", ""), False))  # the gap: never highlighted
            template = self._templates[key] = tuple(styled)
        return template

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
