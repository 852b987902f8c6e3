"""One viewer's connection, server side: a bounded outbox, line framing, a command budget.

A viewer that reads slowly must never slow training, and must never make the engine
process hold an unbounded backlog for it. Its outbox drops pictures first (a newer one is
coming anyway) once it holds more than :data:`PICTURE_BACKLOG` bytes; metrics are never
dropped, and a viewer whose backlog still passes :data:`MAX_BACKLOG` is told so and
disconnected. Incoming lines are framed here too: an over-long line is reported once and
skipped to its end, never buffered whole.

Routine lines — metrics, paced pictures — wait up to :data:`FLUSH_EVERY` for company and go
out together, in writes of up to :data:`WRITE_CHUNK` bytes: a run logs ~20 batches and ~20
health samples a second, and a viewer woken for each line spent more on waking (its reader,
then its screen's message queue) than on the lines. Anything else — a state change, a reply,
a drawn digit's answer — goes at once, and takes what waits with it, in order.

Pictures are paced as well: the engine makes them every so many batches, which on a fast
box is several a second, while a monitor shows at most one every second or two. A viewer
gets at most one picture of a kind (:class:`Pace`) per :data:`PICTURE_EVERY` seconds, the
newest; one of a new subject (another digit) goes at once, and the older one held back is
never sent. A viewer that redraws less often (it says so with ``pace``) gets both
intervals stretched as much.
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
FLUSH_EVERY = 0.25  # seconds a routine line may wait for others (the status line redraws at 2 Hz)
WRITE_CHUNK = 128 << 10  # bytes joined into one write; the rest waits in the outbox


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
    # by kind: the newest picture waiting, and whether it is routine (a viewer's chosen digit
    # is not)
    _held: dict[str, tuple[bytes, bool]] = field(default_factory=dict)
    flush_every: float = FLUSH_EVERY
    _flush: asyncio.TimerHandle | None = None  # when routine lines waiting go out

    # -- out ------------------------------------------------------------------------------
    def send(
        self, line: bytes, *, picture: bool = False, pace: Pace | None = None, routine: bool = False
    ) -> None:
        """Queue ``line``; when the backlog grows, drop pictures, then give up on the viewer.

        A picture with a ``pace`` goes now, or is held back (replacing any held before it)
        until ``picture_every`` seconds have passed since the last of its kind. A ``routine``
        line goes within ``flush_every`` seconds; any other, at once."""
        if self._closing is not None:
            return
        if pace is not None and self._hold(line, pace, routine):
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
        if not routine:
            self._wake.set()
        elif self._flush is None and not self._wake.is_set():
            self._flush = asyncio.get_running_loop().call_later(self.flush_every, self._wake.set)

    def slow_down(self, stretch: float) -> None:
        """The viewer redraws ``stretch`` times less often than it could (it shares a busy
        box: tui/pacing.py), so its pictures and routine lines may wait that much longer:
        what it takes in costs it CPU too, and an SSH link bandwidth."""
        self.picture_every = PICTURE_EVERY * stretch
        self.flush_every = FLUSH_EVERY * stretch

    def _hold(self, line: bytes, pace: Pace, routine: bool) -> bool:
        """Whether ``line`` waits: a picture of the same subject went out too recently."""
        now = self.clock()
        last = self._last_paced.get(pace.kind)
        if last is not None and last[1] == pace.subject and now < last[0] + self.picture_every:
            if pace.kind not in self._held:
                delay = last[0] + self.picture_every - now
                asyncio.get_running_loop().call_later(delay, self._release, pace)
            self._held[pace.kind] = (line, routine)
            return True
        self._held.pop(pace.kind, None)  # a new subject: what was held is out of date
        self._last_paced[pace.kind] = (now, pace.subject)
        return False

    def _release(self, pace: Pace) -> None:
        held = self._held.pop(pace.kind, None)
        if held is not None:
            line, routine = held
            self.send(line, picture=True, pace=pace, routine=routine)

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
                if self._flush is not None:
                    self._flush.cancel()
                    self._flush = None
                while self._outbox:
                    self.writer.write(self._take_chunk())
                    await self._drain()
                if self._closing is not None:
                    self.writer.write(write_line({"type": "bye", "reason": self._closing}))
                    await self._drain()
                    break
        except (ConnectionError, OSError, TimeoutError):
            self.writer.transport.abort()  # a viewer that will not read gets no more time
        finally:
            self.writer.close()

    def _take_chunk(self) -> bytes:
        """The outbox's first lines, up to WRITE_CHUNK bytes (at least one line), joined.
        The rest stays queued, where pictures can still be dropped for a slow viewer."""
        lines: list[bytes] = []
        size = 0
        while self._outbox and (not lines or size + len(self._outbox[0][1]) <= WRITE_CHUNK):
            _, line = self._outbox.popleft()
            lines.append(line)
            size += len(line)
        self._queued -= size
        return b"".join(lines)

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
