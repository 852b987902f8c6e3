"""Pure functions from tensors to rich renderables: heatmaps, colour bars, bars and grids.

Everything here depends on rich and numpy only (never textual), so the renderables work in
a Textual widget, a plain ``rich.console.Console`` or a test alike. Each takes a
:class:`~cnn_tui.render.glyphs.Glyphs`: :data:`UNICODE` draws with half-block glyphs and
truecolor palettes; :data:`ASCII` (see :func:`default_glyphs`, chosen under ``NO_COLOR``)
draws the same shapes with plain ASCII characters and no colour. The layout arithmetic
(``stage_fit``, ``filter_fit``, ``tiling``, ``series``) lives here too: sizes in, sizes out.
"""

from __future__ import annotations

from cnn_tui.render.ascii_art import ASCII_RAMP, NEGATIVE_RAMP, POSITIVE_RAMP, ascii_default
from cnn_tui.render.bars import ProbBars, bar_text
from cnn_tui.render.glyphs import ASCII, UNICODE, Glyphs, default_glyphs
from cnn_tui.render.grid import Tile, TileGrid, digit_tile, map_tile
from cnn_tui.render.halfblock import UPPER_HALF
from cnn_tui.render.heatmap import Heatmap
from cnn_tui.render.legend import legend
from cnn_tui.render.palettes import PALETTES, Palette, get_palette
from cnn_tui.render.scaling import ArrayLike, fit_to, shrink, value_range

__all__ = [
    "ASCII",
    "ASCII_RAMP",
    "NEGATIVE_RAMP",
    "PALETTES",
    "POSITIVE_RAMP",
    "UNICODE",
    "UPPER_HALF",
    "ArrayLike",
    "Glyphs",
    "Heatmap",
    "Palette",
    "ProbBars",
    "Tile",
    "TileGrid",
    "ascii_default",
    "bar_text",
    "default_glyphs",
    "digit_tile",
    "fit_to",
    "get_palette",
    "legend",
    "map_tile",
    "shrink",
    "value_range",
]
