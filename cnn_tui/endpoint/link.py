"""One viewer's connection, server side: a bounded outbox, line framing, a command budget.

A viewer that reads slowly must never slow training, and must never make the engine
process hold an unbounded backlog for it. Its outbox drops pictures first (a newer one is
coming anyway) once it holds more than :data:`PICTURE_BACKLOG` bytes; metrics are never
dropped, and a viewer whose backlog still passes :data:`MAX_BACKLOG` is told so and
disconnected. Incoming lines are framed here too: an over-long line is reported once and
skipped to its end, never buffered whole.

Pictures are paced as well: the engine makes them every so many batches, which on a fast
box is several a second, while a monitor shows at most one every second or two. A viewer
gets at most one picture of a kind (:class:`Pace`) per :data:`PICTURE_EVERY` seconds, the
newest; one of a new subject (another digit) goes at once, and the older one held back is
never sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from typing import NamedTuple

from cnn_tui.wire.lines import MAX_LINE, write_line

PICTURE_BACKLOG = 2 << 20  # bytes queued before pictures are dropped
MAX_BACKLOG = 64 << 20  # bytes queued before the viewer is cut off (the test digits: 10 MB)
COMMANDS_PER_SECOND = 50.0
COMMAND_BURST = 100.0
MAX_ERRORS = 10  # bad messages in a row before the viewer is disconnected
CLOSE_TIMEOUT_S = 10.0  # for a closing viewer to take its last lines
READ_CHUNK = 1 << 16
PICTURE_EVERY = 1.0  # seconds between two pictures of one kind to one viewer


class Pace(NamedTuple):
    """What a picture is of, for pacing: its kind, and within it its subject."""

    kind: str
    subject: Hashable = None


class TooLong:
    """Stands for a line over the limit, which was skipped."""


TOO_LONG = TooLong()


@dataclass
class ViewerLink:
    id: int
    writer: asyncio.StreamWriter
    role: str = "viewer"
    read_only: bool = False
    chosen_digit: int | None = None  # the test digit this viewer probes, if it chose one
    said_bye: str | None = None
    errors: int = 0
    dropped: int = 0
    _outbox: deque[tuple[bool, bytes]] = field(default_factory=deque)  # (is_picture, line)
    _queued: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _closing: str | None = None
    _tokens: float = COMMAND_BURST
    _refilled: float = field(default_factory=time.monotonic)
    picture_every: float = PICTURE_EVERY
    clock: Callable[[], float] = time.monotonic
    _last_paced: dict[str, tuple[float, Hashable]] = field(default_factory=dict)
    _held: dict[str, bytes] = field(default_factory=dict)  # by kind: the newest, waiting

    # -- out ------------------------------------------------------------------------------
    def send(self, line: bytes, *, picture: bool = False, pace: Pace | None = None) -> None:
        """Queue ``line``; when the backlog grows, drop pictures, then give up on the viewer.

        A picture with a ``pace`` goes now, or is held back (replacing any held before it)
        until ``picture_every`` seconds have passed since the last of its kind."""
        if self._closing is not None:
            return
        if pace is not None and self._hold(line, pace):
            return
        self._outbox.append((picture, line))
        self._queued += len(line)
        if self._queued > PICTURE_BACKLOG:
            self._drop_pictures()
        if self._queued > MAX_BACKLOG:
            self._outbox.clear()  # it cannot catch up: what it missed is in events.jsonl
            self._queued = 0
            self.close_with(
                "this viewer fell too far behind the run and was disconnected: attach again"
            )
        self._wake.set()

    def _hold(self, line: bytes, pace: Pace) -> bool:
        """Whether ``line`` waits: a picture of the same subject went out too recently."""
        now = self.clock()
        last = self._last_paced.get(pace.kind)
        if last is not None and last[1] == pace.subject and now < last[0] + self.picture_every:
            if pace.kind not in self._held:
                delay = last[0] + self.picture_every - now
                asyncio.get_running_loop().call_later(delay, self._release, pace)
            self._held[pace.kind] = line
            return True
        self._held.pop(pace.kind, None)  # a new subject: what was held is out of date
        self._last_paced[pace.kind] = (now, pace.subject)
        return False

    def _release(self, pace: Pace) -> None:
        line = self._held.pop(pace.kind, None)
        if line is not None:
            self.send(line, picture=True, pace=pace)

    def close_with(self, reason: str) -> None:
        """Send ``bye`` with ``reason`` after what is queued, then close."""
        if self._closing is None:
            self._closing = reason
            self._wake.set()

    @property
    def closing(self) -> bool:
        return self._closing is not None

    async def pump(self) -> None:
        """Write the outbox to the socket until the link closes."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._outbox:
                    _, line = self._outbox.popleft()
                    self._queued -= len(line)
                    self.writer.write(line)
                    await self._drain()
                if self._closing is not None:
                    self.writer.write(write_line({"type": "bye", "reason": self._closing}))
                    await self._drain()
                    break
        except (ConnectionError, OSError, TimeoutError):
            self.writer.transport.abort()  # a viewer that will not read gets no more time
        finally:
            self.writer.close()

    async def _drain(self) -> None:
        if self._closing is None:
            await self.writer.drain()
        else:
            await asyncio.wait_for(self.writer.drain(), CLOSE_TIMEOUT_S)

    def _drop_pictures(self) -> None:
        kept = deque(item for item in self._outbox if not item[0])
        self.dropped += len(self._outbox) - len(kept)
        self._outbox = kept
        self._queued = sum(len(line) for _, line in kept)

    @property
    def queued_bytes(self) -> int:
        return self._queued

    # -- in -------------------------------------------------------------------------------
    def spend_command(self) -> bool:
        """Take one command from the viewer's budget (a burst, then a steady rate)."""
        now = time.monotonic()
        self._tokens = min(
            COMMAND_BURST, self._tokens + (now - self._refilled) * COMMANDS_PER_SECOND
        )
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


async def read_lines(reader: asyncio.StreamReader) -> AsyncIterator[bytes | TooLong]:
    """Lines from ``reader`` without their newline; an over-long one becomes TOO_LONG."""
    buffer = bytearray()
    skipping = False
    while True:
        chunk = await reader.read(READ_CHUNK)
        if not chunk:
            return
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                if len(buffer) > MAX_LINE:
                    if not skipping:
                        yield TOO_LONG
                    skipping = True
                    buffer.clear()
                break
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if skipping:
                skipping = False
                continue
            if len(line) > MAX_LINE:
                yield TOO_LONG
                continue
            yield line
