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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cnn_tui.endpoint.catchup import ViewAssembler
from cnn_tui.endpoint.client import RunClient
from cnn_tui.endpoint.protocol import ProtocolError, parse_event
from cnn_tui.engine.control import Request
from cnn_tui.engine.events import Event, RunState, StateChanged
from cnn_tui.tui.view import RunView
from cnn_tui.wire import WireError, decode_tensor


@dataclass(frozen=True)
class ViewRestored:
    """The run as it stood when this viewer attached."""

    view: RunView


@dataclass(frozen=True)
class TestImagesArrived:
    images: torch.Tensor  # (N, 28, 28) uint8


@dataclass(frozen=True)
class Refused:
    """The run refused a request of this viewer's."""

    reason: str


@dataclass(frozen=True)
class Disconnected:
    """The connection ended; ``reason`` is the run's last word, if it said one."""

    reason: str


Update = Event | ViewRestored | TestImagesArrived | Refused | Disconnected


class RemoteSession:
    def __init__(
        self,
        run_dir: Path,
        sink: Callable[[Any], None],
        *,
        owner: bool = False,
        read_only: bool = False,
    ) -> None:
        self.client = RunClient(run_dir, role="owner" if owner else "viewer", read_only=read_only)
        self.run_dir = Path(str(self.client.hello.get("run_dir", run_dir)))
        self.run_id = str(self.client.hello.get("run_id", ""))
        self.read_only = read_only
        self.sink = sink
        self.state = RunState.STARTING
        self._asked_images = threading.Event()
        self._blob: list[torch.Tensor] = []

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

    def leave(self) -> None:
        """Detach on purpose: the run goes on."""
        self.client.bye("detach")
        self.client.close()

    def close(self) -> None:
        self.client.close()

    # -- the stream -----------------------------------------------------------------------
    def run(self, *, linger: bool = True) -> RunState:
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
                elif kind == "bye":
                    reason = str(message.get("reason", reason))
        except (OSError, ProtocolError, WireError, ValueError) as err:
            reason = f"the connection failed: {err}"
        finally:
            self.client.close()
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
        if part == parts - 1 if isinstance(parts, int) else False:
            images, self._blob = torch.cat(self._blob), []
            self.sink(TestImagesArrived(images))
