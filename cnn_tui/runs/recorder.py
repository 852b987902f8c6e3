"""The sink that keeps a run's ``run.json`` (:mod:`.record`) up to date as it trains."""

from __future__ import annotations

import contextlib
from pathlib import Path

from cnn_tui.engine.events import (
    EpochTested,
    Event,
    Forked,
    HParamsChanged,
    RunStarted,
    StateChanged,
)
from cnn_tui.runs.record import RunRecord, write_record
from cnn_tui.runs.registry import new_id


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
                r.state = event.state.after(r.state).value
                r.epoch, r.examples_seen = event.epoch, event.examples_seen
            case HParamsChanged():
                r.hparams = event.new.to_dict()
            case EpochTested():
                r.best_accuracy = max(r.best_accuracy or 0.0, event.accuracy)
            case Forked():
                self._record_fork(event)
                return
            case _:
                return
        self._save()

    def _record_fork(self, event: Forked) -> None:
        """The fork's own record: its parent and where it branched off (its run writes the
        rest when it starts)."""
        child = Path(event.run_dir)
        r = self.record
        fork = RunRecord(
            id=new_id(child),
            run_dir=str(child),
            dataset=r.dataset,
            hparams=dict(r.hparams),
            seed=r.seed,
            state="forked",
            epoch=event.epoch,
            examples_seen=event.examples_seen,
            best_accuracy=r.best_accuracy,
            parent=str(self.run_dir),
            fork_point=event.examples_seen,
        )
        with contextlib.suppress(OSError):
            write_record(child, fork)

    def _save(self) -> None:
        # The record is for listing runs: a write that fails must not stop training (the
        # checkpoint and the event log say what matters, and report their own failures).
        try:
            write_record(self.run_dir, self.record)
        except OSError:
            self.failed = True
