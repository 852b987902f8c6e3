"""The charts' time axis (``t``) and the min/max band (``v``): the arithmetic, and the screen."""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.pilot import Pilot

from cnn_tui.render.series import envelope
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.widgets.charts import LossChart, times_at
from tests.recordings import Replayed

SnapCompare = Callable[..., bool]


def test_a_test_pass_sits_at_the_training_time_of_its_examples() -> None:
    seen, seconds = [0.0, 640.0, 1280.0], [0.0, 60.0, 180.0]
    assert times_at([640.0, 960.0, 1280.0], seen, seconds) == [60.0, 120.0, 180.0]


def test_batches_of_unknown_time_are_left_out_of_the_time_axis() -> None:
    seen, seconds = [0.0, 640.0, 1280.0], [math.nan, 60.0, 120.0]
    assert times_at([960.0], seen, seconds) == [90.0]
    assert all(math.isnan(t) for t in times_at([5.0], seen, [math.nan] * 3))


def test_the_band_holds_every_raw_point_of_its_bucket() -> None:
    xs = [float(i) for i in range(10)]
    ys = [5.0, 1.0, 4.0, 2.0, 9.0, 3.0, 7.0, 0.5, 6.0, 8.0]
    mean_x, low, high = envelope(xs, ys, 2)
    assert mean_x == [2.0, 7.0]
    assert low == [1.0, 0.5] and high == [9.0, 8.0]
    assert envelope(xs, [math.nan] * 10, 4) == ([], [], [])


def test_time_axis_and_band_on_screen(snap_compare: SnapCompare, dashboard_demo: Replayed) -> None:
    events = dashboard_demo.events
    app = CnnTuiApp(replay(events))
    app.animation_level = "none"

    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        await pilot.press("t", "v")
        chart = app.screen.query_one(LossChart)
        assert chart.axis == "time" and chart.band and chart.smoothing
        app.clear_notifications()
        app.redraw(force=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
