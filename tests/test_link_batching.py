"""Routine lines wait a moment and go out together; anything else goes at once and takes
them along; the app takes a burst of updates as one message. (See endpoint/link.py and
tui/messages.py: a watching monitor was woken once per line.)"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from textual.pilot import Pilot

from cnn_tui.endpoint.link import WRITE_CHUNK, Pace, ViewerLink
from cnn_tui.endpoint.server import is_routine
from cnn_tui.engine.events import (
    BatchLogged,
    ProbeTaken,
    RunState,
    SamplesPredicted,
    StateChanged,
)
from cnn_tui.tui import app as app_module
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.messages import Inbox, RunUpdates
from cnn_tui.tui.replay import replay
from tests.helpers import drive, wait_until


class RecordingWriter:
    """Stands for a viewer's stream: keeps each write whole, so writes can be counted."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.wrote = asyncio.Event()
        self.transport = SimpleNamespace(abort=lambda: None)

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.wrote.set()

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        pass


def link_to(writer: RecordingWriter, flush_every: float) -> ViewerLink:
    return ViewerLink(1, writer, flush_every=flush_every)  # type: ignore[arg-type]


async def idle_steps(steps: int = 20) -> None:
    """Let the loop run whatever is ready (no time passes: nothing is timed here)."""
    for _ in range(steps):
        await asyncio.sleep(0)


def test_routine_lines_wait_and_go_out_with_the_next_urgent_one_in_one_write() -> None:
    async def scene() -> list[bytes]:
        writer = RecordingWriter()
        link = link_to(writer, flush_every=3600.0)  # only an urgent line can send them
        pump = asyncio.create_task(link.pump())
        link.send(b"loss 1\n", routine=True)
        link.send(b"health 1\n", routine=True)
        await idle_steps()
        assert writer.writes == []  # held: nothing asked for them yet
        link.send(b"state PAUSED\n")
        await writer.wrote.wait()
        link.close_with("done")
        await pump
        return writer.writes

    writes = asyncio.run(scene())
    assert writes[0] == b"loss 1\nhealth 1\nstate PAUSED\n"  # in order, in one write
    assert writes[1].startswith(b'{"type":"bye"')


def test_routine_lines_go_out_by_themselves_within_the_flush_interval() -> None:
    async def scene() -> list[bytes]:
        writer = RecordingWriter()
        link = link_to(writer, flush_every=0.01)
        pump = asyncio.create_task(link.pump())
        link.send(b"loss 1\n", routine=True)
        link.send(b"loss 2\n", routine=True)
        await asyncio.wait_for(writer.wrote.wait(), timeout=30)
        link.close_with("done")
        await pump
        return writer.writes

    assert asyncio.run(scene())[0] == b"loss 1\nloss 2\n"


def test_writes_are_cut_at_the_chunk_size_and_a_longer_line_goes_alone() -> None:
    third = b"p" * (WRITE_CHUNK // 3 - 1) + b"\n"
    huge = b"h" * (WRITE_CHUNK + 10) + b"\n"
    lines = [third, third, third, third, huge, third]

    async def scene() -> list[bytes]:
        writer = RecordingWriter()
        link = link_to(writer, flush_every=3600.0)
        for line in lines:
            link.send(line)  # all queued before the pump starts: it must cut them
        pump = asyncio.create_task(link.pump())
        link.close_with("done")
        await pump
        return writer.writes[:-1]  # the bye left out

    writes = asyncio.run(scene())
    assert b"".join(writes) == b"".join(lines)
    assert writes == [third * 3, third, huge, third]


def test_metrics_and_the_runs_own_pictures_are_routine_and_answers_are_not() -> None:
    image = torch.zeros(1, 28, 28)
    batch = BatchLogged(1, 10, 938, 640, 60000, 640, 2.3, 7, 64, 1.5)
    samples = SamplesPredicted(640, (0,), image, (7,), (7,), (0.9,))

    def probe(source: str, viewers: tuple[int, ...] | None) -> ProbeTaken:
        stages = {"input": image}
        weights = torch.zeros(10, 1, 5, 5), torch.zeros(20, 10, 5, 5)
        return ProbeTaken(640, source, 0, 7, stages, *weights, 7, 0.9, viewers=viewers)

    assert is_routine(batch) and is_routine(samples)
    assert not is_routine(dataclasses.replace(batch, stepped=True))  # a step a viewer took
    assert is_routine(probe("test", None))
    assert not is_routine(probe("test", (3,)))  # the digit a viewer chose: its answer
    assert not is_routine(probe("drawn", (3,)))
    assert not is_routine(StateChanged(RunState.PAUSED, "key", 1, 640))


def test_the_inbox_tells_the_app_once_per_burst_and_loses_nothing_across_threads() -> None:
    inbox = Inbox(generation=0)
    told = 0
    taken: list[Any] = []
    done = threading.Event()

    def producer() -> None:
        nonlocal told
        for n in range(20_000):
            told += inbox.put(n)
        done.set()

    thread = threading.Thread(target=producer)
    thread.start()
    while not done.is_set():
        taken += inbox.take()
    thread.join()
    taken += inbox.take()
    assert taken == list(range(20_000))  # every update, in order
    assert 1 <= told <= 20_000


class CountingApp(CnnTuiApp):
    """The monitor, counting the update messages it handles."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))  # beside the app, not here
    handled = 0

    def on_run_updates(self, message: RunUpdates) -> None:
        self.handled += 1
        super().on_run_updates(message)


def test_a_burst_of_updates_reaches_the_app_as_one_message() -> None:
    app = CountingApp(replay([]))

    async def body(pilot: Pilot[object]) -> None:
        sink = app.sink_for(app.generation)
        before = app.handled
        for n in range(300):  # all put before the app's loop runs again: one burst
            sink(BatchLogged(1, n, 938, 64 * n, 60000, 64 * n, 2.0, 7, 64, float(n)))
        await wait_until(pilot, lambda: app.view.curves.train_x[-1:] == [64.0 * 299])
        assert app.view.curves.train_x[-300:] == [64.0 * n for n in range(300)]
        assert app.handled - before == 1

    drive(app, body)


def test_a_held_picture_a_viewer_asked_for_is_not_made_routine_when_released() -> None:
    async def scene() -> list[bytes]:
        writer = RecordingWriter()
        link = ViewerLink(1, writer, picture_every=0.01, flush_every=3600.0)  # type: ignore[arg-type]
        pump = asyncio.create_task(link.pump())
        chosen = Pace("probe", 5)  # the digit this viewer chose: its answers are not routine
        link.send(b"probe 5 a\n", picture=True, pace=chosen)
        await writer.wrote.wait()
        writer.wrote.clear()
        link.send(b"probe 5 b\n", picture=True, pace=chosen)  # too soon: held, then released
        await asyncio.wait_for(writer.wrote.wait(), timeout=30)  # not after the 3600 s flush
        link.close_with("done")
        await pump
        return writer.writes[:-1]

    assert asyncio.run(scene()) == [b"probe 5 a\n", b"probe 5 b\n"]
