"""Real processes for tests of runs that outlive their terminal: start, watch, reap.

Every process a test starts is reaped at its end (its whole process group killed), so a
failed assertion never leaves a run training in the background. Tests synchronise on what
the programs report — a socket's answer, a line in a log, a process's exit — never on
sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cnn_tui.spawn import Started, start_background


class Reaper:
    """Starts runs and viewers; kills every one still alive when the test ends."""

    def __init__(self) -> None:
        self.groups: list[int] = []

    def background(self, *argv: str) -> Started:
        started = start_background(list(argv))
        self.groups.append(started.pid)
        return started

    def popen(self, args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(args, start_new_session=True, **options)
        self.groups.append(process.pid)
        return process

    def reap(self) -> None:
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    r = Reaper()
    try:
        yield r
    finally:
        r.reap()


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def cnn_tui(*args: str) -> list[str]:
    return [sys.executable, "-m", "cnn_tui", *args]


def logged_points(run_dir: Path) -> list[int]:
    """The examples-seen of every logged batch in ``events.jsonl`` (a resumed run may
    repeat a few: each once, in order)."""
    seen: dict[int, None] = {}
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "BatchLogged":
            seen[int(record["examples_seen"])] = None
    return list(seen)


def log_messages(run_dir: Path) -> list[str]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [str(json.loads(x).get("message", "")) for x in lines if '"Notice"' in x]


def wait_until(predicate: Callable[[], bool], timeout: float = 60, what: str = "it") -> None:
    """Until ``predicate()`` holds — it reads what the programs report — or fail."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.02)


def exits(pid: int, timeout: float = 60) -> bool:
    """Wait for ``pid`` (not our child) to end; True if it did within ``timeout``."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        import select

        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)
