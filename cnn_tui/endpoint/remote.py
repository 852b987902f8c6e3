"""A run watched over its endpoint: the monitor's session when the run is elsewhere.

:class:`RemoteSession` turns the endpoint's messages back into what an in-process run
gives a monitor — the view to start from (:class:`ViewRestored`), then the engine's own
events — and sends the monitor's requests as commands. Its ``run()`` blocks (the app calls
it from a worker thread) until the connection ends, and returns the run's last state.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from cnn_tui.endpoint.catchup import ViewAssembler
from cnn_tui.endpoint.client import RunClient
from cnn_tui.endpoint.protocol import ProtocolError, parse_event
from cnn_tui.engine.control import Request
from cnn_tui.engine.events import Event, RunState, StateChanged
from cnn_tui.runview import Disconnected, Refused, TestImagesArrived, Update, ViewRestored
from cnn_tui.wire.codec import WireError, decode_tensor


class RemoteSession:
    """A connection to a run's endpoint, as the monitor's session."""

    remote = True

    def __init__(self, run_dir: Path, *, owner: bool = False, read_only: bool = False) -> None:
        """Connect now (so a run that is gone is one line, before any screen opens)."""
        self.client = RunClient(run_dir, role="owner" if owner else "viewer", read_only=read_only)
        self.run_dir = Path(str(self.client.hello.get("run_dir", run_dir)))
        self.run_id = str(self.client.hello.get("run_id", ""))
        self.owner = owner
        self.read_only = read_only
        self.sink: Callable[[Update], None] = lambda update: None
        self.state = RunState.STARTING
        self.closing_reason: str | None = None
        self._asked_images = threading.Event()
        self._blob: list[torch.Tensor] = []
        self._left = False
        self.watching = _count(self.client.hello.get("viewers")) + 1  # with this one

    def bind(self, sink: Callable[[Update], None]) -> RemoteSession:
        """Deliver updates to ``sink`` (the app's): the session factory the app calls."""
        self.sink = sink
        return self

    # -- requests -------------------------------------------------------------------------
    def send(self, request: Request) -> None:
        try:
            self.client.send(request)
        except OSError:
            self.sink(Refused("the run is no longer answering"))

    def request_test_images(self) -> None:
        """Ask once for the test digits (the gallery draws them)."""
        if not self._asked_images.is_set():
            self._asked_images.set()
            with contextlib.suppress(OSError):
                self.client.fetch("test_images")

    def pace(self, stretch: float) -> None:
        """Ask the run to send pictures and metric bursts ``stretch`` times less often."""
        with contextlib.suppress(OSError):  # a run gone is told by the reader
            self.client.pace(stretch)

    def leave(self) -> None:
        """Detach on purpose: the run goes on (a connection that just drops is a hang-up)."""
        if not self._left:
            self._left = True
            self.client.bye("detach")
            self.client.close()

    # -- the stream -----------------------------------------------------------------------
    def run(self) -> RunState:
        """Deliver updates to the sink until the connection ends; the run's last state."""
        assembler: ViewAssembler | None = ViewAssembler()
        reason = "the run closed the connection"
        try:
            for message in self.client.messages():
                kind = message.get("type")
                if kind == "view" and assembler is not None:
                    assembler.add(message)
                elif kind == "ready" and assembler is not None:
                    view = assembler.build()
                    self.state, assembler = view.state, None
                    self.sink(ViewRestored(view))
                elif kind == "event":
                    self._event(parse_event(message))
                elif kind == "reply" and message.get("ok") is False:
                    self.sink(Refused(str(message.get("error", "refused"))))
                elif kind == "blob":
                    self._blob_part(message)
                elif kind == "watching":
                    self.watching = max(1, _count(message.get("viewers")))
                elif kind == "bye":
                    reason = str(message.get("reason", reason))
        except (OSError, ProtocolError, WireError, ValueError) as err:
            reason = f"the connection failed: {err}"
        finally:
            self.client.close()
        self.closing_reason = reason
        self.sink(Disconnected(reason))
        return self.state

    def _event(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self.state = event.state
        self.sink(event)

    def _blob_part(self, message: dict[str, Any]) -> None:
        part, parts = message.get("part"), message.get("parts")
        if message.get("what") != "test_images" or part != len(self._blob):
            return
        self._blob.append(decode_tensor(message.get("data"), "blob"))
        if isinstance(parts, int) and part == parts - 1:
            images, self._blob = torch.cat(self._blob), []
            self.sink(TestImagesArrived(images))


def _count(value: object) -> int:
    """A count the run sent, or 0 where it is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
