"""How a run's updates travel from the session's thread to the app: an inbox and a message.

A session's thread (the reader of a run's endpoint, a replay) puts each update in its
:class:`Inbox`; the app is told with one :class:`RunUpdates` message when the inbox was
empty, and takes everything that waits when it handles it. A run's endpoint sends its metrics
in bursts (endpoint/link.py), so a burst costs the app one message, not one per line: each
message is a wake-up of the app's loop and a trip through Textual's dispatch, which cost a
watching monitor more than the updates themselves. Every update arrives, in order.
"""

from __future__ import annotations

import threading

from textual.message import Message

from cnn_tui.runview import Update


class Inbox:
    """One session's updates, waiting for the app (``put`` from any thread)."""

    def __init__(self, generation: int) -> None:
        self.generation = generation  # the session it came from (a fork starts the next)
        self._updates: list[Update] = []
        self._lock = threading.Lock()

    def put(self, update: Update) -> bool:
        """Add ``update``; True when the inbox was empty, so the app must be told."""
        with self._lock:
            self._updates.append(update)
            return len(self._updates) == 1

    def take(self) -> list[Update]:
        """Everything waiting, oldest first; the inbox is empty after."""
        with self._lock:
            updates, self._updates = self._updates, []
        return updates


class RunUpdates(Message):
    """Updates wait in ``inbox`` (it may be empty by now: an earlier message took them)."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox
