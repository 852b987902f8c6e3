"""Bounded histories: a long run's curve stays small, whole, and the same however it is copied."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_tui.bounded import BoundedSeries, thin
from cnn_tui.runview import Curves
from cnn_tui.wire.codec import decode, encode
from cnn_tui.wire.lines import read_line, write_line

POINTS = st.lists(
    st.tuples(
        st.floats(0, 1e9, allow_nan=False),
        st.floats(-1e3, 1e3, allow_nan=False),
        st.one_of(st.just(math.nan), st.floats(0, 1)),
    ),
    max_size=300,
)


def series(limit: int) -> BoundedSeries:
    return BoundedSeries(limit=limit)


def same(a: BoundedSeries, b: BoundedSeries) -> bool:
    def key(s: BoundedSeries) -> tuple[object, ...]:
        return (
            s.xs,
            s.ys,
            [repr(z) for z in s.zs],
            [repr(t) for t in s.ts],
            s.bucket,
            s.tail,
            s.sums,
        )

    return key(a) == key(b)


@settings(max_examples=200, deadline=None)
@given(points=POINTS, cut=st.integers(0, 300), limit=st.sampled_from([2, 4, 8, 16]))
def test_a_copy_made_midway_ends_where_the_original_does(
    points: list[tuple[float, float, float]], cut: int, limit: int
) -> None:
    """A viewer that attaches mid-run (the endpoint sends it the series so far, as JSON) and
    appends what follows holds what a viewer that saw every point from the start holds."""
    whole, early = series(limit), series(limit)
    for x, y, z in points:
        whole.add(x, y, z, x / 1000)
    for x, y, z in points[:cut]:
        early.add(x, y, z, x / 1000)
    copied: BoundedSeries = decode(
        read_line(write_line(encode(early, BoundedSeries))), BoundedSeries
    )
    for x, y, z in points[cut:]:
        copied.add(x, y, z, x / 1000)
    assert same(copied, whole)
    assert len(whole) <= limit


def test_a_night_of_batches_keeps_its_first_and_last_and_stays_small() -> None:
    curves = Curves()
    for k in range(200_000):
        curves.train.add(64 * k, 1.0 / (k + 1), 0.5)
    assert len(curves.train_x) <= 4096
    assert curves.train_x[0] < 64 * 64  # the first point is still the start of the run
    assert curves.train_x[-1] > 64 * 199_000  # and the last is the end
    assert curves.train.bucket == 64


def test_bucket_one_is_the_raw_points() -> None:
    s = series(8)
    for k in range(5):
        s.add(k, 10 * k, 0.1 * k)
    assert s.xs == [0, 1, 2, 3, 4] and s.ys == [0, 10, 20, 30, 40]


def test_a_checkpoints_history_is_thinned_to_its_limit() -> None:
    history = [[float(k), float(k)] for k in range(9)]
    thin(history, limit=8)
    assert history == [[0.5, 0.5], [2.5, 2.5], [4.5, 4.5], [6.5, 6.5]]
