"""The grid's legend: every glyph a cell can show, in the grid's own colours.

Entries flow into as many lines as the width needs and never break inside
("S→3 suspended, waiting on 3" stays whole), so the legend reads at 80
columns and fits in two or three lines on a wide screen.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from hvtui.view.glyphs import LEGEND, ROLE_CSS, LegendEntry, component_css

PREFIX = "vcpulegend"
SEPARATOR = "   "


def pack(entries: tuple[LegendEntry, ...], width: int) -> list[list[LegendEntry]]:
    """Greedy line filling; an entry wider than the line gets a line of its own."""
    lines: list[list[LegendEntry]] = [[]]
    used = 0
    for entry in entries:
        size = cell_len(entry.sample) + 1 + cell_len(entry.meaning)
        if lines[-1] and used + len(SEPARATOR) + size > width:
            lines.append([])
            used = 0
        used += (len(SEPARATOR) if lines[-1] else 0) + size
        lines[-1].append(entry)
    return lines


class VcpuLegend(Widget):
    """What the grid's glyphs mean."""

    COMPONENT_CLASSES = {f"{PREFIX}--{role}" for role in ROLE_CSS}
    DEFAULT_CSS = "VcpuLegend { height: auto; }\n" + component_css("VcpuLegend", PREFIX)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(pack(LEGEND, width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = pack(LEGEND, width)
        base = self.rich_style
        if y >= len(lines):
            return Strip.blank(width, base)
        segments: list[Segment] = []
        for i, entry in enumerate(lines[y]):
            if i:
                segments.append(Segment(SEPARATOR, base))
            role = self.get_component_rich_style(f"{PREFIX}--{entry.role}", partial=True)
            segments.append(Segment(entry.sample, base + role))
            segments.append(Segment(f" {entry.meaning}", base))
        return Strip(segments).crop_extend(0, width, base)
