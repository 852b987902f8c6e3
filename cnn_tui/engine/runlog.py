"""A run directory's event log (``events.jsonl``) and its CSV export.

Every event is appended as one JSON object per line, ``{"event": "BatchLogged", ...fields}``,
flushed as it is written so a crash loses nothing already reported. Tensors are written as
their shape only: the log records what happened, the checkpoint holds the weights. Reading
it back is :mod:`cnn_tui.engine.export`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import IO, Any

import torch

from cnn_tui.config import HyperParams
from cnn_tui.engine.events import Event

EVENTS_NAME = "events.jsonl"


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


class RunLog:
    """A sink appending each event to ``run_dir/events.jsonl``."""

    def __init__(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / EVENTS_NAME
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        if self._file is None:
            return
        record = {"event": type(event).__name__, **to_jsonable(event)}
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
