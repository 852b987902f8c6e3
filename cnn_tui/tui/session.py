"""What the monitor drives: a run it watches and steers, wherever the run is.

One contract: :class:`~cnn_tui.endpoint.remote.RemoteSession` watches a run in another
process over its endpoint (the monitor, every attached viewer, every browser tab);
:class:`~cnn_tui.tui.replay.ReplaySession` replays a recorded run (snapshots, screenshots),
and the tests drive an engine in their own process through the same contract. Either way
the app gets the same updates and makes the same requests (``engine.control.Request``):
there is one way to draw a run and one way to steer it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cnn_tui.engine.control import Request
from cnn_tui.engine.events import RunState
from cnn_tui.runview import Update

Sink = Callable[[Update], None]


class Session(Protocol):
    run_dir: Path
    run_id: str
    owner: bool  # this monitor started the run: q stops it (else q only detaches)
    read_only: bool  # it may watch but not steer
    remote: bool  # the run is in another process, and outlives this monitor
    watching: int  # the monitors attached to the run, this one included

    def run(self) -> RunState:
        """Deliver updates to the app's sink until the run or the connection ends."""
        ...

    def send(self, request: Request) -> None:
        """Ask the run for something; what it did comes back as events (thread-safe)."""
        ...

    def request_test_images(self) -> None:
        """Ask for the test digits if the view does not have them yet."""
        ...

    def pace(self, stretch: float) -> None:
        """This monitor redraws ``stretch`` times less often (tui/pacing.py): the run may
        send it pictures and metric bursts as much less often."""
        ...

    def leave(self) -> None:
        """This monitor goes; the run goes on where it can (an attached one)."""
        ...


OpenSession = Callable[[Sink], Session]
