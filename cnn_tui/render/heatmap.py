"""``Heatmap``: a rich renderable drawing a 2-D tensor or array in the terminal.

Colour mode draws the half-block ``▀`` with the foreground set to the upper pixel's colour
and the background to the lower pixel's, so one terminal cell shows two pixel rows and one
pixel column — a 28x28 digit is 28 columns by 14 lines, with roughly square pixels. ASCII
mode (:data:`~cnn_tui.render.glyphs.ASCII`, drawn by :mod:`cnn_tui.render.ascii_art`) has the
same footprint, so a widget can switch glyph sets without its layout moving.

Speed matters because the app redraws these several times a second beside a training loop:
values are scaled and quantized with numpy once, in the constructor; the lines are built by
:mod:`cnn_tui.render.halfblock` (vectorized, cached) on first render and kept on the
renderable, so rendering it again costs only yielding the segments.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

from cnn_tui.render.ascii_art import ascii_lines
from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.halfblock import half_block_lines
from cnn_tui.render.legend import legend
from cnn_tui.render.palettes import Palette, get_palette
from cnn_tui.render.scaling import ArrayLike, as_image, normalize, quantize, value_range


class Heatmap:
    """A 2-D tensor/array drawn as a heatmap (``__rich_console__`` + ``__rich_measure__``).

    Args:
        data: a CPU torch tensor, numpy array or nested sequence; leading size-1 axes are
            dropped ((1, 28, 28) works) and a 1-D vector is drawn as one row.
        vmin, vmax: the values mapped to the palette's ends (values outside are clamped).
            Defaults: the data's min and max, or ``±max|x|`` when ``signed``.
        signed: treat the data as signed: zero maps to the palette's neutral middle and
            ASCII mode shows the sign with different characters.
        palette: ``"gray"``, ``"magma"``, ``"diverging"`` or a :class:`Palette`; default gray,
            or diverging when ``signed``.
        glyphs: :data:`~cnn_tui.render.glyphs.ASCII` draws with ASCII ramps and no colour.
        scale: integer magnification; each pixel becomes ``scale`` x ``scale`` pixels.
    """

    __slots__ = ("_lines", "_unit", "glyphs", "height", "high", "low", "palette", "signed", "width")

    def __init__(
        self,
        data: ArrayLike,
        *,
        vmin: float | None = None,
        vmax: float | None = None,
        signed: bool = False,
        palette: str | Palette | None = None,
        glyphs: Glyphs = UNICODE,
        scale: int = 1,
    ) -> None:
        if scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale}")
        image = as_image(data)
        self.signed = signed
        self.glyphs = glyphs
        self.palette = get_palette(palette, signed=signed)
        self.low, self.high = value_range(image, signed=signed, vmin=vmin, vmax=vmax)
        unit = normalize(image, self.low, self.high, signed=signed)
        if scale > 1:
            unit = np.repeat(np.repeat(unit, scale, axis=0), scale, axis=1)
        self._unit = unit
        rows, cols = unit.shape
        self.width: int = cols if rows else 0
        self.height: int = (rows + 1) // 2
        self._lines: list[list[Segment]] | None = None

    def __repr__(self) -> str:
        mode = "ascii" if self.glyphs.ascii else self.palette.name
        return (
            f"<Heatmap {self.width}x{self.height} cells {mode} [{self.low:.3g}, {self.high:.3g}]>"
        )

    def lines(self) -> list[list[Segment]]:
        """The rendered lines (computed once, then cached); each is exactly ``width`` cells."""
        if self._lines is None:
            if self.glyphs.ascii:
                self._lines = [
                    [Segment(row)] for row in ascii_lines(self._unit, signed=self.signed)
                ]
            else:
                levels = quantize(self._unit, signed=self.signed)
                self._lines = half_block_lines(levels, self.palette)
        return self._lines

    def legend(self, width: int = 24) -> Text:
        """A one-line colour bar for this heatmap's range, palette and mode."""
        return legend(
            self.low,
            self.high,
            palette=self.palette,
            signed=self.signed,
            width=width,
            glyphs=self.glyphs,
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        max_width = options.max_width
        new_line = Segment.line()
        for line in self.lines():
            if self.width > max_width:
                yield from Segment.adjust_line_length(line, max_width)
            else:
                yield from line
            yield new_line
