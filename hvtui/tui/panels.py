"""The panels around the grid: the selected vCPU, the actors, the event log, the verdicts.

Each panel has a `show(bench, ...)` the app calls after a step. The two
that can grow long (the event log at 100k steps, the actors at 4096 vCPUs)
are Line-API lists: only the rows in view are ever built.
"""

from __future__ import annotations

from typing import NamedTuple

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
from hvtui.runs.report import event_line
from hvtui.view.bench import SUSPEND, WAKE, Bench

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
        self.virtual_size = Size(self._width, count)  # the height first: scrolling clamps to it
        self._follow()
        self.refresh()

    def on_resize(self) -> None:
        self._follow()

    def _follow(self) -> None:
        """Scroll so the current row is in view, with up to a third of the view after it;
        then widen the view to the widest row now in view."""
        i = self._current
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if height > 0 and i < top:
            self.scroll_to(y=i, animate=False, immediate=True, force=True)
        elif height > 0 and i >= top + height:
            ahead = min(height // 3, self._count - 1 - i)
            self.scroll_to(y=i - height + 1 + ahead, animate=False, immediate=True, force=True)
        top = self.scroll_offset.y
        for row in range(top, min(self._count, top + max(height, 1))):
            self._width = max(self._width, sum(len(text) for text, _ in self.row(row).runs))
        self.virtual_size = Size(self._width, self._count)

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
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, line_style)

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
    """Row 0 is the initial state, row i the event of step i; the current step is lit (▶),
    a step that violated a property is marked ✗.

    Steps after the current one (a recorded future: a schedule, or steps
    undone with step-back) are dimmed: stepping forward walks them.
    """

    PREFIX = "eventlog"
    ROLES = {
        "current": "background: $accent 40%; text-style: bold;",
        "future": "color: $foreground-muted;",
        "interest": "color: $warning; text-style: bold;",
        "violation": "color: $error; text-style: bold;",
    }

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._bench: Bench | None = None

    def show(self, bench: Bench) -> None:
        self._bench = bench
        session = bench.session
        self.show_rows(len(session.events) + 1, session.pos)

    def row(self, i: int) -> Row:
        session = self._bench.session
        pos = session.pos
        role = "current" if i == pos else "future" if i > pos else ""
        mark = "▶" if i == pos else " "
        if i == 0:
            return Row(((mark + "  ", ""), ("   0 initial state", "")), role)
        event = session.events[i - 1]
        found = session.violations[i - 1]
        text = event_line(event)
        runs: list[Run] = [
            (mark, ""),
            ("✗ " if found else "  ", "violation"),  # at the left edge: seen even when cut
            (text, "interest" if event.text.startswith((SUSPEND, WAKE)) else ""),
        ]
        if found:
            runs.append((f"  ✗ violates {', '.join(found)}", "violation"))
        return Row(tuple(runs), role)


class ActorsPanel(LineList):
    """Every actor with something to do: its next step, or why it waits.

    Actors that have finished and have nothing to do are counted on the
    last row, so 4096 idle vCPUs do not bury the three that matter. A click
    on an actor that can step chooses it for the next step.
    """

    PREFIX = "actors"
    ROLES = {
        "next": "background: $accent 40%; text-style: bold;",
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
        self._rows: list[tuple[int, str, bool, str]] = []  # (actor, step, enabled, why)
        self._idle = 0
        self._next: int | None = None
        self._names: list[str] = []
        self._name_width = 5

    def show(self, bench: Bench) -> None:
        self._next, how = bench.next_actor()
        self._names = bench.engine.names
        self._rows = []
        self._idle = 0
        for a, st in enumerate(bench.statuses()):
            if st.why == DONE and a != self._next:
                self._idle += 1
            else:
                self._rows.append((a, st.step, st.enabled, st.why))
        self._name_width = max(map(len, self._names))  # stable columns as actors come and go
        who = "nobody" if self._next is None else self._names[self._next]
        self.border_title = f"actors · next: {who} ({how})"
        index = next((i for i, r in enumerate(self._rows) if r[0] == self._next), 0)
        self.show_rows(len(self._rows) + (1 if self._idle else 0), index)

    def row(self, i: int) -> Row:
        if i >= len(self._rows):
            return Row((("  ", ""), (f"+{self._idle} finished, nothing to do", "idle")))
        actor, step, enabled, why = self._rows[i]
        name = self._names[actor].ljust(self._name_width)
        mark = "▶ " if actor == self._next else "  "
        if enabled:
            runs: tuple[Run, ...] = ((mark, ""), (f"{name}  {step}", ""))
        elif why == DONE:
            runs = ((mark, ""), (f"{name}  done", "idle"))
        else:
            runs = ((mark, ""), (f"{name}  {step}", ""), (f"  waits: {why}", "waits"))
        return Row(runs, "next" if actor == self._next else "", {"actor": actor})

    def on_click(self, event: events.Click) -> None:
        actor = event.style.meta.get("actor")
        if actor is not None:
            self.post_message(self.Chosen(actor))


class TextPanel(Static):
    """A fixed-size panel of text that redraws only when its text changed."""

    _shown: Text | None = None

    def show_text(self, text: Text) -> None:
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # a fixed size: no relayout of the screen


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

    def show(self, name: str, flags: list[str]) -> None:
        self.show_text(Text(f"{name} — {' · '.join(flags)}"))


class DetailPanel(TextPanel):
    """The selected vCPU: every field, its program, and what its thread does next."""

    def show(self, bench: Bench, c: int) -> None:
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
            at = f"{v.pc} {op.targets[v.k]}" if v.pc in ("check", "request") else v.pc
            program = (
                f"op {v.op + 1}/{len(ops)} {op.id}: flush {format_targets(op.targets)}, at {at}"
            )
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
        waiters = [f"vcpu{w}" for w, o in enumerate(state.vcpus) if o.waiting_on == c]
        if waiters:
            more = f" +{len(waiters) - 8}" if len(waiters) > 8 else ""
            text.append("\nwaited on by ", "dim").append(", ".join(waiters[:8]) + more)
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
        session = bench.session
        first = bench.session.first_violations()
        done = session.progress()
        width = max(map(len, PROPERTIES))
        violated = self.get_component_rich_style("properties--violated", partial=True)
        text = Text()
        for prop in PROPERTIES:
            if prop == PROGRESS:
                verdict = done.verdict if done else "pending"
            else:
                verdict = VIOLATED if prop in first else HOLDS
            where = f" at {first[prop]}" if prop in first else ""  # the step it first broke
            style = violated if verdict == "violated" else ""
            text.append(f"{VERDICT_GLYPHS.get(verdict, ' ')} ", style)
            text.append(f"{prop.ljust(width)} ").append(f"{verdict}{where}", style).append("\n")
        if done is not None and done.verdict != HOLDS:
            text.append(f"  {done.detail}\n", "dim")
        if check_line:
            text.append(check_line, "italic")
        text.rstrip()
        self.show_text(text)
