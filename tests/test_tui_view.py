"""The monitor's view model and the pure helpers behind its widgets."""

from __future__ import annotations

import pytest

from cnn_tui.config import HyperParams
from cnn_tui.data import LoadedData
from cnn_tui.engine.events import (
    BatchLogged,
    EpochTested,
    HParamsChanged,
    RunState,
    StateChanged,
)
from cnn_tui.render import ASCII, UNICODE, fit_to
from cnn_tui.render.series import downsample, smooth
from cnn_tui.render.tiling import fit_tiles
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.replay import record
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.status import status_text


def batch(seen: int, seconds: float, loss: float = 1.0, epoch: int = 1) -> BatchLogged:
    return BatchLogged(epoch, seen // 64, 94, seen % 6000, 6000, seen, loss, 10, 64, seconds)


def test_view_accumulates_a_real_run(tiny_data: LoadedData) -> None:
    events = record(
        tiny_data,
        stop_at=(2, 5),
        hparams=HyperParams(log_interval=1),
        changes={(1, 4): {"lr": 0.05}},
    ).events
    view = RunView()
    for event in events:
        view.apply(event)
    logged = [e for e in events if isinstance(e, BatchLogged)]
    assert view.curves.train_x == [e.examples_seen for e in logged]
    assert view.curves.train_loss == [e.loss for e in logged]
    assert view.curves.test_epoch == [0, 1]
    assert view.curves.markers == [(320, "lr 0.01→0.05")]
    assert view.hparams.lr == 0.05
    assert (view.epoch, view.batches_done, view.examples_seen) == (2, 6, 640 + 6 * 64)
    assert view.state is RunState.RUNNING
    assert view.samples is not None and view.probe is not None
    assert any("lr 0.01→0.05" in line.text for line in view.log)


def test_rate_and_eta_come_from_training_time_not_the_wall() -> None:
    view = RunView()
    view.apply(StateChanged(RunState.RUNNING, "", 1, 0))
    for k in range(5):
        view.apply(batch(640 * k, 0.5 * k))
    assert view.samples_per_second == pytest.approx(1280.0)
    total = 3 * 6000
    assert view.eta_seconds == pytest.approx((total - 2560 - 64) / 1280.0)  # after the batch
    view.apply(StateChanged(RunState.PAUSED, "", 1, 2560))
    assert view.eta_seconds is None  # no ETA while nothing moves


def test_hparam_change_moves_the_marker_and_the_epochs() -> None:
    view = RunView()
    view.apply(HParamsChanged(HyperParams(), HyperParams(epochs=5), 1, 128))
    assert view.hparams.epochs == 5 and view.curves.markers == [(128, "epochs 3→5")]


def test_test_pass_lands_on_both_charts() -> None:
    view = RunView()
    before = view.curves.version
    view.apply(EpochTested(1, 6000, 0.2, 940, 1000, (), ()))
    assert view.curves.test_acc == [0.94] and view.curves.test_x == [6000]
    assert view.curves.version > before


def test_downsample_keeps_short_series_and_averages_long_ones() -> None:
    assert downsample([1, 2, 3], [4.0, 5.0, 6.0], 10) == ([1, 2, 3], [4.0, 5.0, 6.0])
    xs, ys = downsample(list(range(100)), [float(v) for v in range(100)], 10)
    assert len(xs) == 10 and xs[0] == pytest.approx(4.5) and ys[-1] == pytest.approx(94.5)
    xs, ys = downsample([0, 1, 2], [float("nan"), 2.0, 3.0], 10)
    assert xs == [1, 2]


def test_smooth_starts_at_the_data_and_follows_a_step() -> None:
    out = smooth([1.0] * 5 + [0.0] * 50)
    assert out[0] == pytest.approx(1.0) and out[4] == pytest.approx(1.0)
    assert 0.0 < out[10] < 1.0 and out[-1] < 0.01


def test_fit_prefers_the_largest_pictures_that_fit_all() -> None:
    fit = fit_tiles(11, (24, 12, 8), width=68, height=22)
    assert fit.pixels == 12 and fit.capacity >= 11
    cramped = fit_tiles(11, (24, 12), width=20, height=6)
    assert cramped.pixels == 12 and cramped.capacity < 11


def test_fit_to_averages_whole_blocks() -> None:
    import numpy as np

    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert fit_to(image, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert fit_to(image, 3).shape == (3, 3)


def test_status_line_drops_the_least_important_facts_first() -> None:
    view = RunView()
    for event in (StateChanged(RunState.PAUSED, "", 1, 0), batch(640, 1.0), batch(1280, 2.0)):
        view.apply(event)
    wide = status_text(view, 120, glyphs=UNICODE).plain
    narrow = status_text(view, 40, glyphs=ASCII).plain
    assert wide.startswith(" PAUSED ") and "step" in wide and "ETA" in wide
    assert narrow.startswith("[PAUSED]") and "epoch 1/3" in narrow and "step" not in narrow
    assert len(narrow) <= 40


class LogLength(ViewWidget):
    DRAWS = Part.LOG
    EVERY = 2.0
    shown = 0

    def show(self, view: RunView) -> None:
        self.shown += 1


def test_a_view_widget_redraws_once_per_interval_and_when_forced() -> None:
    widget, view = LogLength(), RunView()

    def allows(now: float | None) -> bool:
        view.log_version += 1  # something new to draw every time
        before = widget.shown
        widget.sync(view, now)
        return widget.shown > before

    assert allows(10.0)
    assert not allows(11.0)
    assert allows(12.0)
    assert allows(None)  # forced, inside the interval
    assert allows(12.5)  # a forced redraw does not push the next one back
    assert not allows(13.0)
    widget.sync(view, 20.0)  # what was refused at 13.0 shows at the next sync allowed
    widget.sync(view, 30.0)
    assert widget.shown == 5  # and with nothing new since, no redraw however long it waits


def test_a_finished_run_stays_at_the_end_of_its_last_epoch() -> None:
    view = RunView()
    view.apply(batch(5952, 1.0))  # the last batch of a 6,000-example epoch (of 3)
    view.apply(StateChanged(RunState.DONE, "3 epochs trained", 4, 18000, 0))
    assert view.batches_done == view.batches_in_epoch and view.epoch_fraction == 1.0
    assert view.examples_seen == 18000
