"""Textual messages that carry engine events from the worker thread to the app.

The worker posts one message per event (``post_message`` is thread-safe and does not block
the trainer). Events that accumulate (a loss point, a log line) must all arrive, so they are
never coalesced; pictures that only matter in their latest form (sample predictions, probes)
coalesce with an identical kind queued right behind them, as Textual's ``can_replace``
allows.
"""

from __future__ import annotations

from textual.message import Message

from cnn_tui.engine.events import Event, ProbeTaken, SamplesPredicted


class EngineEvent(Message):
    """One engine event, in the order the engine emitted it."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, EngineEvent):
            return False
        mine, theirs = self.event, message.event
        if isinstance(mine, SamplesPredicted):
            return isinstance(theirs, SamplesPredicted)
        if isinstance(mine, ProbeTaken):
            return isinstance(theirs, ProbeTaken) and theirs.source == mine.source
        return False
