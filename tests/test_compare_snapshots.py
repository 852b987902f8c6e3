"""Snapshots of comparing: another run's curves on the charts, and the runs picker (``o``).

The run on screen is the committed recording; the other runs are written here, from it, with
Python arithmetic only (their losses scaled), so nothing on screen depends on the CPU.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from cnn_tui.engine.events import (
    BatchLogged,
    EpochTested,
    Event,
    HistoryRestored,
    HParamsChanged,
)
from cnn_tui.engine.runlog import event_line
from cnn_tui.runs.record import RunRecord, write_record
from cnn_tui.runs.registry import register
from cnn_tui.runview import RunView
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.comparisons import Comparisons
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.screens.runs_picker import RunsPicker
from cnn_tui.tui.widgets.charts import CurvesChart
from tests.helpers import drive, wait_until
from tests.recordings import Replayed

SnapCompare = Callable[..., bool]


def on_screen(widget: Widget) -> str:
    """The widget's lines as the screen has them."""
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.size)))


SIZES = [(120, 40), (80, 24)]
DEMO_HPARAMS = {"batch_size": 64, "test_batch_size": 1000, "epochs": 3, "momentum": 0.5}


def other_run(
    run_dir: Path, events: list[Event], *, lr: float, scale: float, created: float, **record: object
) -> Path:
    """A finished run's directory: the demo's log, its losses times ``scale``, its correct
    counts divided by it."""
    run_dir.mkdir(mode=0o700)
    changed: list[Event] = []
    for event in events:
        if isinstance(event, BatchLogged):
            correct = min(event.train_seen, round(event.train_correct / scale))
            changed.append(
                dataclasses.replace(event, loss=event.loss * scale, train_correct=correct)
            )
        elif isinstance(event, EpochTested):
            correct = min(event.total, round(event.correct / scale))
            changed.append(
                dataclasses.replace(event, avg_loss=event.avg_loss * scale, correct=correct)
            )
    (run_dir / "events.jsonl").write_bytes(b"".join(event_line(e) for e in changed))
    run_id = f"20261201-0{int(created)}0000-mnist"
    hparams = {**DEMO_HPARAMS, "lr": lr, "log_interval": 5}
    fields = {"state": "done", "epoch": 3, **record}
    write_record(
        run_dir,
        RunRecord(run_id, str(run_dir), "mnist", hparams, created=created, **fields),  # type: ignore[arg-type]
    )
    register(run_dir, run_id)
    return run_dir


@pytest.fixture
def others(tmp_path: Path, dashboard_demo: Replayed) -> list[Path]:
    events = dashboard_demo.events
    return [
        other_run(tmp_path / "a", events, lr=0.05, scale=0.8, created=1, best_accuracy=0.9712),
        other_run(tmp_path / "b", events, lr=0.1, scale=1.25, created=2, best_accuracy=0.9431),
        other_run(tmp_path / "c", events, lr=0.01, scale=1.0, created=3, state="crashed"),
    ]


def test_other_runs_on_the_charts(
    snap_compare: SnapCompare,
    dashboard_demo: Replayed,
    others: list[Path],
    size: tuple[int, int],
) -> None:
    events = dashboard_demo.events
    app = CnnTuiApp(replay(events), compare=others[:2])
    app.animation_level = "none"

    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        app.refresh_overlays(force=True)
        assert [o.label for o in app.view.overlays] == ["lr 0.05", "lr 0.1"]
        app.redraw(force=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_the_runs_picker(
    snap_compare: SnapCompare,
    dashboard_demo: Replayed,
    others: list[Path],
    size: tuple[int, int],
) -> None:
    events = dashboard_demo.events
    app = CnnTuiApp(replay(events), compare=others[1:2])
    app.animation_level = "none"

    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsPicker))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param  # type: ignore[no-any-return]


def test_a_resumed_run_with_others_on_its_charts_draws(
    dashboard_demo: Replayed, others: list[Path]
) -> None:
    """A resumed run (or a fork, just started) has curves without training accuracies: the
    legend must not name a line with no points (plotext fails on one)."""
    started, *rest = dashboard_demo.events
    logged = [e for e in rest if isinstance(e, BatchLogged)]
    restored = HistoryRestored(tuple((e.examples_seen, e.loss) for e in logged), (), ())
    app = CnnTuiApp(replay([started, restored]), compare=others[:1])

    async def body(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: len(app.view.curves.train_x) == len(logged))
        app.refresh_overlays(force=True)
        app.redraw(force=True)
        await pilot.pause()
        drawn = {type(c).__name__: on_screen(c) for c in app.screen.query(CurvesChart)}
        assert "this run" in drawn["LossChart"] and "lr 0.05" in drawn["LossChart"]
        assert "lr 0.05" in drawn["AccuracyChart"]  # this run has no accuracies to name

    drive(app, body)


def test_ticking_a_run_in_the_picker_draws_it(dashboard_demo: Replayed, others: list[Path]) -> None:
    events = dashboard_demo.events
    app = CnnTuiApp(replay(events), compare=others[1:2])

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsPicker))
        picker = app.screen
        await pilot.press("space")  # the newest run, highlighted first
        assert "ticked: 20261201-020000-mnist, 20261201-030000-mnist (" in str(
            picker.query_one("#picker-help", Static).render()
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.view.overlays) == 2)
        assert [o.label for o in app.view.overlays] == ["lr 0.1", "lr 0.01"]
        assert app.comparisons.run_dirs == [others[1].absolute(), others[2].absolute()]

    drive(app, body)


def test_labels_follow_the_run_on_screen_when_its_settings_change(
    dashboard_demo: Replayed, others: list[Path]
) -> None:
    """A finished run's log never grows: its label must still follow this run's lr."""
    view = RunView()
    for event in dashboard_demo.events:
        view.apply(event)
    comparisons = Comparisons()
    comparisons.choose(others[:1])  # lr 0.05, finished
    first = comparisons.refresh(view)
    assert first is not None and first[0].label == "lr 0.05"
    assert comparisons.refresh(view) is None  # nothing new: nothing to draw again
    old = view.hparams
    view.apply(HParamsChanged(old, dataclasses.replace(old, lr=0.05), 2, 9_000))
    again = comparisons.refresh(view)
    assert again is not None and again[0].label == "20261201-010000-mnist"  # nothing differs
