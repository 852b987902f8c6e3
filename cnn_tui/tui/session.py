"""What the monitor drives: a run it watches and steers, wherever the run is.

One contract, two kinds: :class:`~cnn_tui.endpoint.remote.RemoteSession` watches a run in
another process over its endpoint (the monitor in production, every attached viewer, every
browser tab), and :class:`LocalSession` runs the engine in this process (tests, and replays
of recorded runs). Either way the app gets the same updates and makes the same requests
(``engine.control.Request``): there is one way to draw a run and one way to steer it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cnn_tui.engine.control import Request
from cnn_tui.engine.events import RunState
from cnn_tui.runview import Refused, Update

if TYPE_CHECKING:  # the engine's session imports torchvision: seconds a viewer need not wait
    from cnn_tui.engine.session import Run

Sink = Callable[[Update], None]


class Session(Protocol):
    run_dir: Path
    run_id: str
    owner: bool  # this monitor started the run: q stops it (else q only detaches)
    read_only: bool  # it may watch but not steer
    remote: bool  # the run is in another process, and outlives this monitor

    def run(self) -> RunState:
        """Deliver updates to the app's sink until the run or the connection ends."""
        ...

    def send(self, request: Request) -> None:
        """Ask the run for something; what it did comes back as events (thread-safe)."""
        ...

    def request_test_images(self) -> None:
        """Ask for the test digits if the view does not have them yet."""
        ...

    def leave(self) -> None:
        """This monitor goes; the run goes on where it can (an attached one)."""
        ...


OpenSession = Callable[[Sink], Session]


class LocalSession:
    """The engine in this process: requests go straight to its Control."""

    owner = True
    read_only = False
    remote = False

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

    def leave(self) -> None:
        self.engine.control.stop()  # an engine in this process cannot outlive it
