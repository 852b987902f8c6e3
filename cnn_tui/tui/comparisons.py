"""The other runs a monitor compares its run with: their curves, kept up to date.

Each chosen run's ``events.jsonl`` is followed (:class:`~cnn_tui.runs.traces.TraceReader`
reads only what it gained), so a run still training grows on the chart, and a parent that
is resumed after a fork goes on past the fork point. Each is labelled by what differs from
the run on screen — "lr 0.1", "lr 0.1, batch_size 128" — or by its id if nothing does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnn_tui.runs.compare import SETTINGS, setting_text, settings_of
from cnn_tui.runs.traces import TraceReader
from cnn_tui.runview import Overlay, RunView

MAX_OVERLAYS = 5  # a legend and five colours: more would not read


class Comparisons:
    def __init__(self) -> None:
        self.readers: dict[Path, TraceReader] = {}
        self.names: dict[Path, str] = {}  # a fixed label ("parent") where one is meant
        self._basis: dict[str, Any] | None = None  # the settings the labels were made against

    @property
    def run_dirs(self) -> list[Path]:
        return list(self.readers)

    def choose(self, run_dirs: list[Path]) -> None:
        """Compare with exactly these runs (the first MAX_OVERLAYS)."""
        chosen = [d.absolute() for d in run_dirs][:MAX_OVERLAYS]
        self.readers = {d: self.readers.get(d) or TraceReader(d) for d in chosen}
        self.names = {d: n for d, n in self.names.items() if d in self.readers}

    def add(self, run_dir: Path, name: str | None = None) -> None:
        self.choose([*self.run_dirs, run_dir])
        if name is not None:
            self.names[run_dir.absolute()] = name

    def refresh(self, view: RunView, *, force: bool = False) -> tuple[Overlay, ...] | None:
        """The overlays, if any run gained points since the last call, or the run on screen
        changed what the labels are relative to (its settings), or ``force``."""
        changed = [reader.read() for reader in self.readers.values()]
        basis = labels_basis(view)
        if not (force or any(changed) or basis != self._basis):
            return None
        self._basis = basis
        return tuple(self._overlay(d, r, view) for d, r in self.readers.items())

    def _overlay(self, run_dir: Path, reader: TraceReader, view: RunView) -> Overlay:
        trace = reader.trace
        train, tests = trace.train_points(), trace.test_points()
        nan = float("nan")
        return Overlay(
            label=self.names.get(run_dir) or label(settings_of(trace), view, trace.label_id),
            seen=tuple(float(p.seen) for p in train),
            seconds=tuple(nan if p.seconds is None else p.seconds for p in train),
            loss=tuple(p.loss for p in train),
            accuracy=tuple(nan if p.accuracy is None else p.accuracy for p in train),
            test_seen=tuple(float(p.seen) for p in tests),
            test_loss=tuple(p.loss for p in tests),
            test_accuracy=tuple(nan if p.accuracy is None else p.accuracy for p in tests),
        )


def labels_basis(view: RunView) -> dict[str, Any]:
    """The run on screen's settings, as the other runs' labels are made against them."""
    started = view.started
    mine: dict[str, Any] = {**view.hparams.to_dict()}
    if started is not None:
        mine |= {"dataset": started.dataset, "seed": started.seed}
    return mine


def label(theirs: dict[str, Any], view: RunView, fallback: str) -> str:
    """What differs from the run on screen, in the other run's values."""
    mine = labels_basis(view)
    differ = [k for k in SETTINGS if k in theirs and k in mine and theirs[k] != mine[k]]
    if not differ:
        return fallback
    return ", ".join(f"{k} {setting_text(theirs[k])}" for k in differ)
