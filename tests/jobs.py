"""Real processes for the distributed tests: a torchrun job, reaped whatever happens.

:func:`job` starts ``python -m cnn_tui ARGS`` (``--nproc 2 --headless`` execs torchrun in
its place) in a session of its own and collects its output in a thread. However the test
ends, every process it started is killed on the way out — torchrun starts each rank in a
session of its own, so the whole tree is found with psutil, not by process group.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from cnn_tui.data import LoadedData, Split
from cnn_tui.endpoint.client import EndpointError, RunClient
from tests.data_fixtures import idx, write


def write_idx(folder: Path, data: LoadedData) -> Path:
    """``data`` as MNIST's IDX files under ``folder/MNIST/raw``; returns ``folder``."""
    files = {}
    for prefix, split in (("train", data.train), ("t10k", data.test)):
        n = len(split)
        labels = split.labels.cpu().to(dtype=split.raw.dtype).numpy().tobytes()
        files[f"{prefix}-images-idx3-ubyte"] = idx(2051, (n, 28, 28), split.raw.numpy().tobytes())
        files[f"{prefix}-labels-idx1-ubyte"] = idx(2049, (n,), labels)
    write(folder / "MNIST" / "raw", files)
    return folder


def head(data: LoadedData, train: int, test: int) -> LoadedData:
    def cut(split: Split, n: int) -> Split:
        return Split(split.images[:n], split.labels[:n], split.raw[:n])

    return LoadedData(data.spec, data.source, cut(data.train, train), cut(data.test, test))


@dataclass
class Job:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def wait_for_line(self, match: Callable[[str], bool], timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while True:
            found = next((line for line in list(self.lines) if match(line)), None)
            if found is not None:
                return found
            if self.done.is_set() or time.monotonic() > deadline:
                raise AssertionError("the job never said it:\n" + "".join(self.lines))
            time.sleep(0.02)

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout)
        self.done.wait(10)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextlib.contextmanager
def job(args: list[str], *, env: dict[str, str] | None = None) -> Iterator[Job]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cnn_tui", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    running = Job(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line)
        running.done.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        yield running
    finally:
        reap(process.pid)
        process.wait(30)


def reap(pid: int) -> None:
    """Kill ``pid`` and everything it started (ranks in sessions of their own included)."""
    try:
        root = psutil.Process(pid)
        tree = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(tree, timeout=30)


def connect(run_dir: Path, process: subprocess.Popen[str], timeout: float = 120) -> RunClient:
    """A viewer of the run in ``run_dir``, once its endpoint answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return RunClient(run_dir)
        except (EndpointError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
