"""Fitting equal square pictures into a space: which pixel size, how many per row.

Pure arithmetic on sizes, like :mod:`cnn_tui.render.stage_fit`: the sample digits, the
feature maps, the gallery's wall and the drawn digit's answer all size themselves here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


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


# The drawn digit's answer: its class bars, and conv1's maps under them or beside them.
ANSWER_MAP_SIZES = (24, 12, 8, 6)  # conv1's maps are 24×24; smaller sizes are block means
ANSWER_BARS_WIDTH = 40  # stacked: the bars' width at most
ANSWER_SIDE_BARS_WIDTH = 24  # beside the maps: "·7 ██████████████  93.0%"
ANSWER_BARS_LINES = 10


def fit_answer(count: int, width: int, height: int) -> tuple[bool, Fit]:
    """(beside, fit): ``count`` maps under the bars or beside them, whichever shows them all
    at the larger size; under wins a tie, as the bars then get the whole width."""
    under = fit_tiles(count, ANSWER_MAP_SIZES, width, height - ANSWER_BARS_LINES - 4)
    beside = fit_tiles(count, ANSWER_MAP_SIZES, width - ANSWER_SIDE_BARS_WIDTH - 2, height - 3)

    def score(fit: Fit) -> tuple[bool, int, int]:
        shows_all = fit.capacity >= count
        return shows_all, fit.pixels, 0 if shows_all else fit.capacity

    return (True, beside) if score(beside) > score(under) else (False, under)
