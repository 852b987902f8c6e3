"""The tutorial's train/test loop as a resumable state machine that emits events.

``Trainer.run`` does what the tutorial's script does — a test pass before training, then per
epoch a training pass (a line every ``log_interval`` batches) and a test pass — while
answering commands from its :class:`Control` at every step boundary: pause, step, stop,
hyperparameter changes, probe requests. Its position (epoch, examples into the epoch, batch
index) is all it needs to continue exactly where it stopped, so a checkpoint is a snapshot of
that position plus the weights, the optimizer and the RNG.

The hot loop is the bare forward/backward loop over a preloaded tensor; the loss and the
correct count stay on the device (:mod:`.step`) and are read once per logging batch, so a GPU
is never made to wait between two of them. Everything else happens only when
``Control.attention`` is set or on a logging batch. The loop is written for a
:class:`~cnn_tui.engine.world.World`: one process, or one rank of a torchrun job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import torch

from cnn_tui.bounded import keep_last, thin
from cnn_tui.config import ConfigError, HyperParams, check_live_epochs
from cnn_tui.data import LoadedData
from cnn_tui.engine import inference
from cnn_tui.engine.checkpoint import DIVERGED_NAME, Checkpoint, Progress, save_checkpoint
from cnn_tui.engine.control import (
    Announce,
    Command,
    Control,
    ForgetViewer,
    Fork,
    ProbeImage,
    ProbeIndex,
    SaveCheckpoint,
    SetHParams,
)
from cnn_tui.engine.events import (
    BatchLogged,
    CheckpointSaved,
    CommandRejected,
    Diverged,
    EpochTested,
    Event,
    Failed,
    HParamsChanged,
    Notice,
    RunState,
    StateChanged,
)
from cnn_tui.engine.fork import fork
from cnn_tui.engine.health import HealthMonitor
from cnn_tui.engine.privatefs import WriteFailed
from cnn_tui.engine.step import ForwardTimer, Pending, Snapshot, train_step
from cnn_tui.engine.world import World
from cnn_tui.model import Net

Clock = Callable[[], float]
MAX_CHANGES = 1000  # hyperparameter changes a checkpoint remembers (the newest)


class Trainer:
    """Trains ``net`` on ``data`` and reports every step of the way to ``sink``."""

    def __init__(
        self,
        data: LoadedData,
        net: Net,
        optimizer: torch.optim.SGD,
        hparams: HyperParams,
        *,
        seed: int,
        sink: Callable[[Event], None],
        control: Control,
        checkpoint_file: Path | None,
        progress: Progress | None,
        visual_every: int,
        clock: Clock,
        health: bool = True,
        world: World | None = None,
    ) -> None:
        self.data = data
        self.net = net
        self.optimizer = optimizer
        self.hparams = hparams
        self.seed = seed
        self.sink = sink
        self.world = world or World(data.train.labels.device)
        self.model = self.world.wrap(net)  # what the training steps run
        self.control = self.world.control(control)
        self.checkpoint_file = checkpoint_file
        self.progress = progress or Progress()
        self.visual_every = visual_every  # batches between sample/probe refreshes; 0: never
        self.clock = clock
        self.state = RunState.STARTING
        self._stepping = False
        self._diverged = False
        # Why the weights must not go to checkpoint.pt (a test pass whose loss was not
        # finite), until a later test pass is finite again; None: they may.
        self._suspect: str | None = None
        self._order: tuple[int, torch.Tensor] | None = None
        self._pending = Pending()  # what the steps since the last logging batch left
        self._snapshot: Snapshot | None = None  # the state before the first of those steps
        self._failing = False  # an error is on its way out: no more collectives
        self._last_loss = math.nan  # the last logging batch's loss
        # Reading the device is a wait on a GPU; on a CPU the steps already took that time.
        self._timed_reads = self.world.device.type != "cpu"
        # The ranks of a job time a logging batch's forward pass: who is the straggler.
        self._timer = ForwardTimer(self.world.device) if self.world.size > 1 else None
        self.sample_indices = inference.sample_indices(len(data.test), seed)
        self.viewer_probes: dict[int, int] = {}  # viewer id -> the test digit it chose
        # every layer's health at logging batches (engine/health.py); None: not measured
        # (rank 0's alone: the others' events go nowhere)
        measured = health and self.world.is_main
        self.health = HealthMonitor(net, data.test, seed) if measured else None

    # -- the run --------------------------------------------------------------------------
    def run(self, *, linger: bool = False) -> RunState:
        """Train to ``hparams.epochs``; with ``linger``, then wait for more epochs or stop."""
        try:
            self._emit_visuals()
            while True:
                outcome = self._train_to_end()
                if outcome is not RunState.DONE:
                    return outcome
                self._set_state(RunState.DONE, f"{self.hparams.epochs} epochs trained")
                if not linger:
                    return RunState.DONE
                if not self._wait_for_more_epochs():
                    return self._stop()
        except Exception as err:  # the views must hear of any failure, then it propagates
            self._failing = True
            if isinstance(err, WriteFailed):
                self._salvage(err)
            message = str(err) if isinstance(err, WriteFailed) else f"{type(err).__name__}: {err}"
            with contextlib.suppress(WriteFailed):  # the log may be what failed
                self.sink(Failed(message))
                self._set_state(RunState.FAILED, message)
            raise

    def _salvage(self, err: WriteFailed) -> None:
        """The event log failed: save what was trained before the run stops, if we can."""
        if self.checkpoint_file is None or err.path.name in (
            self.checkpoint_file.name,
            DIVERGED_NAME,
        ):
            return
        with contextlib.suppress(WriteFailed):
            self.save("stop")

    def _train_to_end(self) -> RunState:
        p = self.progress
        while p.epoch <= self.hparams.epochs:
            if p.last_tested < p.epoch - 1 and not self._test(p.epoch - 1):
                return self._stop()
            if not self._train_epoch():
                return self._stop()
            if not self._test(p.epoch):
                return self._stop()
            p.epoch += 1
            p.position = p.batch_index = p.train_correct = p.train_seen = 0
            self.save("epoch end")
        if p.last_tested < p.epoch - 1 and not self._test(p.epoch - 1):
            return self._stop()
        return RunState.DONE

    def _wait_for_more_epochs(self) -> bool:
        """Block in DONE until epochs is raised (continue) or stop is asked (False)."""
        while True:
            if not self._handle_commands():
                return False
            if self.hparams.epochs >= self.progress.epoch:
                return True
            self.control.wait()

    def _stop(self) -> RunState:
        self.save("stop")
        self._set_state(RunState.STOPPED, "stopped by request")
        return RunState.STOPPED

    # -- training -------------------------------------------------------------------------
    def _train_epoch(self) -> bool:
        p, control, world = self.progress, self.control, self.world
        if not control.attention:
            self._set_state(RunState.RUNNING, f"epoch {p.epoch}")
        images, labels = self.data.train.images, self.data.train.labels
        order = self._epoch_order(p.epoch)
        size = len(order)
        self.model.train()
        while True:
            while p.position < size:
                world.tick()
                if control.attention and not self._boundary():
                    return False
                start, batch_size = p.position, self.hparams.batch_size
                batch = min(batch_size, size - start)
                low, high = world.share(start, start + batch)
                share = order[low:high]
                x, y = images.index_select(0, share), labels.index_select(0, share)
                if not self._pending.steps:
                    self._snapshot = Snapshot(self.net, self.optimizer)
                logging = p.batch_index % self.hparams.log_interval == 0 or self._stepping
                began = self.clock()
                loss, correct = train_step(
                    self.model,
                    self.optimizer,
                    x,
                    y,
                    scale=world.loss_scale(batch),
                    batch=batch,
                    timer=self._timer if logging else None,
                    before_update=self.health.before_step if logging and self.health else None,
                )
                world.beat.examples += high - low
                p.train_seconds += self.clock() - began
                self._pending.add(loss, correct, batch, (p.batch_index, self.examples_seen))
                if logging:
                    if not self._read():
                        continue  # back where the last logging batch left it, DIVERGED
                    self._log_batch(start, size, self._last_loss)
                if self.visual_every and p.batch_index % self.visual_every == 0:
                    self._emit_visuals()
                p.batch_index += 1
                p.position += batch
            if self._read():  # the epoch's last steps; a loss that was not finite: again
                return True

    def _read(self) -> bool:
        """Read what the steps since the last read left on the device (the host's one wait
        for it between logging batches), summed over the ranks. A loss that is not finite:
        the weights, the momentum and the position go back to before the first of these
        steps, the run pauses (DIVERGED), and False.
        """
        pending, p = self._pending, self.progress
        if not pending.steps:
            return True
        began = self.clock() if self._timed_reads else 0.0
        values = self.world.read(pending.values())
        if self._timed_reads:
            p.train_seconds += self.clock() - began
        if self._timer is not None and (ms := self._timer.take()) is not None:
            beat = self.world.beat  # a rank's own speed, for the straggler mark
            beat.forward_ms = ms if beat.forward_ms is None else 0.7 * beat.forward_ms + 0.3 * ms
        losses, correct = values[:-1], int(values[-1])
        bad = next((i for i, loss in enumerate(losses) if not math.isfinite(loss)), None)
        if bad is not None:
            index, seen = pending.starts[bad]
            p.batch_index, first_seen = pending.starts[0]
            p.position = first_seen - (p.epoch - 1) * len(self.data.train)
            pending.clear()
            assert self._snapshot is not None
            self._snapshot.restore()
            self._on_diverged(losses[bad], index=index, seen=seen)
            return False
        p.train_correct += correct
        p.train_seen += pending.seen
        self._last_loss = losses[-1]
        pending.clear()
        return True

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """This epoch's seeded shuffle of the training split (a batch is a slice of it)."""
        if self._order is None or self._order[0] != epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(len(self.data.train), generator=generator)
            self._order = (epoch, order.to(self.data.train.labels.device))
        return self._order[1]

    def _log_batch(self, start: int, size: int, loss: float) -> None:
        p, batch_size = self.progress, self.hparams.batch_size
        seen = (p.epoch - 1) * size + start
        p.train_history.append([seen, loss])
        thin(p.train_history)
        self.sink(
            BatchLogged(
                epoch=p.epoch,
                batch_index=p.batch_index,
                batches_in_epoch=p.batch_index + math.ceil((size - start) / batch_size),
                position=start,
                epoch_size=size,
                examples_seen=seen,
                loss=loss,
                train_correct=p.train_correct,
                train_seen=p.train_seen,
                train_seconds=p.train_seconds,
                stepped=self._stepping,
            )
        )
        if self.health is not None:
            for event in self.health.sample(p.epoch, p.batch_index, seen):
                self.sink(event)

    def _on_diverged(
        self,
        loss: float,
        phase: str = "train",
        *,
        index: int | None = None,
        seen: int | None = None,
    ) -> None:
        p = self.progress
        index = p.batch_index if index is None else index
        seen = self.examples_seen if seen is None else seen
        self.sink(Diverged(loss, p.epoch, index, seen, phase))
        self._diverged = True
        self.control.pause()

    # -- testing --------------------------------------------------------------------------
    def _test(self, epoch: int) -> bool:
        """One pass over the test split; False (and no result) if stopped midway."""
        self._set_state(RunState.TESTING, f"test pass after epoch {epoch}")
        result = inference.evaluate(
            self.net,
            self.data.test,
            self.hparams.test_batch_size,
            go_on=self._test_boundary,
            world=self.world,
        )
        if result is None:
            return False
        loss_sum, correct, confusion, mistakes = result
        total = len(self.data.test)
        p = self.progress
        seen = self.examples_seen
        p.last_tested = epoch
        loss = loss_sum / total
        self.sink(EpochTested(epoch, seen, loss, correct, total, confusion, mistakes))
        self._emit_visuals()
        if math.isfinite(loss):
            p.test_history.append([epoch, seen, loss, correct, total])
            self._suspect = None
            return True
        # The weights themselves have diverged: keep them from checkpoint.pt, and wait
        # (DIVERGED) for a lower lr or a stop, as for a training loss that is not finite.
        self._suspect = f"the test loss after epoch {epoch} is {loss}"
        self._on_diverged(loss, phase="test")
        return self._boundary()

    def _test_boundary(self) -> bool:
        self.world.tick()
        return not self.control.attention or self._boundary(testing=True)

    # -- commands -------------------------------------------------------------------------
    def _boundary(self, *, testing: bool = False) -> bool:
        """Apply commands and wait out a pause. False when the run must stop.

        Between training batches a step lets one batch through. Between test batches (a
        pass takes about a second on a CPU, too long for a pause to wait) a step lets the
        pass finish and is spent on the next training batch.
        """
        control = self.control
        while True:
            if not self._handle_commands():
                return False
            if not control.paused:
                self._stepping = self._diverged = False
                self._set_state(RunState.TESTING if testing else RunState.RUNNING, "resumed")
                return True
            if testing and control.steps_pending:
                self._set_state(RunState.TESTING, "stepping")
                return True
            if not testing and control.take_step():
                self._stepping = True
                return True
            self._stepping = False
            if self._diverged:
                self._set_state(RunState.DIVERGED, "loss is not finite: lower lr, then resume")
            else:
                self._set_state(RunState.PAUSED, "paused by request")
            control.wait()

    def _handle_commands(self) -> bool:
        for command in self.control.take():
            self._apply(command)
        return not self.control.stop_requested

    def _apply(self, command: Command) -> None:
        if isinstance(command, SetHParams):
            self._set_hparams(command.changes)
        elif isinstance(command, ProbeIndex):
            if not 0 <= command.index < len(self.data.test):
                self.sink(CommandRejected("probe", f"no test digit {command.index}"))
                return
            if command.viewer is None:
                self.progress.probe_index = command.index
                self._emit_probe(command.index)
            else:
                self.viewer_probes[command.viewer] = command.index
                self._emit_probe(command.index, (command.viewer,))
        elif isinstance(command, ProbeImage):
            probe = inference.probe_drawn(self.net, command.image, self.data, self.examples_seen)
            viewers = None if command.viewer is None else (command.viewer,)
            self.sink(dataclasses.replace(probe, viewers=viewers))
        elif isinstance(command, SaveCheckpoint):
            self.save("requested")
        elif isinstance(command, Fork):
            self._read()  # the counters, and whether the steps since the last read were finite
            self.sink(fork(self))
        elif isinstance(command, ForgetViewer):
            self.viewer_probes.pop(command.viewer, None)
        elif isinstance(command, Announce):
            self.sink(Notice(command.message, command.level))

    def _set_hparams(self, changes: dict[str, int | float]) -> None:
        try:
            new = self.hparams.replace(**changes)
            if "epochs" in changes:
                check_live_epochs(new.epochs, self.progress.epoch)
        except ConfigError as err:
            self.sink(CommandRejected("set hyperparameters", f"{err.field} {err.reason}"))
            return
        refused = self.world.check_hparams(new)
        if refused is not None:
            self.sink(CommandRejected("set hyperparameters", refused))
            return
        old, self.hparams = self.hparams, new
        for group in self.optimizer.param_groups:
            group["lr"], group["momentum"] = new.lr, new.momentum
        event = HParamsChanged(old, new, self.progress.epoch, self.examples_seen)
        if event.summary:
            self.progress.hparam_history.append([self.examples_seen, event.summary])
            keep_last(self.progress.hparam_history, MAX_CHANGES)
            self.sink(event)

    # -- views and saving ---------------------------------------------------------------
    def _emit_visuals(self) -> None:
        if not self.visual_every:
            return
        self.sink(
            inference.predict_samples(self.net, self.data, self.sample_indices, self.examples_seen)
        )
        self._emit_probes()

    def _emit_probes(self) -> None:
        """The run's probe digit, and each digit a viewer chose, to the viewers that chose it."""
        self._emit_probe(self.progress.probe_index)
        chosen: dict[int, list[int]] = {}
        for viewer, index in self.viewer_probes.items():
            chosen.setdefault(index, []).append(viewer)
        for index, viewers in chosen.items():
            self._emit_probe(index, tuple(viewers))

    def _emit_probe(self, index: int, viewers: tuple[int, ...] | None = None) -> None:
        probe = inference.probe_test_digit(self.net, self.data, index, self.examples_seen)
        self.sink(probe if viewers is None else dataclasses.replace(probe, viewers=viewers))

    def save(self, reason: str) -> None:
        """Checkpoint now; weights that diverged go beside the last good checkpoint, not over it.

        ``checkpoint.pt`` only ever holds weights a run can go on from with a lower lr:
        finite ones, and not those of a test pass whose loss was not finite. A save that
        fails raises :class:`WriteFailed`; the previous checkpoint is left as it was.
        """
        if not self._failing:
            self._read()  # the counters (every rank's) go into the checkpoint
        if self.checkpoint_file is None:
            return
        file = self.checkpoint_file
        if not self._diverged and self._suspect is None and not self._weights_finite():
            self._suspect = "the weights are not finite"
            self.sink(Notice(f"{self._suspect}: saving them to {DIVERGED_NAME}", level="warning"))
        if self._diverged or self._suspect is not None:
            file = file.with_name(DIVERGED_NAME)
        try:
            save_checkpoint(file, self.snapshot())
        except OSError as err:
            raise WriteFailed(file, err) from err
        self.sink(CheckpointSaved(str(file), reason, self.progress.epoch, self.examples_seen))

    @property
    def forkable(self) -> bool:
        """Weights a run can go on from (what checkpoint.pt may hold)."""
        return not self._diverged and self._suspect is None and self._weights_finite()

    def _weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.net.parameters())

    def snapshot(self) -> Checkpoint:
        return Checkpoint(
            model_state={k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            optimizer_state=self.optimizer.state_dict(),
            hparams=self.hparams,
            seed=self.seed,
            dataset=self.data.spec.name,
            progress=self.progress,
            rng_state=torch.get_rng_state(),
        )

    @property
    def examples_seen(self) -> int:
        p = self.progress
        return (p.epoch - 1) * len(self.data.train) + p.position

    def _set_state(self, state: RunState, reason: str) -> None:
        if state is self.state:
            return
        self.state = state
        p = self.progress
        self.sink(StateChanged(state, reason, p.epoch, self.examples_seen, p.batch_index))
