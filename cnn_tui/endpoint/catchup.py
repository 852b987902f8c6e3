"""A new viewer's first screen: the run's view, sent in parts, then rebuilt on the other end.

The server folds every event into a :class:`RunView`, exactly as a monitor does, so what a
viewer needs to draw the whole screen — the (downsampled) history, the latest pictures, the
event log, the state — is that view. It travels as a few ``view`` messages (each picture in
one of its own, so no line nears the size limit) and a ``ready``; the viewer rebuilds the
same view and goes on folding live events into it. The test digits are not in it: they are
fetched once, when a viewer needs them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cnn_tui.runview import MONITORS_OWN, RunView
from cnn_tui.wire.codec import decode, encode, fields_of
from cnn_tui.wire.lines import write_line

PICTURES = ("last_test", "samples", "probe")  # one message each
PER_VIEWER = MONITORS_OWN  # a viewer's own drawing and comparisons, never shared


def view_lines(view: RunView) -> list[bytes]:
    """The messages that give a viewer ``view``, ``ready`` last."""
    shared = dataclasses.replace(
        view,
        started=(
            dataclasses.replace(view.started, test_images=None)
            if view.started is not None
            else None
        ),
    )
    fields = fields_of(RunView)
    core = {
        name: encode(getattr(shared, name), tp)
        for name, tp in fields.items()
        if name not in PICTURES and name not in PER_VIEWER
    }
    lines = [write_line({"type": "view", "fields": core})]
    for name in PICTURES:
        value = encode(getattr(shared, name), fields[name])
        lines.append(write_line({"type": "view", "fields": {name: value}}))
    lines.append(write_line({"type": "ready"}))
    return lines


class ViewAssembler:
    """Collects ``view`` messages; :meth:`build` returns the view they describe."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}

    def add(self, message: dict[str, Any]) -> None:
        fields = message.get("fields")
        if isinstance(fields, dict):
            self.fields.update(fields)

    def build(self) -> RunView:
        view: RunView = decode(self.fields, RunView, "view")
        return view
