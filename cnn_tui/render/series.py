"""Chart series math: bucket-mean downsampling and debiased exponential smoothing.

plotext redraws every point on every frame (about 10–15 µs a point), so a chart is given at
most about two points per braille column of its width, however long the run. The history
behind it holds up to 4,096 points a curve: the unknown ones are found with numpy, and each
bucket is summed by Python's ``sum`` over a list slice (see ``downsample``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def downsample(
    xs: Sequence[float], ys: Sequence[float], limit: int
) -> tuple[list[float], list[float]]:
    """At most ``limit`` points: consecutive buckets replaced by their mean x and mean y.

    Points with NaN in x or y (unknown) are skipped.
    """
    kx, ky = _known(xs, ys)
    if len(kx) <= limit or limit < 1:
        return kx, ky
    bounds = _buckets(len(kx), limit)
    # builtin sum over list slices: left to right, the same float on every CPU (numpy's
    # reductions pair and vectorise, and their last digit follows the CPU's SIMD width)
    return _means(kx, bounds), _means(ky, bounds)


def envelope(
    xs: Sequence[float], ys: Sequence[float], limit: int
) -> tuple[list[float], list[float], list[float]]:
    """The same buckets as :func:`downsample`, as (mean x, min y, max y): the band the raw
    points fill, around a smoothed line."""
    kx, ky = _known(xs, ys)
    bounds = _buckets(len(kx), min(limit, len(kx)))
    return (
        _means(kx, bounds),
        [min(ky[a:b]) for a, b in bounds],
        [max(ky[a:b]) for a, b in bounds],
    )


def _means(values: list[float], bounds: list[tuple[int, int]]) -> list[float]:
    return [sum(values[a:b]) / (b - a) for a, b in bounds]


def _buckets(n: int, buckets: int) -> list[tuple[int, int]]:
    """``buckets`` consecutive, non-empty slices of ``n`` points (``buckets`` <= ``n``)."""
    if buckets < 1:
        return []
    return [(b * n // buckets, (b + 1) * n // buckets) for b in range(buckets)]


def _known(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The points whose x and y are both known (not NaN), as two lists."""
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{len(x)} x values for {len(y)} y values")
    known = ~(np.isnan(x) | np.isnan(y))
    return x[known].tolist(), y[known].tolist()


def smooth(ys: Sequence[float], weight: float = 0.9) -> list[float]:
    """TensorBoard-style exponential moving average, debiased so it starts at the data."""
    out: list[float] = []
    average, correction = 0.0, 1.0
    for y in ys:
        average = weight * average + (1 - weight) * y
        correction *= weight
        out.append(average / (1 - correction))
    return out
