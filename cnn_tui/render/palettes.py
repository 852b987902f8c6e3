"""Colour palettes for heatmaps, with the rich ``Style`` objects they need cached up front.

A :class:`Palette` is a table of ``LEVELS`` RGB colours indexed by a quantized level (see
:mod:`cnn_tui.render.scaling`). Building a ``rich.style.Style`` is far slower than looking
one up, and a heatmap redrawn several times a second asks for the same few hundred
(upper, lower) colour pairs every frame, so each palette keeps its colours precomputed and
its half-block pair styles in a bounded cache.

Palettes provided:

* ``"gray"`` — black to white, for digits as they look (sequential).
* ``"magma"`` — a magma-like perceptual map (black, purple, orange, pale yellow), for
  non-negative activations (sequential).
* ``"diverging"`` — blue, white at zero, red, for signed data such as raw convolution
  outputs and learned filters. Level ``MID_LEVEL`` is exactly the neutral colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.color import Color
from rich.style import Style

from cnn_tui.render.scaling import LEVELS, MAX_LEVEL

RGB = tuple[int, int, int]

# pair_key() packs an (upper, lower) pair of levels, lower being -1 ..MAX_LEVEL, in one int.
PAIR_BASE = LEVELS + 1

# Beyond this many distinct (upper, lower) pairs the cache is cleared rather than grown.
_PAIR_CACHE_LIMIT = 8_192  # a Style is ~0.9 kB: at most ~7 MB per palette

GRAY_STOPS: tuple[RGB, ...] = ((0, 0, 0), (255, 255, 255))
MAGMA_STOPS: tuple[RGB, ...] = (
    (0, 0, 4),
    (28, 16, 68),
    (79, 18, 123),
    (129, 37, 129),
    (181, 54, 122),
    (229, 80, 100),
    (251, 135, 97),
    (254, 194, 135),
    (252, 253, 191),
)
DIVERGING_STOPS: tuple[RGB, ...] = (  # ColorBrewer RdBu, reversed: blue < 0 < red
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
)


def interpolate(stops: Sequence[RGB], count: int = LEVELS) -> npt.NDArray[np.uint8]:
    """``count`` colours evenly interpolated through evenly spaced ``stops``, shape (count, 3)."""
    if len(stops) < 2:
        raise ValueError("a palette needs at least two colour stops")
    table = np.asarray(stops, dtype=np.float64)
    at = np.linspace(0.0, 1.0, len(stops))
    xs = np.linspace(0.0, 1.0, count)
    channels = [np.interp(xs, at, table[:, c]) for c in range(3)]
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)


class Palette:
    """``LEVELS`` colours with cached rich styles.

    ``diverging`` says the palette is meant for signed data (its middle is neutral).
    """

    __slots__ = ("_colors", "_pairs", "_styles", "diverging", "name", "rgb")

    def __init__(self, name: str, stops: Sequence[RGB], *, diverging: bool = False) -> None:
        self.name = name
        self.diverging = diverging
        self.rgb: npt.NDArray[np.uint8] = interpolate(stops)
        self._colors: tuple[Color, ...] = tuple(
            Color.from_rgb(int(r), int(g), int(b)) for r, g, b in self.rgb.tolist()
        )
        self._styles: tuple[Style, ...] = tuple(Style.from_color(bgcolor=c) for c in self._colors)
        self._pairs: dict[int, Style] = {}

    def __repr__(self) -> str:
        return f"Palette({self.name!r}, diverging={self.diverging})"

    def color(self, level: int) -> Color:
        """The colour for ``level`` (clamped to ``0 .. MAX_LEVEL``)."""
        return self._colors[min(max(level, 0), MAX_LEVEL)]

    def background(self, level: int) -> Style:
        """A style painting a whole cell (background) in the colour for ``level``."""
        return self._styles[min(max(level, 0), MAX_LEVEL)]

    def pair(self, upper: int, lower: int) -> Style:
        """The ``▀`` style: foreground ``upper``'s colour, background ``lower``'s.

        ``lower < 0`` leaves the background unset (the terminal's own), for the odd last
        row of an image with an odd height. Levels must be in ``0 .. MAX_LEVEL``.
        """
        return self.pair_style(pair_key(upper, lower))

    def pair_style(self, key: int) -> Style:
        """:meth:`pair` for a key made by :func:`pair_key` (what a vectorized caller has)."""
        style = self._pairs.get(key)
        if style is None:
            if len(self._pairs) >= _PAIR_CACHE_LIMIT:
                self._pairs.clear()
            upper, lower = divmod(key, PAIR_BASE)
            bgcolor = self._colors[lower - 1] if lower else None
            style = self._pairs[key] = Style.from_color(self._colors[upper], bgcolor)
        return style


def pair_key(upper: Any, lower: Any) -> Any:
    """One int per (upper, lower) level pair; works on ints and numpy int arrays alike.

    ``lower`` may be -1 for "no lower pixel". Keys are unique and non-negative.
    """
    return upper * PAIR_BASE + (lower + 1)


PALETTES: dict[str, Palette] = {
    "gray": Palette("gray", GRAY_STOPS),
    "magma": Palette("magma", MAGMA_STOPS),
    "diverging": Palette("diverging", DIVERGING_STOPS, diverging=True),
}
PALETTES["grey"] = PALETTES["gray"]


def get_palette(palette: str | Palette | None, *, signed: bool = False) -> Palette:
    """A palette by name (or passed through); ``None`` picks gray, or diverging if signed."""
    if isinstance(palette, Palette):
        return palette
    if palette is None:
        return PALETTES["diverging" if signed else "gray"]
    try:
        return PALETTES[palette]
    except KeyError:
        names = ", ".join(sorted(PALETTES))
        raise ValueError(f"unknown palette {palette!r}; choose one of {names}") from None
