"""Another run's curves, read from its ``events.jsonl`` as it grows: for overlays and compare.

A :class:`TraceReader` reads only the bytes added since its last read (a run that is still
training is followed at the cost of its new lines), keeps whole lines only, and ignores
what it cannot use: a line that is not a logged batch or a test pass, or one with fields of
the wrong kind. A resumed run repeats the batches since its last checkpoint: the later one
wins, so curves continue across resumes; training time (``train_seconds``, pauses left out)
continues too, because the checkpoint keeps it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.runs.record import RunRecord, read_record

EVENTS = "events.jsonl"
MAX_POINTS = 4096  # per trace: beyond it, every other point goes (a chart draws ~200)


@dataclass(frozen=True)
class Point:
    seen: int  # examples seen
    seconds: float | None  # training time so far (None: from a restored history)
    loss: float
    accuracy: float | None  # running training accuracy; a test pass's accuracy for tests


@dataclass
class Trace:
    """One run's curves: logged batches and test passes, by examples seen."""

    run_dir: Path
    record: RunRecord | None
    train: dict[int, Point] = field(default_factory=dict)
    tests: dict[int, Point] = field(default_factory=dict)  # by epoch
    hparam_changes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def label_id(self) -> str:
        return self.record.id if self.record else self.run_dir.name

    def train_points(self) -> list[Point]:
        return sorted(self.train.values(), key=lambda p: p.seen)

    def test_points(self) -> list[Point]:
        return sorted(self.tests.values(), key=lambda p: p.seen)


class TraceReader:
    def __init__(self, run_dir: Path) -> None:
        self.trace = Trace(run_dir, read_record(run_dir))
        self._offset = 0
        self._partial = b""

    def read(self) -> bool:
        """Take in what the log gained; True if the trace changed."""
        path = self.trace.run_dir / EVENTS
        try:
            with path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return False
        if not data:
            return False
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()  # not yet ended by a newline
        changed = False
        for line in lines:
            changed |= self._take(line)
        if changed:
            self._bound()
            self.trace.record = read_record(self.trace.run_dir) or self.trace.record
        return changed

    def _take(self, line: bytes) -> bool:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return False
        if not isinstance(record, dict):
            return False
        try:
            return _fold(self.trace, record)
        except (KeyError, TypeError, ValueError):
            return False

    def _bound(self) -> None:
        for points in (self.trace.train,):
            if len(points) > MAX_POINTS:
                keep = sorted(points)[::2]
                kept = {k: points[k] for k in keep}
                points.clear()
                points.update(kept)


def _fold(trace: Trace, r: dict[str, Any]) -> bool:
    match r.get("event"):
        case "BatchLogged":
            seen = _int(r["examples_seen"])
            accuracy = r["train_correct"] / r["train_seen"] if r["train_seen"] else None
            trace.train[seen] = Point(seen, _real(r["train_seconds"]), _real(r["loss"]), accuracy)
        case "EpochTested":
            total = _int(r["total"])
            accuracy = _int(r["correct"]) / total if total else None
            seen = _int(r["examples_seen"])
            trace.tests[_int(r["epoch"])] = Point(seen, None, _real(r["avg_loss"]), accuracy)
        case "HistoryRestored":
            for seen, loss in r["train"]:
                trace.train.setdefault(_int(seen), Point(_int(seen), None, _real(loss), None))
            for epoch, seen, loss, correct, total in r["tests"]:
                accuracy = _int(correct) / _int(total) if _int(total) else None
                trace.tests.setdefault(_int(epoch), Point(_int(seen), None, _real(loss), accuracy))
        case "HParamsChanged":
            old, new = r["old"], r["new"]
            summary = ", ".join(f"{k} {old[k]}→{new[k]}" for k in new if old.get(k) != new[k])
            trace.hparam_changes.append((_int(r["examples_seen"]), summary))
        case _:
            return False
    return True


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not a whole number")
    return value


def _real(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("not a number")
    if not math.isfinite(value):
        raise ValueError("not finite")
    return float(value)
