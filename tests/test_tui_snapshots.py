"""Snapshots of the monitor in states the test arranges from a recorded run.

The run is real (the packaged sample, seed 1, CPU, one thread), recorded with a step clock
and committed (``tests/fixtures/dashboard-demo.rec.gz``), then replayed into the app as is,
so every figure on screen is the same on every machine. Update with ``pytest
--snapshot-update`` (after ``--update-recordings`` if the run itself should change) and look
at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from cnn_tui.engine.events import BatchLogged, Event, RunState, StateChanged
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.screens.hparams_dialog import HParamsDialog
from tests.helpers import wait_until
from tests.recordings import Replayed

SnapCompare = Callable[..., bool]


@pytest.fixture(scope="session")
def demo_events(dashboard_demo: Replayed) -> list[Event]:
    """Into epoch 2 of the tutorial's run on the sample, with lr raised after epoch 1."""
    return dashboard_demo.events


def demo_app(events: list[Event]) -> CnnTuiApp:
    app = CnnTuiApp(replay(events))
    app.animation_level = "none"
    return app


def settled(events: list[Event]) -> Callable[[Pilot[object]], Awaitable[None]]:
    """A run_before that waits until every replayed event is on screen."""

    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, events)

    return run_before


def test_dashboard_mid_run(snap_compare: SnapCompare, demo_events: list[Event]) -> None:
    assert snap_compare(
        demo_app(demo_events), terminal_size=(120, 40), run_before=settled(demo_events)
    )


def test_dashboard_paused(snap_compare: SnapCompare, demo_events: list[Event]) -> None:
    last = [e for e in demo_events if isinstance(e, BatchLogged)][-1]
    after = last.examples_seen + 64
    paused = [
        *demo_events,
        StateChanged(RunState.PAUSED, "paused by request", last.epoch, after, last.batch_index + 1),
    ]
    assert snap_compare(demo_app(paused), terminal_size=(120, 40), run_before=settled(paused))


def test_hparams_dialog_shows_a_validation_error(
    snap_compare: SnapCompare, demo_events: list[Event]
) -> None:
    ready = settled(demo_events)

    async def run_before(pilot: Pilot[object]) -> None:
        await ready(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HParamsDialog))
        pilot.app.screen.query_one("#field-lr", Input).value = "-0.5"
        pilot.app.screen.query_one("#field-batch_size", Input).value = "64.5"
        await pilot.pause()

    assert snap_compare(demo_app(demo_events), terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("tab", ["1", "2", "3", "4"])
def test_compact_layout_at_80x24(
    snap_compare: SnapCompare, demo_events: list[Event], tab: str
) -> None:
    assert snap_compare(
        demo_app(demo_events), terminal_size=(80, 24), run_before=settled(demo_events), press=[tab]
    )


def test_no_color_draws_ascii_heatmaps(
    snap_compare: SnapCompare, demo_events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = demo_app(demo_events)
    assert app.glyphs.ascii
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(demo_events))


def test_too_small_terminal_says_so(snap_compare: SnapCompare, demo_events: list[Event]) -> None:
    assert snap_compare(
        demo_app(demo_events), terminal_size=(40, 12), run_before=settled(demo_events)
    )


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_help_screen(
    snap_compare: SnapCompare, demo_events: list[Event], size: tuple[int, int]
) -> None:
    """Every key fits at 120×40; at 80×24 the help scrolls instead of being cut off."""
    assert snap_compare(
        demo_app(demo_events),
        terminal_size=size,
        run_before=settled(demo_events),
        press=["question_mark"],
    )
