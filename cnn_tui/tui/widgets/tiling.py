"""Fitting a grid of equal square pictures into a widget: which pixel size, how many."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnn_tui.render import shrink
from cnn_tui.render.scaling import ArrayLike, FloatArray, as_image


@dataclass(frozen=True)
class Fit:
    pixels: int  # drawn side of each picture, in pixels (columns; rows are half of it)
    per_row: int
    rows: int

    @property
    def capacity(self) -> int:
        return self.per_row * self.rows


def fit_tiles(
    count: int,
    sizes: tuple[int, ...],
    width: int,
    height: int,
    *,
    min_tile_width: int = 0,
    label_lines: int = 0,
    gap: int = 1,
    row_gap: int = 1,
) -> Fit:
    """The largest pixel size in ``sizes`` (largest first) that fits all ``count`` pictures;
    failing that, the smallest size, with as many as fit."""
    fit = Fit(sizes[-1], 1, 1)
    for pixels in sizes:
        tile_w = max(pixels, min_tile_width)
        tile_h = math.ceil(pixels / 2) + label_lines
        per_row = max(1, (width + gap) // (tile_w + gap))
        rows = max(1, (height + row_gap) // (tile_h + row_gap))
        fit = Fit(pixels, per_row, rows)
        if fit.capacity >= count:
            return fit
    return fit


def fit_to(image: ArrayLike, pixels: int) -> FloatArray:
    """A square image resized to ``pixels`` a side: block means when the ratio is whole,
    else nearest pixels."""
    array = as_image(image)
    side = array.shape[0]
    if side == pixels:
        return array
    if side % pixels == 0:
        return shrink(array, side // pixels)
    index = np.minimum((np.arange(pixels) * side / pixels).astype(int), side - 1)
    return array[np.ix_(index, index)]
