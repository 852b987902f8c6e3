"""The monitor's process keeps its settled heap out of the collector's sweeps; a test's doesn't."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cnn_tui.engine.control import Request
from cnn_tui.engine.events import RunState
from cnn_tui.runview import RunView, ViewRestored
from cnn_tui.tui import app as app_module
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.session import Sink
from tests.helpers import drive, wait_until


class RestoredOnly:
    """A session that restores an empty view, then waits to be left."""

    run_dir = Path(".")
    run_id = "fake"
    owner = False
    read_only = True
    remote = True
    watching = 1

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.left = threading.Event()

    def run(self) -> RunState:
        self.sink(ViewRestored(RunView()))
        self.left.wait()
        return RunState.RUNNING

    def send(self, request: Request) -> None:
        pass

    def request_test_images(self) -> None:
        pass

    def pace(self, stretch: float) -> None:
        pass

    def leave(self) -> None:
        self.left.set()


@pytest.mark.parametrize("freeze_heap", [True, False])
def test_the_heap_is_frozen_once_the_run_is_on_screen_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, freeze_heap: bool
) -> None:
    frozen: list[bool] = []
    monkeypatch.setattr(app_module.gc, "freeze", lambda: frozen.append(True))
    app = CnnTuiApp(RestoredOnly, freeze_heap=freeze_heap)

    async def body(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: app.view.connected)
        await pilot.pause()  # the frame after the restore, when the freeze is due
        await pilot.pause()
        assert frozen == ([True] if freeze_heap else [])
        await pilot.press("q")

    drive(app, body)
