"""Half-block lines: a grid of quantized palette levels as rich ``Segment`` lines.

Each terminal cell shows two pixels with ``▀``: foreground = upper pixel, background = lower
pixel. This module turns a (rows, cols) array of palette levels into ``ceil(rows / 2)``
lines of segments, one ``Segment`` per run of equal (upper, lower) pairs, and it is where
the speed of a heatmap comes from:

* the pairs and the runs are found with numpy, so Python only touches one item per run;
* a run is an immutable ``Segment``, so identical runs (same pair, same length) share one
  cached object, and their styles come from the palette's own cache;
* whole pictures are cached by content, because the app redraws the same digits (a fixed
  grid of samples) again and again.

The caches are bounded: past their limit they are cleared and rebuilt on demand. The lines
returned are shared with the cache, so callers must copy rather than mutate them.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from rich.segment import Segment

from cnn_tui.render.palettes import Palette, pair_key

UPPER_HALF = "▀"

# Run cache key = pair_key * _MAX_RUN + run length; a run is never longer than a line.
_MAX_RUN = 1 << 16
_SEGMENT_CACHE_LIMIT = 16_384
_segment_caches: dict[Palette, dict[int, Segment]] = {}
# Finished lines by picture: (palette, width, pair keys).
_PICTURE_CACHE_LIMIT = 512
_picture_cache: dict[tuple[Palette, int, bytes], list[list[Segment]]] = {}


def half_block_lines(levels: npt.NDArray[np.integer], palette: Palette) -> list[list[Segment]]:
    """Lines of ``▀`` segments for ``levels`` (palette levels, shape (rows, cols)).

    An odd last row has no lower pixel: its cells keep the terminal's background.
    """
    levels = np.asarray(levels, dtype=np.int32)
    rows, cols = levels.shape
    if rows == 0 or cols == 0:
        return []
    upper = levels[0::2]
    lower = levels[1::2]
    if lower.shape[0] < upper.shape[0]:
        lower = np.concatenate([lower, np.full((1, cols), -1, dtype=np.int32)])
    keys = pair_key(upper, lower)
    picture = (palette, cols, keys.tobytes())
    cached = _picture_cache.get(picture)
    if cached is not None:
        return cached
    if len(_picture_cache) >= _PICTURE_CACHE_LIMIT:
        _picture_cache.clear()
    lines = _picture_cache[picture] = _runs(keys, palette)
    return lines


def _runs(keys: npt.NDArray[np.int32], palette: Palette) -> list[list[Segment]]:
    """Lines of one Segment per run of equal pair keys along each row of ``keys``."""
    rows, cols = keys.shape
    # A run starts at column 0 and wherever the (upper, lower) pair changes. Every line
    # begins a run, so the distance between consecutive starts is each run's length.
    starts = np.ones(keys.shape, dtype=bool)
    np.not_equal(keys[:, 1:], keys[:, :-1], out=starts[:, 1:])
    flat = np.flatnonzero(starts)
    ends = np.empty_like(flat)
    ends[:-1] = flat[1:]
    ends[-1] = keys.size
    run_keys = (keys.ravel()[flat].astype(np.int64) * _MAX_RUN + (ends - flat)).tolist()
    cache = _segment_cache(palette)
    found = list(map(cache.get, run_keys))
    # (``is None``, not ``or``: a Segment's truthiness is a Python-level __bool__ call.)
    segments = [
        _new_segment(palette, cache, key) if segment is None else segment
        for segment, key in zip(found, run_keys, strict=True)
    ]
    bounds = np.searchsorted(flat, np.arange(rows + 1) * cols).tolist()
    return [segments[a:b] for a, b in itertools.pairwise(bounds)]


def _segment_cache(palette: Palette) -> dict[int, Segment]:
    cache = _segment_caches.get(palette)
    if cache is None:
        if len(_segment_caches) >= 64:  # many throwaway custom palettes: start over
            _segment_caches.clear()
        cache = _segment_caches[palette] = {}
    return cache


def _new_segment(palette: Palette, cache: dict[int, Segment], key: int) -> Segment:
    if len(cache) >= _SEGMENT_CACHE_LIMIT:
        cache.clear()
    pair, length = divmod(key, _MAX_RUN)
    segment = cache[key] = Segment(UPPER_HALF * length, palette.pair_style(pair))
    return segment
