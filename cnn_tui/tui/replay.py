"""Recorded runs played back into the app: deterministic screens for tests and screenshots.

``record_run`` trains for real (CPU, fixed seed, a step clock instead of wall time, no files)
and keeps the events up to a chosen batch; ``ReplaySession`` stands in for the engine and
feeds them to the app. The same events always draw the same screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from textual.pilot import Pilot

from cnn_tui.config import HyperParams, RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import BatchLogged, Event, RunState, StateChanged
from cnn_tui.engine.session import open_run
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.view import RunView

DEMO_RUN_DIR = Path("runs/demo")


class StepClock:
    """A clock that advances a fixed step on every read: training time without the wall."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class ReplaySession:
    """Plays ``events`` to the app's sink; commands land on a Control nobody obeys."""

    def __init__(self, events: Sequence[Event], run_dir: Path = DEMO_RUN_DIR) -> None:
        self.events = list(events)
        self.control = Control()
        self.run_dir = run_dir
        self.sink: Callable[[Event], None] = lambda event: None

    def run(self, *, linger: bool = False) -> RunState:
        state = RunState.STARTING
        for event in self.events:
            self.sink(event)
            if isinstance(event, StateChanged):
                state = event.state
        return state


def replay(events: Sequence[Event]) -> Callable[[Callable[[Event], None]], ReplaySession]:
    """An ``open_session`` for the app that replays ``events``."""

    def open_session(sink: Callable[[Event], None]) -> ReplaySession:
        session = ReplaySession(events)
        session.sink = sink
        return session

    return open_session


def record_run(
    data: LoadedData,
    *,
    stop_at: tuple[int, int],
    hparams: HyperParams | None = None,
    seed: int = 1,
    visual_every: int = 10,
    clock: Callable[[], float] | None = None,
    changes: Mapping[tuple[int, int], dict[str, float]] | None = None,
) -> list[Event]:
    """Train for real until batch ``stop_at = (epoch, batch_index)`` is logged; its events.

    ``changes`` maps a logged batch to hyperparameter changes asked for right after it, as a
    user would from the dialog. ``clock`` defaults to a step clock (6 ms a read), so rates
    and ETAs are the same on every machine; pass ``time.perf_counter`` for measured ones.
    """
    control = Control()
    events: list[Event] = []

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, BatchLogged):
            where = (event.epoch, event.batch_index)
            if changes and where in changes:
                control.set_hparams(**changes[where])
            if where == stop_at:
                control.stop()

    config = RunConfig(
        hparams=hparams or HyperParams(log_interval=5), seed=seed, run_dir=DEMO_RUN_DIR
    )
    run = open_run(
        config,
        data,
        sink,
        device=torch.device("cpu"),
        control=control,
        visual_every=visual_every,
        clock=clock or StepClock(0.006),
        write_files=False,
    )
    run.run()
    # Keep the run as it was at the stop batch: drop what stopping itself reported.
    while events and isinstance(events[-1], StateChanged) and events[-1].state is RunState.STOPPED:
        events.pop()
    return events


def final_view(events: Sequence[Event]) -> RunView:
    """The view the app should reach once it has applied every one of ``events``."""
    view = RunView()
    for event in events:
        view.apply(event)
    return view


async def settle(pilot: Pilot[Any], events: Sequence[Event], timeout: float = 30.0) -> None:
    """Wait until a replaying app has drawn all of ``events``, then redraw everything."""
    app = pilot.app
    if not isinstance(app, CnnTuiApp):
        raise TypeError(f"settle drives a CnnTuiApp, not {type(app).__name__}")
    expected = final_view(events)
    goal = (expected.examples_seen, expected.state, expected.log_version)
    deadline = time.monotonic() + timeout
    while (app.view.examples_seen, app.view.state, app.view.log_version) != goal:
        if time.monotonic() > deadline:
            raise TimeoutError("the replayed events never all reached the screen")
        await pilot.pause(0.01)
    app.redraw(force=True)
    await pilot.pause()
