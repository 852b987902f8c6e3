"""Weight distributions over time, as a heatmap strip, and the Health pane's layout.

Each health sample carries a layer's weight histogram over its own span (the weights' min
to max at that moment), and the spans grow as training spreads the weights. To draw them
side by side, :func:`density_strip` re-bins every sample onto one common value axis — the
mass of each source bin spread evenly over its width, which is exact for the histogram as
recorded — and scales each column to its own peak, so the shape of the distribution at each
moment shows, whatever the layer's size: TensorBoard's "distributions", one column a
sample, the highest values at the top. :func:`sparkline` draws a series in one line, and
:func:`fit_health` is the pane's layout arithmetic (sizes in, sizes out).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cnn_tui.render.glyphs import Glyphs

Column = tuple[float, float, Sequence[int]]  # a histogram: span low, span high, counts


def pick(count: int, width: int) -> list[int]:
    """For each of ``width`` cells, the index of the item (of ``count``) it shows: items
    stretched over the cells, or spread evenly when there are more items than cells (the
    first and the last always shown)."""
    if count <= 0 or width <= 0:
        return []
    if count <= width:
        return [x * count // width for x in range(width)]
    return [round(x * (count - 1) / max(1, width - 1)) for x in range(width)]


def density_strip(
    columns: Sequence[Column], rows: int, width: int
) -> tuple[npt.NDArray[np.float32], float, float]:
    """A (rows, width) array in [0, 1] — each cell column one histogram of ``columns``
    (see :func:`pick`), re-binned onto ``rows`` equal bins over the common span, top row the
    highest values, scaled to the column's peak — and that span (low, high)."""
    low = min((c[0] for c in columns), default=0.0)
    high = max((c[1] for c in columns), default=1.0)
    if not high > low:
        high = low + 1.0
    edges = np.linspace(low, high, rows + 1)
    strip = np.zeros((rows, width), dtype=np.float32)
    cache: dict[int, npt.NDArray[np.float32]] = {}
    for x, index in enumerate(pick(len(columns), width)):
        if index not in cache:
            cache[index] = _rebin(columns[index], edges)
        strip[:, x] = cache[index]
    return strip, low, high


def _rebin(column: Column, edges: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    c_low, c_high, counts = column
    source = np.linspace(c_low, c_high, len(counts) + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(counts, dtype=np.float64))])
    mass = np.diff(np.interp(edges, source, cumulative))[::-1]  # top row: highest values
    peak = float(mass.max()) if len(mass) else 0.0
    scaled: npt.NDArray[np.float32] = (mass / peak if peak > 0 else mass).astype(np.float32)
    return scaled


def sparkline(values: Sequence[float], width: int, glyphs: Glyphs, *, log: bool = True) -> str:
    """``values`` in ``width`` characters (see :func:`pick`), from the lowest level of
    ``glyphs.spark`` to the highest, on a log scale by default (where zero is drawn at the
    lowest level, outside the scale); "!" where not finite."""
    chosen = [values[i] for i in pick(len(values), width)]
    levels = glyphs.spark
    scaled = [_scale(v, log) for v in chosen]
    finite = [v for v in scaled if v is not None and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    top = len(levels) - 1
    out = []
    for v in scaled:
        if v is None:
            out.append("!")
        elif not math.isfinite(v):  # zero on a log scale
            out.append(levels[0])
        else:
            out.append(levels[round((v - lo) / (hi - lo) * top) if hi > lo else top // 2])
    return "".join(out)


def _scale(value: float, log: bool) -> float | None:
    if not math.isfinite(value) or (log and value < 0):
        return None
    if log:
        return math.log10(value) if value > 0 else -math.inf
    return value


# -- the pane's layout ----------------------------------------------------------------------
TABLE_LINES = 5  # the header and one line per layer
LABEL_WIDTH = 14  # "conv1  -0.412 " before each strip
MIN_STRIP_ROWS = 3


@dataclass(frozen=True)
class HealthFit:
    strip_rows: int  # lines of each layer's strip (two value bins a line)
    gap: int  # blank lines between two strips
    note: bool  # the line saying what a dead unit is, and when it was measured
    blank: bool  # a blank line between the table and the strips


def fit_health(height: int, strips: int = 4) -> HealthFit:
    """The most detail that fits ``height`` lines: a heading, the table, the strips' title,
    ``strips`` strips and their axis; then, while the strips keep :data:`MIN_STRIP_ROWS`
    lines, the note, a blank line and gaps between strips."""
    base = 1 + TABLE_LINES + 1 + 1
    options = ((True, True, 1), (True, True, 0), (False, True, 0), (False, False, 0))
    for note, blank, gap in options:
        room = height - base - int(note) - int(blank) - gap * (strips - 1)
        rows = room // strips
        if rows >= MIN_STRIP_ROWS:
            return HealthFit(rows, gap, note, blank)
    return HealthFit(max(1, rows), 0, False, False)
