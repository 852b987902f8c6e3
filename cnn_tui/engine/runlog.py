"""A run directory's event log, ``events.jsonl``: one JSON object per line, whole lines only.

Every event is appended as ``{"event": "BatchLogged", ...fields}`` and a newline, built in
full and written with one ``write`` on an ``O_APPEND`` descriptor, so a crash loses nothing
already reported and never leaves half a line. If the disk fills up midway through a line,
the part written is cut off again and the failure is raised as
:class:`~cnn_tui.engine.privatefs.WriteFailed` ("cannot write …/events.jsonl: no space left
on device"); the log then stays silent, and the engine stops the run. A half line left by an
older version (or a power cut) is cut off when the log is opened again, with a notice.

If the run directory is deleted while the run writes to it (our descriptor then points at a
file with no name), the log notices at its next write, recreates the folder (0700) and a new
``events.jsonl`` (0600), says so with a :class:`Notice`, and asks for a checkpoint at the next
step, so the run goes on with a record again rather than writing into the void.
Tensors are written as their shape only: the log records what happened, the checkpoint
holds the weights. Reading it back is :mod:`cnn_tui.engine.export`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import torch

from cnn_tui.config import HyperParams
from cnn_tui.engine.events import Event, Notice
from cnn_tui.engine.privatefs import WriteFailed, make_private_dir, open_private

EVENTS_NAME = "events.jsonl"
TAIL_CHUNK = 1 << 16


def to_jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return {"tensor": list(value.shape)}
    if isinstance(value, HyperParams):
        return value.to_dict()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def event_line(event: Event) -> bytes:
    """The whole line for ``event``, newline included."""
    record = {"event": type(event).__name__, **to_jsonable(event)}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


class RunLog:
    """A sink appending each event to ``run_dir/events.jsonl``.

    ``notify`` hears what the log has to say about itself (a folder recreated, a half line
    cut off); ``on_recreated`` is called after the run directory had to be recreated.
    """

    def __init__(
        self,
        run_dir: Path,
        notify: Callable[[Event], None] | None = None,
        on_recreated: Callable[[], None] | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.path = run_dir / EVENTS_NAME
        self.notify = notify
        self.on_recreated = on_recreated
        self.failure: WriteFailed | None = None
        self.notices: list[Notice] = []  # said while opening: for the run to emit
        self._fd: int | None = None
        self._open()

    def _open(self) -> None:
        make_private_dir(self.run_dir)
        fd = open_private(self.path, os.O_RDWR | os.O_APPEND)
        try:
            cut = _cut_torn_tail(fd)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        if cut:
            self.notices.append(
                Notice(
                    f"cut off a half-written last line ({cut} bytes) of {self.path}, "
                    "left by a run that stopped while writing it",
                    level="warning",
                )
            )

    def __call__(self, event: Event) -> None:
        if self._fd is None:
            return
        line = event_line(event)
        if _unlinked(self._fd):
            self._recreate()
        try:
            self._write(line)
        except OSError as err:
            if err.errno == errno.ENOENT or not self.run_dir.is_dir() or _unlinked(self._fd):
                self._recreate()
                try:
                    self._write(line)
                    return
                except OSError as again:
                    err = again
            self._fail(err)

    def _write(self, line: bytes) -> None:
        assert self._fd is not None
        written = os.write(self._fd, line)
        if written != len(line):  # the disk filled up within the line: take it back
            end = os.lseek(self._fd, 0, os.SEEK_END)
            os.ftruncate(self._fd, max(0, end - written))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def _recreate(self) -> None:
        """The run directory went away under us: make it again and go on writing there."""
        self._close_fd()
        try:
            self._open()
        except OSError as err:
            self._fail(err)
        notice = Notice(
            f"the run directory {self.run_dir} was deleted while the run was writing to it: "
            "recreated it; events.jsonl starts again here and a checkpoint is saved next",
            level="warning",
        )
        self._write_quietly(notice)
        if self.notify is not None:
            self.notify(notice)
        if self.on_recreated is not None:
            self.on_recreated()

    def _write_quietly(self, event: Event) -> None:
        try:
            self._write(event_line(event))
        except OSError as err:
            self._fail(err)

    def _fail(self, err: OSError) -> None:
        self._close_fd()
        self.failure = WriteFailed(self.path, err)
        raise self.failure

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self._close_fd()


def _unlinked(fd: int) -> bool:
    """True when the file behind ``fd`` no longer has a name (its folder was deleted)."""
    try:
        return os.fstat(fd).st_nlink == 0
    except OSError:
        return False


def _cut_torn_tail(fd: int) -> int:
    """Cut a last line that has no newline and is not whole JSON; return the bytes cut.

    A whole last line that only lacks its newline gets one instead.
    """
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return 0
    keep = _last_line_start(fd, size)
    try:
        json.loads(os.pread(fd, size - keep, keep))
    except (ValueError, RecursionError):  # half a line, or not JSON: it can never be read
        os.ftruncate(fd, keep)
        return size - keep
    os.write(fd, b"\n")
    return 0


def _last_line_start(fd: int, size: int) -> int:
    end = size
    while end > 0:
        start = max(0, end - TAIL_CHUNK)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0
