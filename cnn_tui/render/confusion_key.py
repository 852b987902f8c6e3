"""The confusion matrix's colours, and the key that explains them.

Right answers and mistakes get palettes that share no colour, so the diagonal never looks
like a row of mistakes: greens for the share of a row that is right, magma (purple to pale
yellow) for mistakes on a log scale, starting at ``WRONG_FLOOR`` so a single mistake stands
out from an empty cell. The cursor is a cyan in neither palette. The ASCII glyph set has no
colour at all, so its key explains the marks the cells use instead.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style

from cnn_tui.render.glyphs import Glyphs
from cnn_tui.render.palettes import PALETTES, Palette
from cnn_tui.render.scaling import MAX_LEVEL

GREEN_STOPS = ((8, 48, 24), (24, 104, 56), (64, 160, 88), (150, 220, 140))
RIGHT_PALETTE = Palette("greens", GREEN_STOPS)
WRONG_PALETTE = PALETTES["magma"]
WRONG_FLOOR = 0.3  # the level of one mistake; the most frequent mistake is at 1 (log scale)
CURSOR = Style(color="black", bgcolor="#5fd7ff", bold=True)
CURSOR_ASCII = Style(bold=True, reverse=True)
LUMA = np.array([0.299, 0.587, 0.114])


def text_color(palette: Palette, level: int) -> str:
    """Black on light cells, white on dark ones."""
    return "black" if float(palette.rgb[level] @ LUMA) > 140 else "white"


def ramp(palette: Palette, low: float, width: int) -> list[Segment]:
    """``width`` cells of the palette from ``low`` (0–1) to its top."""
    steps = [low + (1 - low) * i / max(1, width - 1) for i in range(width)]
    return [Segment(" ", palette.background(round(MAX_LEVEL * s))) for s in steps]


def legend_line(most: int, *, glyphs: Glyphs) -> list[Segment]:
    """The key on one line, for under the matrix."""
    if glyphs.ascii:
        return [Segment("(n) right  n mistakes  . none  [n] cursor", Style(dim=True))]
    return [
        Segment("mistakes 1 "),
        *ramp(WRONG_PALETTE, WRONG_FLOOR, 8),
        Segment(f" {most}{glyphs.sep}right 0% "),
        *ramp(RIGHT_PALETTE, 0.0, 8),
        Segment(" 100%"),
    ]


def key_lines(most: int, *, glyphs: Glyphs) -> list[list[Segment]]:
    """The key as a few short lines, for beside the matrix."""
    head = [Segment("key", Style(bold=True))]
    if glyphs.ascii:
        marks = ("(n)  right", " n   mistakes", " .   none", "[n]  cursor")
        return [head, *([Segment(m)] for m in marks)]
    return [
        head,
        [Segment("mistakes, log scale")],
        [Segment("1 "), *ramp(WRONG_PALETTE, WRONG_FLOOR, 12), Segment(f" {most}")],
        [Segment("right, share of row")],
        [Segment("0% "), *ramp(RIGHT_PALETTE, 0.0, 12), Segment(" 100%")],
    ]
