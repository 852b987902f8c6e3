"""Reading a run's ``events.jsonl`` back, checked, and exporting it as CSV tables.

``export_csv`` writes ``train.csv`` (training loss), ``test.csv`` (each test pass),
``confusion.csv`` (the last test pass, true by predicted class), ``mistakes.csv`` (the
digits that pass got wrong) and ``health.csv`` (every layer's health at logging batches,
for runs that measured it). :func:`read_metrics` is the checked reading they come from,
which the TensorBoard export (:mod:`cnn_tui.engine.tensorboard`) shares. The whole log is
read and every field the tables use is checked before the first file is written, and each
file is written to a temporary name and renamed, so a bad log or a failed write never
leaves a half-written table. Any problem is one :class:`RunLogError` line naming the file
(and line) and what to do. A last line without its newline that is not whole JSON was cut
short by a crash: it is skipped, with a note, since everything before it is good.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.engine.privatefs import make_fd_private, make_private_dir, os_reason
from cnn_tui.engine.runlog import EVENTS_NAME

CLASSES = 10
DAMAGED = "the log is damaged: fix or delete that line, then export again"


class RunLogError(Exception):
    """A run directory that cannot be read or exported; ``str(err)`` is one line."""


@dataclass
class Exported:
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Record = dict[str, Any]


def read_events(run_dir: Path, notes: list[str] | None = None) -> list[tuple[int, Record]]:
    """Every event of ``run_dir``'s log as ``(line number, record)``; a torn last line is
    skipped (with a note appended to ``notes``), any other bad line is a RunLogError."""
    path = _log_path(run_dir)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RunLogError(f"cannot read {path}: {os_reason(err)}") from None
    lines = data.split(b"\n")
    records: list[tuple[int, Record]] = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        torn = number == len(lines)  # no newline after it
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            if torn:
                _note_torn(notes, path, number)
                continue
            raise RunLogError(f"{path} line {number} is not UTF-8 text: {DAMAGED}") from None
        except (ValueError, RecursionError):
            if torn:
                _note_torn(notes, path, number)
                continue
            raise RunLogError(f"{path} line {number} is not JSON: {DAMAGED}") from None
        if not isinstance(record, dict):
            raise RunLogError(f"{path} line {number} is not a JSON object: {DAMAGED}")
        if not isinstance(record.get("event"), str):
            raise RunLogError(f'{path} line {number} has no "event" name: {DAMAGED}')
        records.append((number, record))
    return records


def _log_path(run_dir: Path) -> Path:
    hint = "pass a run directory cnn-tui wrote"
    if run_dir.exists() and not run_dir.is_dir():
        raise RunLogError(f"{run_dir} is a file, not a run directory: {hint}")
    path = run_dir / EVENTS_NAME
    if not path.exists():
        raise RunLogError(f"no {EVENTS_NAME} in {run_dir}: {hint}")
    if not path.is_file():
        raise RunLogError(f"{path} is not a file: {hint}")
    return path


def _note_torn(notes: list[str] | None, path: Path, number: int) -> None:
    if notes is not None:
        notes.append(f"skipped line {number} of {path}: cut short by a crash while writing it")


@dataclass(frozen=True)
class Histogram:
    """One layer's weights at a health sample: counts in equal bins over [low, high]."""

    examples_seen: int
    layer: str
    low: float
    high: float
    counts: list[int]
    sum_squares: float  # ‖w‖²


@dataclass
class Metrics:
    """What a run's log says, checked: the rows of each table, oldest first."""

    train: list[list[Any]]  # epoch, batch, examples_seen, loss, train_accuracy ("": unknown)
    tests: list[Record]  # "row": test.csv's, "matrix": the confusion, "miss": the mistakes
    health: list[list[Any]]  # HEALTH_HEADER's; dead_relu "" where not measured (or no ReLU)
    histograms: list[Histogram]


TRAIN_HEADER = ["epoch", "batch", "examples_seen", "loss", "train_accuracy"]
TEST_HEADER = ["epoch", "examples_seen", "avg_loss", "correct", "total", "accuracy"]
HEALTH_HEADER = ["examples_seen", "layer", "weight_norm", "grad_norm", "update_ratio", "dead_relu"]


def read_metrics(run_dir: Path, notes: list[str] | None = None) -> Metrics:
    """Every metric of ``run_dir``'s log, checked; a resumed run's repeated points: last wins."""
    path = run_dir / EVENTS_NAME
    train: dict[int, list[Any]] = {}
    tests: dict[int, Record] = {}
    health: dict[int, tuple[list[list[Any]], list[Histogram]]] = {}
    for number, record in read_events(run_dir, notes):
        at = _At(path, number, record)
        if record["event"] == "BatchLogged":
            row = _train_row(at)
            train[row[2]] = row  # a resumed run repeats a few: last wins
        elif record["event"] == "EpochTested":
            tests[at.count("epoch")] = _test_record(at)
        elif record["event"] == "HealthSampled":
            health[at.count("examples_seen")] = _health_rows(at)
    samples = [health[seen] for seen in sorted(health)]
    return Metrics(
        train=[row for _, row in sorted(train.items())],
        tests=[t for _, t in sorted(tests.items())],
        health=[row for rows, _ in samples for row in rows],
        histograms=[h for _, hists in samples for h in hists],
    )


def export_csv(run_dir: Path, out_dir: Path | None = None) -> Exported:
    """Write train.csv, test.csv, confusion.csv, mistakes.csv and health.csv (each when the
    log has its data; the first two always); return their paths."""
    exported = Exported()
    metrics = read_metrics(run_dir, exported.notes)
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        ("train.csv", TRAIN_HEADER, metrics.train),
        ("test.csv", TEST_HEADER, [t["row"] for t in metrics.tests]),
    ]
    if metrics.tests:
        last = metrics.tests[-1]
        header = ["true\\predicted", *map(str, range(CLASSES))]
        tables.append(("confusion.csv", header, [[k, *r] for k, r in enumerate(last["matrix"])]))
        tables.append(("mistakes.csv", ["index", "label", "predicted", "confidence"], last["miss"]))
    if metrics.health:
        tables.append(("health.csv", HEALTH_HEADER, metrics.health))
    out = _out_dir(out_dir, run_dir)
    exported.paths = [_write(out / name, header, rows) for name, header, rows in tables]
    return exported


class _At:
    """One record being checked, and the words for what is wrong with it."""

    def __init__(self, path: Path, number: int, record: Record) -> None:
        self.path, self.line, self.record = path, number, record

    def fail(self, what: str) -> RunLogError:
        event = self.record["event"]  # BatchLogged, EpochTested, HealthSampled: the checked
        return RunLogError(f"{self.path} line {self.line} ({event}): {what}: {DAMAGED}")

    def count(self, name: str, low: int = 0) -> int:
        return self.whole(self.record.get(name, _MISSING), name, low)

    def number(self, name: str) -> float:
        return self.real(self.record.get(name, _MISSING), name)

    def whole(self, value: object, where: str, low: int = 0) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise self.fail(f"{where} is {_show(value)}, expected a whole number ≥ {low}")
        return value

    def real(self, value: object, where: str) -> float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(f"{where} is {_show(value)}, expected a number")
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf


_MISSING = object()


def _train_row(at: _At) -> list[Any]:
    seen = at.count("train_seen")
    correct = at.count("train_correct")
    return [
        at.count("epoch", 1),
        at.count("batch_index"),
        at.count("examples_seen"),
        at.number("loss"),
        correct / seen if seen else "",
    ]


def _test_record(at: _At) -> Record:
    correct, total = at.count("correct"), at.count("total", 1)
    if correct > total:
        raise at.fail(f"correct is {correct}, more than total {total}")
    matrix = at.record.get("confusion", _MISSING)
    if not isinstance(matrix, list) or len(matrix) != CLASSES:
        raise at.fail(f"confusion is {_show(matrix)}, expected {CLASSES} rows")
    rows: list[list[int]] = []
    for k, row in enumerate(matrix):
        if not isinstance(row, list) or len(row) != CLASSES:
            raise at.fail(f"confusion row {k} is {_show(row)}, expected {CLASSES} counts")
        rows.append([at.whole(v, f"confusion[{k}][{j}]") for j, v in enumerate(row)])
    mistakes = at.record.get("mistakes", _MISSING)
    if not isinstance(mistakes, list):
        raise at.fail(f"mistakes is {_show(mistakes)}, expected a list")
    miss: list[list[Any]] = []
    for n, m in enumerate(mistakes):
        if not isinstance(m, dict):
            raise at.fail(f"mistakes[{n}] is {_show(m)}, expected an object")
        counts = [at.whole(m.get(k, _MISSING), f"mistakes[{n}].{k}") for k in _MISTAKE]
        confidence = at.real(m.get("confidence", _MISSING), f"mistakes[{n}].confidence")
        miss.append([*counts, confidence])
    row = [at.count("epoch"), at.count("examples_seen"), at.number("avg_loss"), correct, total]
    return {"row": [*row, correct / total], "matrix": rows, "miss": miss}


_MISTAKE = ("index", "label", "predicted")


def _health_rows(at: _At) -> tuple[list[list[Any]], list[Histogram]]:
    seen = at.count("examples_seen")
    layers = at.record.get("layers", _MISSING)
    if not isinstance(layers, list):
        raise at.fail(f"layers is {_show(layers)}, expected a list")
    rows: list[list[Any]] = []
    histograms: list[Histogram] = []
    for n, layer in enumerate(layers):
        where = f"layers[{n}]"
        if not isinstance(layer, dict):
            raise at.fail(f"{where} is {_show(layer)}, expected an object")
        name = layer.get("layer", _MISSING)
        if not isinstance(name, str) or not name:
            raise at.fail(f"{where}.layer is {_show(name)}, expected a name")
        figures = [at.real(layer.get(k, _MISSING), f"{where}.{k}") for k in _FIGURES]
        dead = layer.get("dead_relu", _MISSING)
        rows.append(
            [seen, name, *figures, "" if dead is None else at.real(dead, f"{where}.dead_relu")]
        )
        low, high = (at.real(layer.get(k, _MISSING), f"{where}.{k}") for k in _SPAN)
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise at.fail(f"{where}'s span is [{low}, {high}], expected finite low <= high")
        counts = layer.get("histogram", _MISSING)
        if not isinstance(counts, list) or not counts:
            raise at.fail(f"{where}.histogram is {_show(counts)}, expected a list of counts")
        whole = [at.whole(c, f"{where}.histogram[{k}]") for k, c in enumerate(counts)]
        histograms.append(Histogram(seen, name, low, high, whole, figures[0] ** 2))
    return rows, histograms


_FIGURES = ("weight_norm", "grad_norm", "update_ratio")
_SPAN = ("hist_low", "hist_high")


def _out_dir(out_dir: Path | None, run_dir: Path) -> Path:
    out = out_dir or run_dir
    flag = "--out " if out_dir is not None else ""
    hint = "pass --out with a folder you can write"
    if out.exists() and not out.is_dir():
        raise RunLogError(f"{flag}{out} is a file, not a folder: {hint}")
    try:
        make_private_dir(out)
    except OSError as err:
        raise RunLogError(f"cannot create {out}: {os_reason(err)}: {hint}") from None
    return out


def _write(path: Path, header: list[str], rows: Iterable[list[Any]]) -> Path:
    """Write one table to a temporary file beside ``path`` (0600), then rename it."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            make_fd_private(handle.fileno())
            handle.write(data)
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise RunLogError(
            f"cannot write {path}: {os_reason(err)}: pass --out with a folder you can write"
        ) from None
    return path


def _show(value: object, limit: int = 30) -> str:
    if value is _MISSING:
        return "missing"
    if isinstance(value, (dict, list)):
        return f"a{'n object' if isinstance(value, dict) else ' list'} of {len(value)}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**limit:
        return f"a number of more than {limit} digits"
    text = json.dumps(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
