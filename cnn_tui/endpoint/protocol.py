"""The run endpoint's messages: one JSON object per line, in both directions.

Server to viewer, in this order on a new connection::

    {"type": "hello", "protocol": 2, "run_id": ..., "pid": ..., "state": ..., ...}
    {"type": "view", "fields": {...}}       # the run as a viewer draws it, in a few parts
    {"type": "ready"}                       # the catch-up is complete
    {"type": "event", "name": "BatchLogged", "data": {...}}      # then live, as it happens
    {"type": "reply", "id": 3, "ok": false, "error": "lr must be at most 10 (got 50)"}
    {"type": "blob", "id": 4, "what": "test_images", "part": 0, "parts": 16, "data": {...}}
    {"type": "watching", "viewers": 3}      # how many are attached, whenever that changes
    {"type": "bye", "reason": "..."}        # the server is closing this connection

Viewer to server: first ``{"type": "hello", "protocol": 2, "role": "viewer"}`` (or
``"owner"``: the monitor that started the run; ``"read_only": true`` for a view that may
not steer), then any of::

    {"type": "command", "id": 3, "name": "SetHParams", "args": {"changes": {"lr": 0.05}}}
    {"type": "fetch", "id": 4, "what": "test_images"}
    {"type": "pace", "stretch": 3.0}        # it redraws 3x less often: send it less too
    {"type": "bye", "reason": "detach"}

A command's name is one of :data:`cnn_tui.engine.control.REQUESTS` and its args are that
dataclass, decoded and checked by :mod:`cnn_tui.wire`; an event is one of the engine's
events. Nothing is ever pickled.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from cnn_tui.engine.control import REQUESTS, Request
from cnn_tui.engine.events import Event, ProbeTaken, RunStarted, SamplesPredicted, SystemSampled
from cnn_tui.wire.codec import WireError, decode, encode
from cnn_tui.wire.lines import write_line

PROTOCOL_VERSION = 2
ROLES = ("viewer", "owner")
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(Event)}
MOST_PACE = 10.0  # the most a viewer may stretch the run's pace for itself
# dropped first for a viewer that falls behind
PICTURES = (SamplesPredicted, ProbeTaken, SystemSampled)


class ProtocolError(ValueError):
    """A message that breaks the protocol; ``str(err)`` is the reply the sender gets."""


# -- server side ----------------------------------------------------------------------------
def event_message(event: Event) -> dict[str, Any]:
    """An event as a message, whole (:func:`parse_event` reads it back)."""
    return {"type": "event", "name": type(event).__name__, "data": encode(event, type(event))}


def event_line(event: Event) -> bytes:
    """An event as the wire carries it (the test digits travel separately, see ``blob``)."""
    if isinstance(event, RunStarted) and event.test_images is not None:
        event = dataclasses.replace(event, test_images=None)
    return write_line(event_message(event))


def parse_request(message: dict[str, Any], viewer: int) -> Request:
    """A viewer's command message as a request; probes are marked as that viewer's own."""
    name = message.get("name")
    cls = REQUESTS.get(name) if isinstance(name, str) else None
    if cls is None or not isinstance(name, str):
        raise ProtocolError(f"unknown command {name!r}: one of {', '.join(REQUESTS)}")
    try:
        request = decode(message.get("args", {}), cls, name)
    except WireError as err:
        raise ProtocolError(str(err)) from None
    if "viewer" in {f.name for f in dataclasses.fields(cls)}:
        request = dataclasses.replace(request, viewer=viewer)
    return typing.cast(Request, request)


def parse_pace(message: dict[str, Any]) -> float:
    """How many times less often than the run's own pace a viewer wants its pictures and
    metric bursts (it stretches its redraws to share the box: tui/pacing.py)."""
    stretch = message.get("stretch")
    if isinstance(stretch, bool) or not isinstance(stretch, int | float):
        raise ProtocolError("pace needs a number: stretch")
    if not 1 <= stretch <= MOST_PACE:
        raise ProtocolError(f"stretch must be from 1 to {MOST_PACE:g} (got {stretch!r})")
    return float(stretch)


def request_id(message: dict[str, Any]) -> int | None:
    value = message.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- viewer side ----------------------------------------------------------------------------
def command_line(request: Request, request_id: int) -> bytes:
    name = type(request).__name__
    if name not in REQUESTS:
        raise ValueError(f"{name} is not something a viewer may ask")
    args = encode(request, type(request))
    args.pop("viewer", None)  # the server says who asked, not the viewer
    return write_line({"type": "command", "id": request_id, "name": name, "args": args})


def parse_event(message: dict[str, Any]) -> Event:
    name = message.get("name")
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None or not isinstance(name, str):
        raise ProtocolError(f"unknown event {name!r}")
    try:
        return typing.cast(Event, decode(message.get("data"), cls, name))
    except WireError as err:
        raise ProtocolError(str(err)) from None


def check_hello(message: dict[str, Any], *, server: bool) -> None:
    """A hello of the right protocol version (and, from a viewer, a known role)."""
    if message.get("type") != "hello":
        raise ProtocolError("the first message must be a hello")
    version = message.get("protocol")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol {version!r} is not {PROTOCOL_VERSION}: use the same cnn-tui version "
            "for the run and the viewer"
        )
    if not server and message.get("role", "viewer") not in ROLES:
        raise ProtocolError(f"role must be one of {', '.join(ROLES)}")


__all__ = [
    "EVENT_TYPES",
    "PICTURES",
    "PROTOCOL_VERSION",
    "ProtocolError",
    "check_hello",
    "command_line",
    "event_line",
    "parse_event",
    "parse_pace",
    "parse_request",
    "request_id",
]
