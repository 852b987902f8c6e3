"""The Textual message that carries a run's updates from the worker thread to the app.

The worker posts one message per update (``post_message`` is thread-safe and does not block
the trainer). Events that accumulate (a loss point, a log line) must all arrive, so they are
never coalesced; pictures that only matter in their latest form (sample predictions, probes,
the processes' samples) coalesce with an identical kind queued right behind them, as
Textual's ``can_replace`` allows.
"""

from __future__ import annotations

from textual.message import Message

from cnn_tui.engine.events import ProbeTaken, SamplesPredicted, SystemSampled
from cnn_tui.runview import Update


class RunUpdate(Message):
    """One update (an engine event, or news of the connection), in the order it came."""

    def __init__(self, update: Update, generation: int = 0) -> None:
        super().__init__()
        self.update = update
        self.generation = generation  # the session it came from (a fork starts the next)

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, RunUpdate):
            return False
        mine, theirs = self.update, message.update
        if isinstance(mine, SamplesPredicted):
            return isinstance(theirs, SamplesPredicted)
        if isinstance(mine, SystemSampled):
            return isinstance(theirs, SystemSampled)
        if isinstance(mine, ProbeTaken):
            return isinstance(theirs, ProbeTaken) and theirs.source == mine.source
        return False
