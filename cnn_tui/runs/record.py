"""``RUN_DIR/run.json``: what a run is and how it stands, for ``cnn-tui runs`` to read.

It holds the run's id, dataset, hyperparameters, parent (for a fork), pid, host, the last
state the engine reported, its epoch and best test accuracy. :class:`RunRecorder` is a sink
that rewrites it (atomically, 0600) when the state, the hyperparameters or the best
accuracy change — a handful of times per epoch. A record that says "running" in a
directory nobody holds the lock of is a crash. Reading records needs no torch, so
``cnn-tui runs`` answers at once.
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
