"""Opening a run: device, run directory, model and optimizer (fresh or resumed), event log.

``open_run`` is what both front ends call; it returns a :class:`Run` whose ``run()`` emits
``RunStarted`` (and ``HistoryRestored`` on resume), trains, and closes the log. When the run
fails, ``run()`` writes the traceback to ``error.log`` in the run directory (0600) and
re-raises; if even that cannot be written, ``Run.report_problem`` says why, for the front end
to tell. A failed write of the checkpoint or the log is
:class:`~cnn_tui.engine.privatefs.WriteFailed`: the run stops rather than train on unsaved.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from cnn_tui.config import RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.engine.checkpoint import CHECKPOINT_NAME, Checkpoint, Progress
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import Event, HistoryRestored, Notice, RunStarted, RunState, Tee
from cnn_tui.engine.privatefs import WriteFailed, make_private_dir, os_reason, write_private_text
from cnn_tui.engine.rundir import prepare_run_dir, remove_stale_temp_files, resolve_run_dir
from cnn_tui.engine.runlog import RunLog
from cnn_tui.engine.trainer import Trainer
from cnn_tui.engine.world import World
from cnn_tui.model import Net

ERROR_LOG_NAME = "error.log"


@dataclass
class Run:
    trainer: Trainer
    control: Control
    run_dir: Path
    started: RunStarted
    history: HistoryRestored | None
    notices: list[Notice]
    log: RunLog | None
    error_report: Path | None = None  # error.log, once a failure was written there
    report_problem: str | None = None  # why error.log could not be written

    def run(self, *, linger: bool = False) -> RunState:
        sink = self.trainer.sink
        try:
            sink(self.started)
            for notice in self.notices:
                sink(notice)
            if self.history is not None:
                sink(self.history)
            return self.trainer.run(linger=linger)
        except Exception:
            self._report(traceback.format_exc())
            raise
        finally:
            if self.log is not None:
                self.log.close()

    def _report(self, details: str) -> None:
        """Keep the details of a failure in error.log; never raise while doing so."""
        report = self.run_dir / ERROR_LOG_NAME
        try:
            make_private_dir(self.run_dir)
            write_private_text(report, details)
        except OSError as err:
            with contextlib.suppress(OSError):
                report.unlink(missing_ok=True)  # an empty error.log would say nothing went wrong
            self.report_problem = f"could not write the details to {report}: {os_reason(err)}"
            notice = Notice(self.report_problem, level="warning")
        else:
            self.error_report = report
            notice = Notice(f"the full error is in {report}", level="warning")
        with contextlib.suppress(WriteFailed):  # the log failed; the front end heard it (Tee)
            self.trainer.sink(notice)


def open_run(
    config: RunConfig,
    data: LoadedData,
    sink: Callable[[Event], None],
    *,
    device: torch.device,
    checkpoint: Checkpoint | None = None,
    control: Control | None = None,
    visual_every: int = 50,
    clock: Callable[[], float] = time.perf_counter,
    write_files: bool = True,
    health: bool = True,
    world: World | None = None,
) -> Run:
    """Build the model, optimizer and trainer for ``config``, fresh or from ``checkpoint``.

    ``world``: one rank of a torchrun job (every rank loads ``checkpoint`` whole, optimizer
    state included: DDP does not share the momentum); by default this process alone.

    Raises :class:`~cnn_tui.engine.rundir.RunDirError` for a run directory that cannot be
    used and OSError if its event log cannot be opened.
    """
    run_dir = resolve_run_dir(config, checkpoint, data.spec.name)
    torch.manual_seed(config.seed)
    net = Net().to(device)
    hp = config.hparams
    optimizer = torch.optim.SGD(net.parameters(), lr=hp.lr, momentum=hp.momentum)
    progress = Progress()
    notices: list[Notice] = []
    if checkpoint is not None:
        net.load_state_dict(checkpoint.model_state)
        if checkpoint.optimizer_state is not None:
            optimizer.load_state_dict(checkpoint.optimizer_state)
            for group in optimizer.param_groups:
                group["lr"], group["momentum"] = hp.lr, hp.momentum
        if checkpoint.rng_state is not None:
            torch.set_rng_state(checkpoint.rng_state)
        progress = checkpoint.progress
        if progress.probe_index >= len(data.test):
            progress.probe_index = 0  # a checkpoint of a larger test split
        if checkpoint.is_bare_state_dict:
            notices.append(
                Notice(f"loaded weights from {checkpoint.source}; training from epoch 1")
            )
        elif progress.epoch > hp.epochs and progress.last_tested >= hp.epochs:
            notices.append(
                Notice(f"this run already trained {hp.epochs} epochs: raise --epochs to continue")
            )
    control = control or Control()
    log: RunLog | None = None
    if write_files:
        prepare_run_dir(run_dir)
        removed = remove_stale_temp_files(run_dir)
        if removed:
            notices.append(
                Notice(f"removed {removed} temporary file(s) of interrupted saves in {run_dir}")
            )
        log = RunLog(run_dir, notify=sink, on_recreated=control.save_checkpoint)
        notices.extend(log.notices)
    trainer = Trainer(
        data,
        net,
        optimizer,
        hp,
        seed=config.seed,
        sink=Tee([log, sink]) if log is not None else sink,
        control=control,
        checkpoint_file=run_dir / CHECKPOINT_NAME if write_files else None,
        progress=progress,
        visual_every=visual_every,
        clock=clock,
        health=health,
        world=world,
    )
    started = RunStarted(
        dataset=data.spec.name,
        source=data.source.kind,
        source_detail=data.source.detail,
        device=str(device),
        train_size=len(data.train),
        test_size=len(data.test),
        classes=tuple(data.spec.classes),
        hparams=hp,
        seed=config.seed,
        run_dir=str(run_dir),
        resumed_from=str(checkpoint.source) if checkpoint and checkpoint.source else None,
        epoch=progress.epoch,
        examples_seen=trainer.examples_seen,
        test_images=data.test.raw,
        data_dir=str(config.data_dir) if config.data_dir is not None else None,
        world_size=trainer.world.size,
        backend=trainer.world.backend,
    )
    history = _history(progress) if checkpoint is not None else None
    return Run(trainer, control, run_dir, started, history, notices, log)


def _history(progress: Progress) -> HistoryRestored:
    return HistoryRestored(
        train=tuple((int(seen), float(loss)) for seen, loss in progress.train_history),
        tests=tuple(
            (int(e), int(seen), float(loss), int(ok), int(n))
            for e, seen, loss, ok, n in progress.test_history
        ),
        hparam_changes=tuple((int(seen), str(text)) for seen, text in progress.hparam_history),
    )
