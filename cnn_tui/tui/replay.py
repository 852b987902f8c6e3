"""Recorded runs played back into the app: deterministic screens for tests and screenshots.

``record`` trains for real (CPU, fixed seed, a step clock instead of wall time, no files)
and keeps the events up to a chosen batch, and the network as it was there;
``ReplaySession`` stands in for the engine and feeds the events to the app. The same events
always draw the same screen. Given a recording's network, a replayed run also answers probes
(``n``/``p``, a drawn digit) as the real engine would, paused at that batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from textual.pilot import Pilot

from cnn_tui.config import HyperParams, RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.engine import inference
from cnn_tui.engine.control import Command, Control, ProbeImage, ProbeIndex, Request
from cnn_tui.engine.events import BatchLogged, Event, RunState, StateChanged
from cnn_tui.engine.session import open_run
from cnn_tui.model import Net
from cnn_tui.runview import RunView
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.session import Sink

DEMO_RUN_DIR = Path("runs/demo")


class StepClock:
    """A clock that advances a fixed step on every read: training time without the wall."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


Answer = Callable[[Command], Event | None]


class ReplaySession:
    """Plays ``events`` to the app's sink. Requests are ignored, unless ``answer`` is given:
    then it answers each probe until the app leaves, like an engine paused at the end."""

    owner = True
    read_only = False
    remote = False
    watching = 1
    run_id = "demo"

    def __init__(self, events: Sequence[Event], sink: Sink, answer: Answer | None = None) -> None:
        self.events = list(events)
        self.sink = sink
        self.control = Control()
        self.run_dir = DEMO_RUN_DIR
        self.answer = answer

    def run(self) -> RunState:
        state = RunState.STARTING
        for event in self.events:
            self.sink(event)
            if isinstance(event, StateChanged):
                state = event.state
        while self.answer is not None and not self.control.stop_requested:
            for command in self.control.take():
                reply = self.answer(command)
                if reply is not None:
                    self.sink(reply)
            self.control.wait()
        return state

    def send(self, request: Request) -> None:
        self.control.submit(request)

    def pace(self, stretch: float) -> None:
        pass  # a recording has no pace to keep

    def request_test_images(self) -> None:
        pass  # they are in the recorded RunStarted

    def leave(self) -> None:
        self.control.stop()


def replay(
    events: Sequence[Event], answer: Answer | None = None
) -> Callable[[Sink], ReplaySession]:
    """An ``open_session`` for the app that replays ``events`` (and ``answer``s probes)."""

    def open_session(sink: Sink) -> ReplaySession:
        return ReplaySession(events, sink, answer=answer)

    return open_session


@dataclass(frozen=True)
class Recording:
    """A recorded run: its events, and its network and data as they were at the last one."""

    events: list[Event]
    net: Net
    data: LoadedData

    @cached_property
    def examples_seen(self) -> int:
        return final_view(self.events).examples_seen

    def answer(self, command: Command) -> Event | None:
        """What the engine, paused where the recording ends, says to a probe command."""
        seen = self.examples_seen
        if isinstance(command, ProbeImage):
            return inference.probe_drawn(self.net, command.image, self.data, seen)
        if isinstance(command, ProbeIndex):
            return inference.probe_test_digit(self.net, self.data, command.index, seen)
        return None


def record(
    data: LoadedData,
    *,
    stop_at: tuple[int, int],
    hparams: HyperParams | None = None,
    seed: int = 1,
    visual_every: int = 10,
    clock: Callable[[], float] | None = None,
    changes: Mapping[tuple[int, int], dict[str, float]] | None = None,
) -> Recording:
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
    return Recording(events, run.trainer.net, data)


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
