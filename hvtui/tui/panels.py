"""The panels around the grid: the selected vCPU, the actors, the event log, the verdicts.

Each panel has a `show(bench, ...)` the app calls after a step. The two
that can grow long (the event log at 100k steps, the actors at 4096 vCPUs)
are Line-API lists: only the rows in view are ever built.
"""

from __future__ import annotations

from typing import NamedTuple
from weakref import WeakKeyDictionary

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from hvtui.model.engine import DONE, format_targets
from hvtui.model.properties import DESCRIPTIONS, HOLDS, PROGRESS, PROPERTIES, VIOLATED
from hvtui.model.state import KERNEL, Flush
from hvtui.view.actors import ActorRow, group_text
from hvtui.view.actors import rows as actor_rows
from hvtui.view.bench import Bench, interesting

Run = tuple[str, str]  # (text, role); role "" is the panel's own style


class Row(NamedTuple):
    runs: tuple[Run, ...]
    role: str = ""  # laid over every run: the current line, the next actor
    meta: dict | None = None  # what a click on the row carries


class LineList(ScrollView, can_focus=False):
    """Rows of styled runs, drawn one line at a time; subclasses say what row i is."""

    PREFIX = "lines"
    ROLES: dict[str, str] = {}  # role -> CSS declarations
    DEFAULT_CSS = "LineList { height: 1fr; }"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.COMPONENT_CLASSES = {f"{cls.PREFIX}--{role}" for role in cls.ROLES}
        rules = "\n".join(
            f"{cls.__name__} > .{cls.PREFIX}--{role} {{ {css} }}" for role, css in cls.ROLES.items()
        )
        cls.DEFAULT_CSS = f"{cls.__name__} {{ height: 1fr; }}\n{rules}"

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._count = 0
        self._current = 0
        self._width = 0
        self._styles: dict[tuple[str, str], Style] = {}

    def row(self, i: int) -> Row:
        """Row i's runs and role; every panel built on LineList says what its rows are."""
        raise NotImplementedError(f"{type(self).__name__} must define row()")

    def show_rows(self, count: int, current: int) -> None:
        """`count` rows, with row `current` kept in view (now, and after a resize)."""
        self._count = count
        self._current = current
        self._set_virtual(Size(self._width, count))  # the height first: scrolling clamps to it
        self._follow()
        self.refresh()

    def _set_virtual(self, size: Size) -> None:
        """virtual_size, without a relayout of the whole screen when the scrollbars stay as
        they are: the log grows by a row every step, and a layout costs a full-screen
        reflow (what Textual does for a change of `virtual_size`, a layout reactive)."""
        old = self.virtual_size
        if size == old:
            return
        view = self.scrollable_content_region.size
        same_bars = (old.height > view.height) == (size.height > view.height) and (
            old.width > view.width
        ) == (size.width > view.width)
        if not (same_bars and view.height and self.is_mounted):
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)  # the scrollbars' ranges and the scroll clamp
        self.refresh()

    def on_resize(self) -> None:
        self._follow()

    def _scroll_update(self, virtual_size: Size) -> None:
        """Textual moves the bar's thumb when the view scrolls, and not when the bar
        appears: a run that grows the log past the view scrolls it first, and the
        thumb stayed at the top. Place it where the view is."""
        super()._scroll_update(virtual_size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def _follow(self) -> None:
        """Scroll so the current row is in view with context on both sides: up to half
        the view above it (the steps that led here) and a quarter below (what comes
        next); then widen the view to the widest row now in view."""
        i = self._current
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        above = min(height // 2, i)
        below = min(height // 4, max(self._count - 1 - i, 0))
        if height > 0 and i - above < top:
            self.scroll_to(y=i - above, animate=False, immediate=True, force=True)
        elif height > 0 and i + below >= top + height:
            self.scroll_to(y=i + below - height + 1, animate=False, immediate=True, force=True)
        top = self.scroll_offset.y
        for row in range(top, min(self._count, top + max(height, 1))):
            self._width = max(self._width, sum(len(text) for text, _ in self.row(row).runs))
        self._set_virtual(Size(self._width, self._count))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        i = scroll_y + y
        if i >= self._count:
            return Strip.blank(width, base)
        row = self.row(i)
        meta = Style.from_meta(row.meta) if row.meta else None
        segments = [Segment(text, self._style(role, row.role) + meta) for text, role in row.runs]
        line_style = self._style("", row.role)
        line = Strip(segments)
        if line.cell_length > scroll_x + width > scroll_x + 1:
            # Cut at the view's edge: an ellipsis says so (`vcpu 1 is not in` read as a
            # whole line at 80 columns, where the kernel line says `is not inhibited`).
            cut = line.crop(scroll_x, scroll_x + width - 1)
            return Strip.join([cut, Strip([Segment("…", line_style)])])
        return line.crop_extend(scroll_x, scroll_x + width, line_style)

    def _style(self, role: str, over: str) -> Style:
        key = (role, over)
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style
            for name in (role, over):
                if name:
                    style += self.get_component_rich_style(f"{self.PREFIX}--{name}", partial=True)
            self._styles[key] = style
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()  # a theme change: every cached colour is stale
        super().notify_style_update()


class EventLog(LineList):
    """Row 0 is the initial state, row i the event of step i; the current step is lit
    (▶, reverse video), a step that violated a property is marked ✗.

    Steps after the current one (a recorded future: a schedule, or steps
    undone with step-back) are dimmed and marked ┊: stepping forward walks them.
    Columns are as wide as the program's longest actor name and op id, so a long
    id never pushes the kernel lines; a step of no op (service, resume,
    leave) shows `-`.
    """

    PREFIX = "eventlog"
    ROLES = {
        "current": "text-style: bold reverse;",
        "future": "color: $foreground-muted; text-style: dim;",
        "interest": "color: $warning; text-style: bold;",
        "violation": "color: $error; text-style: bold;",
    }

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._bench: Bench | None = None
        self.columns = Columns(4, 5, 2)

    def show(self, bench: Bench) -> None:
        self._bench = bench
        session = bench.session
        self.columns = columns_for(bench.engine, len(session.events))
        self.show_rows(len(session.events) + 1, session.pos)

    def row(self, i: int) -> Row:
        session = self._bench.session
        pos = session.pos
        role = "current" if i == pos else "future" if i > pos else ""
        mark = "▶" if i == pos else "┊" if i > pos else " "
        if i == 0:
            return Row(((mark + "  ", ""), (f"{0:>{self.columns.time}} initial state", "")), role)
        event = session.events[i - 1]
        found = session.violations[i - 1]
        runs: list[Run] = [
            (mark, ""),
            ("✗ " if found else "  ", "violation"),  # at the left edge: seen even when cut
            (
                self.columns.line(event),
                "interest" if interesting(event) else "",
            ),
        ]
        source = self._source(i, event)
        if source is not None:
            runs.append((f"  ← trace line {source}", ""))
        if found:
            runs.append((f"  ✗ violates {', '.join(found)}", "violation"))
        return Row(tuple(runs), role)

    def _source(self, i: int, event) -> int | None:
        """The trace line step i explains, while the step is still the trace's run's."""
        sources = getattr(self.app, "sources", ())
        if i > len(sources):
            return None
        actor, text, line = sources[i - 1]
        return line if (event.actor, event.text) == (actor, text) else None


class Columns(NamedTuple):
    """The event log's column widths: step number, actor, op id."""

    time: int
    actor: int
    op: int

    def header(self) -> str:
        return (
            f"   {'step':>{self.time}} {'actor':<{self.actor}} {'op':<{self.op}} "
            f"{'line':<{STEP_WIDTH}} kernel function or tracepoint"
        )

    def line(self, event) -> str:
        op = event.op or "-"
        if len(op) > self.op:
            op = op[: self.op - 1] + "…"
        return (
            f"{event.time:>{self.time}} {event.actor:<{self.actor}} {op:<{self.op}} "
            f"{event.step:<{STEP_WIDTH}} {event.text}"
        )


STEP_WIDTH = 12  # "unsuspend 63", "request 4095"
MAX_OP = 12  # a longer op id is cut with …: the kernel lines stay where they are


def columns_for(engine, steps: int) -> Columns:
    """Widths for this engine's actors and ops (read once per engine: 4096 actors' ops)."""
    widths = _WIDTHS.get(engine)
    if widths is None:
        ids = [op.id for ops in engine.ops for op in ops]
        widths = (max(len(name) for name in engine.names), min(MAX_OP, max([2, *map(len, ids)])))
        _WIDTHS[engine] = widths
    return Columns(max(4, len(str(steps))), *widths)


_WIDTHS: WeakKeyDictionary = WeakKeyDictionary()  # engine -> (actor width, op width)


class ActorsPanel(LineList):
    """Every actor with something to do: its next step, or why it waits.

    vCPUs that wait at the same step for the same kind of reason are one row
    (hvtui.view.actors), and actors that have finished are counted on the
    last row, so 4096 vCPUs do not bury the three that matter. A click on an
    actor that can step chooses it for the next step.
    """

    PREFIX = "actors"
    ROLES = {
        "next": "text-style: bold reverse;",
        "waits": "color: $foreground-muted;",
        "idle": "color: $foreground-muted; text-style: italic;",
    }

    class Chosen(Message):
        """A click chose `actor` to take the next step."""

        def __init__(self, actor: int) -> None:
            super().__init__()
            self.actor = actor

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._rows: list[ActorRow] = []
        self._idle = 0
        self._next: int | None = None
        self._names: list[str] = []
        self._name_width = 5

    def show(self, bench: Bench) -> None:
        self._next, how = bench.next_actor()
        self._names = bench.engine.names
        self._rows, self._idle = actor_rows(bench.statuses(), bench.engine.n, self._next)
        self._name_width = max(map(len, self._names))  # stable columns as actors come and go
        who = "nobody" if self._next is None else self._names[self._next]
        self.border_title = f"actors · next: {who} ({how})"
        index = next((i for i, r in enumerate(self._rows) if r.actors[0] == self._next), 0)
        self.show_rows(len(self._rows) + (1 if self._idle else 0), index)

    def row(self, i: int) -> Row:
        if i >= len(self._rows):
            return Row((("  ", ""), (f"+{self._idle} finished, nothing to do", "idle")))
        r = self._rows[i]
        if len(r.actors) > 1:
            return Row((("  ", ""), (group_text(r), "waits")))
        actor = r.actors[0]
        name = self._names[actor].ljust(self._name_width)
        mark = "▶ " if actor == self._next else "  "
        if r.enabled:
            runs: tuple[Run, ...] = ((mark, ""), (f"{name}  {r.step}", ""))
        elif r.why == DONE:
            runs = ((mark, ""), (f"{name}  done", "idle"))
        else:
            runs = ((mark, ""), (f"{name}  {r.step}", ""), (f"  waits: {r.why}", "waits"))
        return Row(runs, "next" if actor == self._next else "", {"actor": actor})

    def on_click(self, event: events.Click) -> None:
        actor = event.style.meta.get("actor")
        if actor is not None:
            self.post_message(self.Chosen(actor))


class TextPanel(Static):
    """A fixed-size panel of text that redraws only when its text changed."""

    _shown: Text | None = None

    def show_text(self, text: Text, layout: bool = False) -> None:
        """`layout`: the panel's height follows its text (a fixed size needs no relayout)."""
        if text != self._shown:
            self._shown = text
            self.update(text, layout=layout)


class TitleBar(TextPanel):
    """The top line: scenario, variant, step i/n and flags.

    Textual's Header relayouts the whole screen on every title change; this
    line has a fixed size, so a step redraws one line.
    """

    DEFAULT_CSS = """
    TitleBar {
        dock: top; height: 1; width: 100%;
        background: $panel; color: $foreground; text-style: bold;
        content-align: center middle;
    }
    """

    _parts: tuple[str, list[str]] = ("", [])

    def show(self, name: str, flags: list[str]) -> None:
        """A name too long for the line is cut, never the flags: the step and the variant
        are what the line is read for."""
        self._parts = (name, flags)
        rest = f" — {' · '.join(flags)}"
        room = (self.size.width or self.app.size.width) - len(rest)
        if len(name) > room:
            name = name[: max(room - 1, 1)] + "…"
        self.show_text(Text(name + rest))

    def on_resize(self) -> None:
        self.show(*self._parts)


class DetailPanel(TextPanel):
    """The selected vCPU: every field, its program, and what its thread does next."""

    def show(self, bench: Bench, c: int, waiters: set[int] = frozenset()) -> None:
        """`waiters`: who waits on c (the grid keeps that index; a scan would cost 4096)."""
        engine, state = bench.engine, bench.session.state
        v = state.vcpus[c]
        self.border_title = f"vcpu{c}" + ("  * marked" if c in bench.marked else "")
        derived = " (waiting_on != -1)" if engine.variant.merged_state else ""
        pairs = [
            ("inhibit", _yes(v.inhibit)),
            ("suspended", _yes(engine.suspended(v)) + derived),
            ("waiting_on", str(v.waiting_on)),
            ("mode", v.mode),
            ("pending_flush", _yes(v.pending_flush)),
            ("flushes", str(v.flushes)),
            ("mutex", v.mutex or "free"),
            ("exit_pending", _yes(v.exit_pending)),
            ("srcu_reader", _yes(v.srcu_reader)),
            ("srcu_gen", str(v.srcu_gen)),
        ]
        text = Text()
        for (k1, v1), (k2, v2) in zip(pairs[::2], pairs[1::2], strict=True):
            text.append(k1.ljust(14), "dim").append(v1.ljust(8))
            text.append(k2.ljust(13), "dim").append(f"{v2}\n")
        ops = engine.ops[c]
        if v.op < len(ops):
            op = ops[v.op]
            if isinstance(op, Flush):
                at = f"{v.pc} {op.targets[v.k]}" if v.pc in ("check", "request") else v.pc
                what = f"flush {format_targets(op.targets)}, at {at}"
            else:  # kernel work: vmexit, then vmentry
                what = f"{op.op}, at {'vmentry' if v.mode == KERNEL else 'vmexit'}"
            program = f"op {v.op + 1}/{len(ops)} {op.id}: {what}"
        else:
            program = f"all {len(ops)} ops done" if ops else "no ops"
        text.append("program ", "dim").append(f"{program}\n")
        st = engine.status(state, c)
        text.append("next    ", "dim")
        if st.enabled:
            text.append(st.step, "bold").append(" (can step now)")
        elif st.why == DONE:
            text.append("nothing: done")
        else:
            text.append(st.step, "bold").append(f" waits: {st.why}")
        if waiters:
            named = sorted(waiters)
            text.append("\nwaited on by ", "dim").append(
                f"{len(named)}: {format_targets(tuple(named))}"
            )
        self.show_text(text)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


VERDICT_GLYPHS = {
    "holds": "✓",
    "violated": "✗",
    "pending": "…",
    "blocked-by-design": "■",
    "incomplete": "?",
}


def fit_verdicts(
    verdicts: list[tuple[str, str]], room: int
) -> tuple[list[tuple[str, str]], list[str]]:
    """The (property, verdict) lines that fit in `room` rows, and the holding properties
    folded into one more line: none when all fit. Otherwise the ones not holding come
    first (a violation, or progress still undecided, is what the panel is read for),
    then as many holding ones as leave a row for the fold, each group in `verdicts`'
    order. Two or more are folded, never one: one would fit in the fold line's row."""
    if len(verdicts) <= room:
        return verdicts, []
    open_ = [pv for pv in verdicts if pv[1] != HOLDS]
    holding = [pv for pv in verdicts if pv[1] == HOLDS]
    keep = max(room - 1 - len(open_), 0)
    return open_ + holding[:keep], [prop for prop, _ in holding[keep:]]


class PropertiesPanel(TextPanel):
    """Each property as it stands after the current step, and what the checker is doing."""

    COMPONENT_CLASSES = {"properties--violated"}
    DEFAULT_CSS = """
    PropertiesPanel { text-wrap: nowrap; text-overflow: ellipsis; }
    PropertiesPanel > .properties--violated { color: $text-error; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.tooltip = "\n".join(f"{p}: {DESCRIPTIONS[p]}" for p in PROPERTIES)

    def show(self, bench: Bench, check_line: str = "") -> None:
        """One line per property; on a short panel the ones not holding come first and
        the holding ones that do not fit share its last line, so a violation is never
        cut off and no row stays empty."""
        session = bench.session
        first = session.first_violations()
        done = session.progress()
        width = max(map(len, PROPERTIES))
        violated = self.get_component_rich_style("properties--violated", partial=True)
        verdicts = []
        for prop in PROPERTIES:
            if prop == PROGRESS:
                verdict = done.verdict if done else "pending"
            else:
                verdict = VIOLATED if prop in first else HOLDS
            verdicts.append((prop, verdict))
        detail = done.detail if done is not None and done.verdict != HOLDS else ""
        extra = bool(detail) + bool(check_line)
        rows = self.size.height or len(PROPERTIES) + extra
        shown, folded = fit_verdicts(verdicts, rows - extra)
        cols = self.size.width or self.app.size.width
        text = Text()
        for prop, verdict in shown:
            said = verdict + (f" at {first[prop]}" if prop in first else "")  # where it broke
            style = violated if verdict == "violated" else ""
            # the names' column narrows for a verdict too long for the panel, not the verdict
            pad = max(len(prop), min(width, cols - 3 - len(said)))
            text.append(f"{VERDICT_GLYPHS.get(verdict, ' ')} ", style)
            text.append(f"{prop.ljust(pad)} ").append(said, style).append("\n")
            if prop == PROGRESS and detail:
                text.append(f"  {detail}\n", "dim")
        if folded:
            more = " more" if any(verdict == HOLDS for _, verdict in shown) else ""
            text.append(f"{VERDICT_GLYPHS[HOLDS]} {len(folded)}{more} hold: ")
            text.append(", ".join(folded), "dim").append("\n")
        if check_line:
            text.append(check_line, "italic")
        text.rstrip()
        self.show_text(text)

    def on_resize(self) -> None:
        self.app.changed()  # the fold depends on the height


class GridCounts(TextPanel):
    """One line under the grid: how many vCPUs are in each state; the filtered one in brackets.

    Where the line is too narrow for every count (80 columns), the zeros are left out, so
    the counts that matter and the filter are never cut off its end.
    """

    DEFAULT_CSS = "GridCounts { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    _counts: tuple[dict[str, int], str | None] = ({}, None)

    def show(self, counts: dict[str, int], only: str | None) -> None:
        self._counts = (counts, only)
        text = self._line(counts, only, zeros=True)
        if text.cell_len > (self.content_region.width or self.app.size.width):
            text = self._line(counts, only, zeros=False)
        self.show_text(text)

    @staticmethod
    def _line(counts: dict[str, int], only: str | None, zeros: bool) -> Text:
        parts: list[tuple[str, str]] = []
        for name, count in counts.items():
            if name == only:
                parts.append((f"[{name} {count}]", "bold reverse"))
            elif count or zeros:
                parts.append((f"{name} {count}", "bold" if count else "dim"))
        if only is not None and only not in counts:
            parts.append((f"[only {only}]", "bold reverse"))
        return Text("  ").join(Text(part, style) for part, style in parts)

    def on_resize(self) -> None:
        self.show(*self._counts)


SEVERITY_MARKS = {"information": "ℹ", "warning": "!", "error": "✗"}


class MessageBar(TextPanel):
    """The workbench's messages, on their own line above the keys: they never cover a row.

    Textual's toasts float over the bottom right, which is where the event
    log's current row and its kernel line are.
    """

    DEFAULT_CSS = """
    MessageBar { height: auto; max-height: 3; width: 100%; padding: 0 1; }
    MessageBar.-error { text-style: bold; }
    MessageBar.-one-line { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def say(
        self, message: str, title: str = "", severity: str = "information", one_line=False
    ) -> None:
        """`one_line`: cut at the bar's width with an ellipsis, where the rest is
        shown elsewhere, instead of wrapping to up to three lines."""
        mark = SEVERITY_MARKS.get(severity, "ℹ")
        text = Text(f"{mark} ")
        if title:
            text.append(f"{title}: ", "bold")
        text.append(message)
        self.set_class(severity == "error", "-error")
        self.set_class(one_line, "-one-line")
        self.show_text(text, layout=True)

    @property
    def said(self) -> str:
        return self._shown.plain if self._shown is not None else ""
