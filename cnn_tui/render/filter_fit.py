"""Sizing the learned-filters picture: conv1's kernels above one conv2 filter's kernels.

Pure arithmetic on sizes, like :mod:`cnn_tui.render.stage_fit`. :func:`fit_filters` picks
the largest magnification that fits both groups (then conv1's, the layer the tutorial
explains), in rows balanced to the width; short of room, each group's legend moves onto its
title line and the blank line between the groups goes. At 80×18 conv1 is drawn at 2 cells a
weight, conv2 at 1.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

SCALES = (4, 3, 2, 1)
KERNEL = 5


@dataclass(frozen=True, slots=True)
class GroupFit:
    scale: int
    per_row: int
    height: int  # lines, headers included


@dataclass(frozen=True, slots=True)
class FilterLayout:
    groups: tuple[GroupFit, GroupFit]
    header_lines: int  # 2: title, then legend; 1: both on one line
    gap: int  # blank lines between the groups

    def key(self) -> tuple[int, int, int, int]:
        first, second = (g.scale for g in self.groups)
        return (min(first, second), first, self.header_lines, self.gap)


def fit_group(count: int, scale: int, width: int, title_width: int, header: int) -> GroupFit:
    """``count`` kernels at ``scale`` in rows of equal length that fit ``width``."""
    tile = max(KERNEL * scale, title_width)
    most = max(1, min(count, (width + 1) // (tile + 1)))
    rows = math.ceil(count / most)
    per_row = math.ceil(count / rows)  # balanced: 5 + 5 rather than 7 + 3
    return GroupFit(scale, per_row, header + rows * (1 + math.ceil(KERNEL * scale / 2)))


def fit_filters(
    counts: tuple[int, int], width: int, height: int, title_widths: tuple[int, int]
) -> FilterLayout:
    """The largest scales that fit ``height`` (the smaller of the two first, then conv1's),
    then roomier headers; the smallest, most compact layout if nothing fits."""
    best: FilterLayout | None = None
    for header, gap, first, second in itertools.product((2, 1), (1, 0), SCALES, SCALES):
        layout = FilterLayout(
            (
                fit_group(counts[0], first, width, title_widths[0], header),
                fit_group(counts[1], second, width, title_widths[1], header),
            ),
            header,
            gap,
        )
        fits = sum(g.height for g in layout.groups) + gap <= height
        if fits and (best is None or layout.key() > best.key()):
            best = layout
    if best is None:
        smallest = SCALES[-1]
        return FilterLayout(
            (
                fit_group(counts[0], smallest, width, title_widths[0], 1),
                fit_group(counts[1], smallest, width, title_widths[1], 1),
            ),
            1,
            0,
        )
    return best
