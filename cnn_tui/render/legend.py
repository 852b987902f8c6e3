"""A one-line colour bar: ``low ▕gradient▏ high``, telling what a heatmap's colours mean.

The bar samples the palette evenly from the low end to the high end (for signed data from
``-m`` through the neutral zero to ``+m``). In ASCII mode the bar is drawn with the same
characters the ASCII heatmap uses, so the legend still explains the picture without colour.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from cnn_tui.render.ascii_art import ascii_codes
from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.palettes import Palette, get_palette
from cnn_tui.render.scaling import quantize


def format_value(value: float) -> str:
    """A short label for a range end: 3 significant digits, no ``-0``."""
    text = f"{value:.3g}"
    return "0" if text == "-0" else text


def legend(
    low: float,
    high: float,
    *,
    palette: str | Palette | None = None,
    signed: bool = False,
    width: int = 24,
    glyphs: Glyphs = UNICODE,
) -> Text:
    """``low`` label, a bar of the palette (or ASCII ramp), ``high`` label, in ``width`` cells.

    The bar gets whatever the labels leave, at least one cell; the result never wraps
    (cropped instead) so it is safe in narrow panels.
    """
    low_label, high_label = format_value(low), format_value(high)
    bar_width = max(1, width - len(low_label) - len(high_label) - 2)
    unit = np.linspace(-1.0 if signed else 0.0, 1.0, bar_width, dtype=np.float32)
    text = Text(no_wrap=True, overflow="crop")
    text.append(low_label + " ")
    if glyphs.ascii:
        text.append(ascii_codes(unit, signed=signed).tobytes().decode("ascii"))
    else:
        chosen = get_palette(palette, signed=signed)
        for level in quantize(unit, signed=signed).tolist():
            text.append(" ", chosen.background(level))
    text.append(" " + high_label)
    text.truncate(width, overflow="crop")
    return text
