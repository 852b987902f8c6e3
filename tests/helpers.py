"""Test helpers: a recording sink and a one-call way to open a small CPU run."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from textual.app import App
from textual.pilot import Pilot

from cnn_tui.config import HyperParams, RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.engine.control import Control, Request
from cnn_tui.engine.events import Event, RunState
from cnn_tui.engine.session import Run, open_run
from cnn_tui.runview import Refused
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.session import Sink


@dataclass
class Recorder:
    """A sink that keeps every event and lets a test wait for one from another thread."""

    events: list[Event] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 30.0) -> Event:
        """The first recorded event matching ``predicate``; fails the test after ``timeout``."""
        with self._cond:
            found: list[Event] = []

            def match() -> bool:
                found[:] = [e for e in self.events if predicate(e)][:1]
                return bool(found)

            if not self._cond.wait_for(match, timeout):
                raise AssertionError("the event never came")
            return found[0]


def open_test_run(
    data: LoadedData,
    sink: Callable[[Event], None],
    run_dir: Path | None,
    **options: object,
) -> Run:
    """A CPU run of ``data`` with small defaults; ``options`` go to HyperParams or open_run."""
    hp_names = set(HyperParams.__dataclass_fields__)
    hp = {k: v for k, v in options.items() if k in hp_names}
    rest = {k: v for k, v in options.items() if k not in hp_names}
    seed = int(rest.pop("seed", 1))  # type: ignore[call-overload]
    config = RunConfig(
        hparams=HyperParams(**{"epochs": 1, "log_interval": 2, **hp}),  # type: ignore[arg-type]
        seed=seed,
        run_dir=run_dir,
    )
    rest.setdefault("visual_every", 0)
    rest.setdefault("write_files", run_dir is not None)
    return open_run(config, data, sink, device=torch.device("cpu"), **rest)  # type: ignore[arg-type]


class WatchedControl(Control):
    """A Control that tells the test when the engine blocks in ``wait`` (paused for real)."""

    def __init__(self, **kwargs: bool) -> None:
        super().__init__(**kwargs)
        self.blocked = threading.Event()

    def wait(self, timeout: float | None = None) -> None:
        self.blocked.set()
        super().wait(timeout)

    def until_blocked(self) -> None:
        assert self.blocked.wait(30), "the engine never paused"
        self.blocked.clear()


async def wait_until(
    pilot: Pilot[object], predicate: Callable[[], bool], timeout: float = 30
) -> None:
    """Let the app run until ``predicate()`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the app never got there")
        await pilot.pause(0.01)


def drive(
    app: App[object],
    body: Callable[[Pilot[object]], Awaitable[None]],
    size: tuple[int, int] = (120, 40),
) -> None:
    """Run ``app`` headless at ``size`` and ``body(pilot)`` against it (no pytest-asyncio)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            app.animation_level = "none"
            try:
                await body(pilot)
            finally:  # a failed assertion must not leave a paused engine thread behind
                session = getattr(app, "session", None)
                if session is not None:
                    session.leave()

    asyncio.run(main())


class Harness:
    """An app whose session is a real run; keeps the run and its control for assertions."""

    def __init__(self, data: LoadedData, run_dir: Path, **options: object) -> None:
        self.control = WatchedControl()
        self.run: Run | None = None

        def open_session(sink: Sink) -> LocalSession:
            self.run = open_test_run(
                data, sink, run_dir, control=self.control, epochs=100, visual_every=5, **options
            )
            return LocalSession(self.run, sink)

        self.app = CnnTuiApp(open_session)

    @property
    def batches(self) -> int:
        assert self.run is not None
        return self.run.trainer.progress.batch_index + 10 * (self.run.trainer.progress.epoch - 1)

    @property
    def lr_in_optimizer(self) -> float:
        assert self.run is not None
        return float(self.run.trainer.optimizer.param_groups[0]["lr"])

    async def pause(self, pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: self.app.view.state is RunState.RUNNING)
        await pilot.press("space")
        await wait_until(pilot, lambda: self.app.view.state is RunState.PAUSED)
        self.control.until_blocked()

    async def quit(self, pilot: Pilot[object]) -> None:
        await pilot.press("q")


class LocalSession:
    """The engine in the test's process, as a monitor's session: requests go straight to its
    Control."""

    owner = True
    read_only = False
    remote = False
    watching = 1

    def __init__(self, run: Run, sink: Sink) -> None:
        self.engine = run
        self.sink = sink
        self.run_dir = run.run_dir
        self.run_id = run.run_dir.name

    def run(self) -> RunState:
        return self.engine.run(linger=True)

    def send(self, request: Request) -> None:
        try:
            self.engine.control.submit(request)
        except ValueError as err:  # ConfigError too: the dialogs check first, the run again
            field = getattr(err, "field", None)
            self.sink(Refused(f"{field} {err}" if field else str(err)))

    def request_test_images(self) -> None:
        pass  # RunStarted carried them

    def pace(self, stretch: float) -> None:
        pass  # in-process events: nothing travels

    def leave(self) -> None:
        self.engine.control.stop()  # an engine in this process cannot outlive it
