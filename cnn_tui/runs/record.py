"""``RUN_DIR/run.json``: what a run is and how it stands, for ``cnn-tui runs`` to read.

It holds the run's id, dataset, hyperparameters, parent (for a fork), pid, host, the last
state the engine reported, its epoch and best test accuracy. :class:`RunRecorder` is a sink
that rewrites it (atomically, 0600) when the state, the hyperparameters or the best
accuracy change — a handful of times per epoch. A record that says "running" in a
directory nobody holds the lock of is a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cnn_tui.engine.events import (
    EpochTested,
    Event,
    HParamsChanged,
    RunStarted,
    RunState,
    StateChanged,
)

RECORD_NAME = "run.json"


@dataclass
class RunRecord:
    id: str
    run_dir: str
    dataset: str = ""
    hparams: dict[str, Any] = field(default_factory=dict)
    seed: int = 1
    created: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    state: str = "starting"
    epoch: int = 1
    examples_seen: int = 0
    best_accuracy: float | None = None
    parent: str | None = None  # run directory this run was forked from
    fork_point: int | None = None  # the parent's examples seen at the fork
    updated: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def read_record(run_dir: Path) -> RunRecord | None:
    """The run's record, or None if it has none (or an unreadable one)."""
    try:
        data = json.loads((run_dir / RECORD_NAME).read_text(encoding="utf-8"))
        return RunRecord.from_dict(data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def write_record(run_dir: Path, record: RunRecord) -> None:
    """Replace ``run.json`` atomically; private to the user whatever the umask."""
    record.updated = time.time()
    path = run_dir / RECORD_NAME
    tmp = run_dir / f".{RECORD_NAME}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(record), handle, indent=1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class RunRecorder:
    """A sink keeping ``run.json`` up to date with the run's state and best accuracy."""

    def __init__(self, run_dir: Path, record: RunRecord) -> None:
        self.run_dir = run_dir
        self.record = record
        self.failed = False
        self._save()

    def __call__(self, event: Event) -> None:
        r = self.record
        match event:
            case RunStarted():
                r.dataset, r.hparams, r.seed = event.dataset, event.hparams.to_dict(), event.seed
                r.epoch, r.examples_seen = event.epoch, event.examples_seen
            case StateChanged():
                finished = r.state == "done" and event.state is RunState.STOPPED
                r.state = r.state if finished else event.state.value  # stopped after the end
                r.epoch, r.examples_seen = event.epoch, event.examples_seen
            case HParamsChanged():
                r.hparams = event.new.to_dict()
            case EpochTested():
                r.best_accuracy = max(r.best_accuracy or 0.0, event.accuracy)
            case _:
                return
        self._save()

    def _save(self) -> None:
        # The record is for listing runs: a write that fails must not stop training (the
        # checkpoint and the event log say what matters, and report their own failures).
        try:
            write_record(self.run_dir, self.record)
        except OSError:
            self.failed = True
