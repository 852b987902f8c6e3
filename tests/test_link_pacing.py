"""A viewer gets at most one picture of a kind per interval, the newest; a new subject at once."""

from __future__ import annotations

import asyncio
import socket

import pytest

from cnn_tui.endpoint.link import FLUSH_EVERY, Pace, ViewerLink


def test_pictures_are_paced_per_kind_newest_first_and_a_new_subject_goes_at_once() -> None:
    now = [0.0]  # the link's clock, moved by the test; the held picture waits in real time

    async def scene() -> list[bytes]:
        ours, theirs = socket.socketpair()
        _, writer = await asyncio.open_unix_connection(sock=ours)
        reader, _ = await asyncio.open_unix_connection(sock=theirs)
        link = ViewerLink(1, writer, picture_every=0.05, clock=lambda: now[0])
        pump = asyncio.create_task(link.pump())

        def at(t: float, line: bytes, pace: Pace | None) -> None:
            now[0] = t
            link.send(line + b"\n", picture=pace is not None, pace=pace)

        at(0.00, b"A digit 1", Pace("probe", 1))  # the first: at once
        at(0.01, b"B digit 1", Pace("probe", 1))  # too soon: held...
        at(0.02, b"C digit 1", Pace("probe", 1))  # ...and replaced: B is never sent
        at(0.02, b"s1 samples", Pace("samples"))  # another kind has its own pace
        at(0.03, b"m1 metric", None)  # not a picture: never held
        now[0] = 5.0  # the interval is over: C goes when its timer fires
        got = [await reader.readline() for _ in range(4)]
        at(5.00, b"D digit 2", Pace("probe", 2))  # a new subject: at once
        at(5.01, b"E digit 2", Pace("probe", 2))  # held...
        at(5.02, b"F digit 3", Pace("probe", 3))  # ...and dropped: a newer subject came
        at(5.03, b"G digit 3", Pace("probe", 3))  # held; its timer fires after E's would
        now[0] = 9.0
        got += [await reader.readline() for _ in range(3)]
        link.close_with("done")
        await pump
        got.append(await reader.readline())
        writer.close()
        return got

    lines = [line.decode().strip() for line in asyncio.run(scene())]
    assert lines[:4] == ["A digit 1", "s1 samples", "m1 metric", "C digit 1"]
    assert lines[4:7] == ["D digit 2", "F digit 3", "G digit 3"]
    assert lines[7].startswith('{"type":"bye"')


def test_a_viewer_that_redraws_less_often_gets_pictures_and_bursts_less_often() -> None:
    now = [0.0]

    async def scene() -> list[int]:
        ours, theirs = socket.socketpair()
        _, writer = await asyncio.open_unix_connection(sock=ours)
        link = ViewerLink(1, writer, clock=lambda: now[0])  # no pump: the outbox stays put
        queued = []
        for t, stretch in ((0.0, 1.0), (2.0, 1.0), (4.0, 3.0), (6.0, 3.0), (7.5, 3.0)):
            now[0] = t
            link.slow_down(stretch)
            link.send(b"samples\n", picture=True, pace=Pace("samples"))
            queued.append(link.queued_bytes // len(b"samples\n"))
        link.close_with("done")
        writer.close()
        theirs.close()
        return queued

    # 1 s apart at its own pace: the second goes; stretched 3x, one 2 s after the last waits
    assert asyncio.run(scene()) == [1, 2, 2, 3, 3]


def test_slowing_down_stretches_the_flush_as_much() -> None:
    async def scene() -> float:
        ours, _theirs = socket.socketpair()
        _, writer = await asyncio.open_unix_connection(sock=ours)
        link = ViewerLink(1, writer)
        link.slow_down(3.0)
        writer.close()
        return link.flush_every

    assert asyncio.run(scene()) == pytest.approx(3 * FLUSH_EVERY)
