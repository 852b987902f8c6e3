"""Pure functions from tensors to rich renderables: heatmaps, colour bars, bars and grids.

Everything here depends on rich and numpy only (never textual), so the renderables work in
a Textual widget, a plain ``rich.console.Console`` or a test alike. Colour mode draws with
half-block glyphs and truecolor palettes; ASCII mode (see :func:`ascii_default`, true under
``NO_COLOR``) draws the same shapes with plain ASCII characters and no colour.
"""

from __future__ import annotations

from cnn_tui.render.ascii_art import ASCII_RAMP, NEGATIVE_RAMP, POSITIVE_RAMP, ascii_default
from cnn_tui.render.bars import ProbBars, bar_text
from cnn_tui.render.grid import Grid, Tile, digit_tile
from cnn_tui.render.halfblock import UPPER_HALF
from cnn_tui.render.heatmap import Heatmap
from cnn_tui.render.legend import legend
from cnn_tui.render.palettes import PALETTES, Palette, get_palette
from cnn_tui.render.scaling import ArrayLike, shrink, value_range

__all__ = [
    "ASCII_RAMP",
    "NEGATIVE_RAMP",
    "PALETTES",
    "POSITIVE_RAMP",
    "UPPER_HALF",
    "ArrayLike",
    "Grid",
    "Heatmap",
    "Palette",
    "ProbBars",
    "Tile",
    "ascii_default",
    "bar_text",
    "digit_tile",
    "get_palette",
    "legend",
    "shrink",
    "value_range",
]
