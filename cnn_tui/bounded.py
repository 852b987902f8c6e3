"""Histories that stay bounded however long a run trains: halve the resolution, not the span.

A monitor left for a night must not grow without bound, yet its loss curve should still
start at the first batch. :class:`BoundedSeries` keeps at most ``limit`` points; each
stands for ``bucket`` consecutive raw points (their mean), buckets aligned to the start of
the series, the newest one possibly still filling (``tail``). When the series is full, pairs
of points merge and ``bucket`` doubles. What it holds is a function of the raw points alone
— not of when it was copied — so a viewer that receives one mid-run and goes on appending
ends where one that saw every point from the start does. The full record stays in
``events.jsonl``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

MAX_POINTS = 4096


@dataclass
class BoundedSeries:
    """Points (x, y, z, t) — a logged batch's examples seen, loss, accuracy and training
    time — bounded. z and t may be NaN (unknown: a history restored from a checkpoint)."""

    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    zs: list[float] = field(default_factory=list)
    ts: list[float] = field(default_factory=list)
    bucket: int = 1  # raw points per point
    tail: int = 0  # raw points in the newest point when it is still filling, else 0
    # running sums of the newest point: x, y, z, known z's, t, known t's
    sums: list[float] = field(default_factory=lambda: [0.0] * 6)
    limit: int = MAX_POINTS

    def __len__(self) -> int:
        return len(self.xs)

    def add(self, x: float, y: float, z: float = math.nan, t: float = math.nan) -> None:
        s = self.sums
        if self.tail == 0:
            s[:] = [0.0] * 6
            for column in (self.xs, self.ys, self.zs, self.ts):
                column.append(math.nan)
        s[0] += x
        s[1] += y
        if not math.isnan(z):
            s[2] += z
            s[3] += 1
        if not math.isnan(t):
            s[4] += t
            s[5] += 1
        self.tail += 1
        n = self.tail
        self.xs[-1], self.ys[-1] = s[0] / n, s[1] / n
        self.zs[-1] = s[2] / s[3] if s[3] else math.nan
        self.ts[-1] = s[4] / s[5] if s[5] else math.nan
        if self.tail == self.bucket:
            self.tail = 0
            if len(self.xs) >= self.limit:
                self._halve()

    def _halve(self) -> None:
        pairs = range(0, len(self.xs) - 1, 2)
        self.xs = [(self.xs[i] + self.xs[i + 1]) / 2 for i in pairs]
        self.ys = [(self.ys[i] + self.ys[i + 1]) / 2 for i in pairs]
        self.zs = [_mean_known(self.zs[i], self.zs[i + 1]) for i in pairs]
        self.ts = [_mean_known(self.ts[i], self.ts[i + 1]) for i in pairs]
        self.bucket *= 2


def _mean_known(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return (a + b) / 2


def keep_last(items: list[T], limit: int) -> None:
    """Drop the oldest of ``items`` beyond ``limit`` (markers, changes: rare, user-made)."""
    if len(items) > limit:
        del items[: len(items) - limit]


def thin(points: list[list[float]], limit: int = MAX_POINTS) -> None:
    """Halve a checkpoint's ``[x, y]`` history (pairs averaged) once it reaches ``limit``:
    what a resumed run redraws stays as bounded as what a monitor holds."""
    if len(points) >= limit:
        points[:] = [
            [(a + b) / 2 for a, b in zip(points[i], points[i + 1], strict=True)]
            for i in range(0, len(points) - 1, 2)
        ]
