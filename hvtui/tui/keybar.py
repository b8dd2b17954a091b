"""The footer: the keys that do something now, fitted to the width, `? help` always last.

Textual's Footer is a widget per key, cut at the right edge when the
terminal is narrow (at 80 columns it lost Save, Check, Help and Quit).
This one line packs the keys of the one bindings table by rank
(hvtui.tui.bindings.FOOTER), dims the keys that would do nothing now, and
keeps `? help` at the right end whatever the width. A click on a key runs it.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from hvtui.tui.bindings import FOOTER, first_key

GAP = "  "


def fit(entries: list[tuple[str, str, int]], width: int) -> list[int]:
    """Indexes of the (key, word, rank) entries that fit in `width`, dropping high ranks first."""
    kept = list(range(len(entries)))

    def size(indexes: list[int]) -> int:
        return sum(len(entries[i][0]) + 1 + len(entries[i][1]) for i in indexes) + len(GAP) * (
            len(indexes) + 1
        )

    while size(kept) > width and len(kept) > 1:
        worst = max((i for i in kept if entries[i][2] != 0), key=lambda i: entries[i][2])
        kept.remove(worst)
    return kept


class KeyBar(Widget):
    """One line of keys; the app says which are enabled with `show_keys`."""

    COMPONENT_CLASSES = {"keybar--key", "keybar--off"}
    DEFAULT_CSS = """
    KeyBar { height: 1; background: $panel; color: $foreground; }
    KeyBar > .keybar--key { color: $text-accent; text-style: bold; }
    KeyBar > .keybar--off { text-style: dim strike; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._enabled: tuple[bool, ...] = tuple(True for _ in FOOTER)
        self._strip: Strip | None = None
        self._spans: list[tuple[int, int, str]] = []  # (x0, x1, action) for clicks

    def show_keys(self, enabled: tuple[bool, ...]) -> None:
        if enabled != self._enabled:
            self._enabled = enabled
            self._strip = None
            self.refresh()

    def notify_style_update(self) -> None:
        self._strip = None
        super().notify_style_update()

    def shown(self) -> str:
        """The line as text (what a person reads)."""
        return self._line().text

    def _line(self) -> Strip:
        """Rebuilt for a new width here, not on Resize: a relayout (a message wrapping
        onto a second line as the terminal shrinks) can draw the line before that event,
        and the old width's line, cut at the edge, stayed on screen."""
        width = self.size.width
        if self._strip is None or self._strip.cell_length != width:
            self._strip = self._build(width)
        return self._strip

    def _build(self, width: int) -> Strip:
        entries = [(first_key(b), b.description, rank) for b, rank in FOOTER]
        kept = fit(entries, width)
        base = self.rich_style
        key_style = base + self.get_component_rich_style("keybar--key", partial=True)
        off = self.get_component_rich_style("keybar--off", partial=True)
        segments = [Segment(GAP, base)]
        x = len(GAP)
        self._spans = []
        help_last = [i for i in kept if entries[i][2] != 0] + [
            i for i in kept if entries[i][2] == 0
        ]
        for i in help_last:
            key, word, rank = entries[i]
            if rank == 0:  # help: at the right end
                pad = width - x - len(key) - 1 - len(word) - len(GAP)
                if pad > 0:
                    segments.append(Segment(" " * pad, base))
                    x += pad
            dim = not self._enabled[i]
            segments.append(Segment(key, key_style + off if dim else key_style))
            segments.append(Segment(f" {word}", base + off if dim else base))
            self._spans.append((x, x + len(key) + 1 + len(word), FOOTER[i][0].action))
            x += len(key) + 1 + len(word)
            segments.append(Segment(GAP, base))
            x += len(GAP)
        return Strip(segments).crop_extend(0, width, base)

    def render_line(self, y: int) -> Strip:
        return self._line() if y == 0 else Strip.blank(self.size.width, self.rich_style)

    async def on_click(self, event: events.Click) -> None:
        for x0, x1, action in self._spans:
            if x0 <= event.x < x1:
                await self.run_action(f"app.{action}")
                return
