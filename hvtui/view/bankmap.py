"""Where each vCPU sits in the grid at each zoom: rows aligned on 64-vCPU sparse banks.

No Textual here. A sparse VP set names vCPUs by bank (bank b, bit i = vCPU
64*b+i), so the grid's rows start on bank boundaries and carry the bank's
number: a row holds a power of two of vCPUs up to one bank, or whole banks.

Three zooms:

- CELLS: the full cell (id, flags, waiting_on) of hvtui.view.glyphs.
- CHARS: one character per vCPU (`dense_glyph`), one or two banks a row.
- HALVES: half a character per vCPU: two rows of vCPUs share a line, the
  upper half of a character for the first, the lower for the second; a
  half is filled when the vCPU is in the chosen state (or, with no filter,
  in any state but idle guest). 128 x 16 lines hold all 4096.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from hvtui.view.glyphs import cell_width

BANK = 64
CELLS, CHARS, HALVES = 0, 1, 2
ZOOMS = (CELLS, CHARS, HALVES)
ZOOM_NAMES = {CELLS: "cells", CHARS: "1 char/vCPU", HALVES: "½ char/vCPU"}

# Half blocks by (upper filled, lower filled).
HALF_GLYPHS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


class Layout(NamedTuple):
    """One zoom laid out for one width."""

    zoom: int
    vcpus: int
    per_row: int  # vCPUs in a row of vCPUs
    cell: int  # columns per vCPU
    label: int  # columns of the bank label, its space included (0: no labels)

    @property
    def rows(self) -> int:
        """Rows of vCPUs."""
        return -(-self.vcpus // self.per_row)

    @property
    def lines(self) -> int:
        """Lines on screen: HALVES puts two rows of vCPUs on one line."""
        return -(-self.rows // 2) if self.zoom == HALVES else self.rows

    @property
    def gaps(self) -> bool:
        """A column between two banks of a row (rows of more than one bank)."""
        return self.per_row > BANK

    @property
    def width(self) -> int:
        return self.label + self.per_row * self.cell + (self.per_row // BANK - 1) * self.gaps

    def x(self, c: int) -> int:
        """The first column of vCPU c."""
        col = c % self.per_row
        return self.label + col * self.cell + (col // BANK if self.gaps else 0)

    def line(self, c: int) -> int:
        row = c // self.per_row
        return row // 2 if self.zoom == HALVES else row

    def rows_of_line(self, y: int) -> tuple[int, ...]:
        """The rows of vCPUs line y shows."""
        rows = (2 * y, 2 * y + 1) if self.zoom == HALVES else (y,)
        return tuple(r for r in rows if r < self.rows)

    def label_text(self, y: int) -> str:
        """The bank label of line y: `b12` where a bank starts, `12/13` for two half rows."""
        if not self.label:
            return ""
        starts = [r * self.per_row for r in self.rows_of_line(y)]
        if starts[0] % BANK:
            text = ""  # a bank's second, third, ... row
        elif self.per_row < BANK:
            text = f"b{starts[0] // BANK}"
        else:
            text = "/".join(_banks(s, self.per_row) for s in starts)
        return text.rjust(self.label - 1) + " "


def _banks(start: int, per_row: int) -> str:
    """`b12` for a row of one bank, `b12-13` for two."""
    first = start // BANK
    return f"b{first}" if per_row <= BANK else f"b{first}-{first + per_row // BANK - 1}"


def label_width(vcpus: int, zoom: int, per_row: int) -> int:
    if vcpus <= BANK:
        return 0  # one bank: its number says nothing
    last = (vcpus - 1) // BANK
    one = len(_banks((last - 1) * BANK, per_row)) if per_row >= BANK else len(f"b{last}")
    return (2 * one + 1 if zoom == HALVES and per_row >= BANK else one) + 1


def layout(vcpus: int, zoom: int, width: int) -> Layout:
    """As many vCPUs a row as fit `width`, keeping rows on bank boundaries."""
    cell = cell_width(vcpus) if zoom == CELLS else 1
    if vcpus <= BANK and zoom == CELLS:
        return Layout(zoom, vcpus, max(1, min(vcpus, width // cell)), cell, 0)
    two = 2 * BANK
    if zoom != CELLS and vcpus > BANK and width - label_width(vcpus, zoom, two) >= two + 1:
        return Layout(zoom, vcpus, two, cell, label_width(vcpus, zoom, two))
    per_row = BANK
    while per_row > 1 and per_row * cell > width - label_width(vcpus, zoom, per_row):
        per_row //= 2
    per_row = min(per_row, max(vcpus, 1))
    return Layout(zoom, vcpus, per_row, cell, label_width(vcpus, zoom, per_row))


def fitting_zoom(vcpus: int, width: int, lines_for: Callable[[int, int], int]) -> int:
    """The most detailed zoom that shows every vCPU at once, else the densest.

    `lines_for(zoom, w)`: the lines the grid has in that zoom when its rows are w
    columns wide (the legend under it wraps to the grid's width).
    """
    for zoom in ZOOMS:
        lay = layout(vcpus, zoom, width)
        if lay.lines <= lines_for(zoom, lay.width):
            return zoom
    return HALVES
