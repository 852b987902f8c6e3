"""A run directory's event log (``events.jsonl``) and its CSV export.

Every event is appended as one JSON object per line, ``{"event": "BatchLogged", ...fields}``,
flushed as it is written so a crash loses nothing already reported. Tensors are written as
their shape only: the log records what happened, the checkpoint holds the weights.
``export_csv`` turns a log back into tables: training loss, test results, the last test pass's
confusion matrix and its misclassified digits.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import IO, Any

import torch

from cnn_tui.config import HyperParams
from cnn_tui.engine.events import Event

EVENTS_NAME = "events.jsonl"


class RunLogError(Exception):
    """A run directory that cannot be read; ``str(err)`` is one line saying what to do."""


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


def read_events(run_dir: Path) -> Iterator[dict[str, Any]]:
    path = run_dir / EVENTS_NAME
    if not path.exists():
        raise RunLogError(f"no {EVENTS_NAME} in {run_dir}: pass a run directory cnn-tui wrote")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                # A crash can leave the last line half-written; anything earlier is damage.
                if handle.readline():
                    raise RunLogError(
                        f"{path} line {number} is not JSON: the log is damaged"
                    ) from None
                return


def export_csv(run_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """Write train.csv, test.csv, confusion.csv and mistakes.csv; return their paths."""
    out = out_dir or run_dir
    out.mkdir(parents=True, exist_ok=True)
    train: dict[int, dict[str, Any]] = {}
    tests: dict[int, dict[str, Any]] = {}
    for record in read_events(run_dir):
        kind = record["event"]
        if kind == "BatchLogged":
            train[record["examples_seen"]] = record  # a resumed run repeats a few: last wins
        elif kind == "EpochTested":
            tests[record["epoch"]] = record
    written = [
        _write(
            out / "train.csv",
            ["epoch", "batch", "examples_seen", "loss", "train_accuracy"],
            (
                [
                    r["epoch"],
                    r["batch_index"],
                    r["examples_seen"],
                    r["loss"],
                    r["train_correct"] / r["train_seen"] if r["train_seen"] else "",
                ]
                for _, r in sorted(train.items())
            ),
        ),
        _write(
            out / "test.csv",
            ["epoch", "examples_seen", "avg_loss", "correct", "total", "accuracy"],
            (
                [
                    r["epoch"],
                    r["examples_seen"],
                    r["avg_loss"],
                    r["correct"],
                    r["total"],
                    r["correct"] / r["total"],
                ]
                for _, r in sorted(tests.items())
            ),
        ),
    ]
    if tests:
        last = tests[max(tests)]
        written.append(
            _write(
                out / "confusion.csv",
                ["true\\predicted", *map(str, range(10))],
                ([label, *row] for label, row in enumerate(last["confusion"])),
            )
        )
        written.append(
            _write(
                out / "mistakes.csv",
                ["index", "label", "predicted", "confidence"],
                (
                    [m["index"], m["label"], m["predicted"], m["confidence"]]
                    for m in last["mistakes"]
                ),
            )
        )
    return written


def _write(path: Path, header: list[str], rows: Iterator[list[Any]]) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)
    return path
