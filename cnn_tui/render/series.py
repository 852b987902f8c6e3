"""Chart series math: bucket-mean downsampling and debiased exponential smoothing.

plotext redraws every point on every frame (about 10–15 µs a point), so a chart is given at
most about two points per braille column of its width, however long the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def downsample(
    xs: Sequence[float], ys: Sequence[float], limit: int
) -> tuple[list[float], list[float]]:
    """At most ``limit`` points: consecutive buckets replaced by their mean x and mean y.

    Points with NaN in x or y (unknown) are skipped.
    """
    points = _known(xs, ys)
    if len(points) <= limit or limit < 1:
        return [x for x, _ in points], [y for _, y in points]
    out_x: list[float] = []
    out_y: list[float] = []
    for bucket in range(limit):
        start = bucket * len(points) // limit
        end = (bucket + 1) * len(points) // limit
        chunk = points[start:end]
        out_x.append(sum(x for x, _ in chunk) / len(chunk))
        out_y.append(sum(y for _, y in chunk) / len(chunk))
    return out_x, out_y


def envelope(
    xs: Sequence[float], ys: Sequence[float], limit: int
) -> tuple[list[float], list[float], list[float]]:
    """The same buckets as :func:`downsample`, as (mean x, min y, max y): the band the raw
    points fill, around a smoothed line."""
    points = _known(xs, ys)
    buckets = min(limit, len(points))
    out: tuple[list[float], list[float], list[float]] = ([], [], [])
    for bucket in range(max(buckets, 0)):
        chunk = points[bucket * len(points) // buckets : (bucket + 1) * len(points) // buckets]
        out[0].append(sum(x for x, _ in chunk) / len(chunk))
        out[1].append(min(y for _, y in chunk))
        out[2].append(max(y for _, y in chunk))
    return out


def _known(xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    return [(x, y) for x, y in zip(xs, ys, strict=True) if not (math.isnan(x) or math.isnan(y))]


def smooth(ys: Sequence[float], weight: float = 0.9) -> list[float]:
    """TensorBoard-style exponential moving average, debiased so it starts at the data."""
    out: list[float] = []
    average, correction = 0.0, 1.0
    for y in ys:
        average = weight * average + (1 - weight) * y
        correction *= weight
        out.append(average / (1 - correction))
    return out
