"""The run as a monitor shows it, accumulated from the engine's events (no Textual here).

The same fold runs in the engine's endpoint, which sends a new viewer the view as it stands,
and in every monitor, local or attached. Besides the engine's events, :data:`Update` covers
what an attached monitor learns from its connection: the view it starts from, the test
digits it fetched, a request the run refused, the connection's end.

``RunView.apply(event)`` is cheap (appends and assignments) and runs on the UI thread for
every event; widgets read from it when the redraw timer fires. Each :class:`Part` carries a
version number so a widget redraws only when the parts it draws changed, and
``at_once`` names the parts that should not wait for the timer. Nothing here imports
Textual, and nothing here reads a clock: rates and ETAs come from the engine's
training-time counter, so the same events always give the same screen.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

import torch
from typing_extensions import assert_never

from cnn_tui.bounded import BoundedSeries, keep_last
from cnn_tui.config import HyperParams
from cnn_tui.engine.events import (
    BatchLogged,
    CheckpointSaved,
    CommandRejected,
    Diverged,
    EpochTested,
    Event,
    Failed,
    Forked,
    HealthSampled,
    HistoryRestored,
    HParamsChanged,
    Notice,
    ProbeTaken,
    RunStarted,
    RunState,
    SamplesPredicted,
    StateChanged,
    SystemSampled,
)
from cnn_tui.health_history import HealthHistory
from cnn_tui.phrases import test_when


@dataclass(frozen=True)
class ViewRestored:
    """The run as it stood when this viewer attached (the endpoint's catch-up)."""

    view: RunView


@dataclass(frozen=True)
class TestImagesArrived:
    """The test digits, fetched once from the run (the gallery draws them)."""

    images: torch.Tensor  # (N, 28, 28) uint8


@dataclass(frozen=True)
class Refused:
    """The run refused a request of this viewer's."""

    reason: str


@dataclass(frozen=True)
class Disconnected:
    """The connection to the run ended; ``reason`` is its last word, if it said one."""

    reason: str


Update = Event | ViewRestored | TestImagesArrived | Refused | Disconnected

LOG_LINES = 200
MAX_MARKERS = 1000
# each monitor's own: never sent, never restored
MONITORS_OWN = ("overlays", "drawn_probe", "at_once")
RATE_WINDOW = 8  # logged batches the samples/s figure averages over


@dataclass
class Curves:
    """Chart data; x is always examples seen (the tutorial's train_counter).

    The training curve is bounded (:mod:`cnn_tui.bounded`): a night's run keeps its first
    batch and its last, at a coarser step. Test passes (one an epoch) and hyperparameter
    markers (the newest MAX_MARKERS) are kept as they are.
    """

    train: BoundedSeries = field(default_factory=BoundedSeries)  # x, loss, accuracy
    test_x: list[int] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_epoch: list[int] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)  # hparam changes
    version: int = 0

    @property
    def train_x(self) -> list[float]:
        return self.train.xs

    @property
    def train_loss(self) -> list[float]:
        return self.train.ys

    @property
    def train_acc(self) -> list[float]:
        return self.train.zs

    @property
    def train_seconds(self) -> list[float]:
        return self.train.ts

    def add_marker(self, seen: int, text: str) -> None:
        self.markers.append((seen, text))
        keep_last(self.markers, MAX_MARKERS)


class Part(Enum):
    """What a widget can draw from the view; each part has its own version number."""

    STATUS = "state, position and speed"
    HPARAMS = "hyperparameters"
    CURVES = "loss and accuracy curves"
    LOG = "log lines"
    SAMPLES = "sample predictions"
    PROBE = "the test digit's probe"
    DRAWN = "the drawn digit's probe"
    TEST = "the last test pass"
    OVERLAYS = "other runs' curves, to compare"
    HEALTH = "every layer's health"
    SYSTEM = "the processes, their ranks and GPUs"


@dataclass(frozen=True)
class Overlay:
    """Another run's curves on this run's charts (each monitor chooses its own)."""

    label: str  # what differs from this run: "lr 0.1", or its id
    seen: tuple[float, ...]
    seconds: tuple[float, ...]  # training time; NaN where the log does not say
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]  # running training accuracy; NaN where unknown
    test_seen: tuple[float, ...]
    test_loss: tuple[float, ...]
    test_accuracy: tuple[float, ...]


@dataclass(frozen=True)
class LogLine:
    level: str  # "info", "warning", "error"
    text: str


@dataclass
class RunView:
    """Everything on screen, as data."""

    started: RunStarted | None = None
    hparams: HyperParams = field(default_factory=HyperParams)
    state: RunState = RunState.STARTING
    epoch: int = 1
    batches_done: int = 0  # in this epoch
    batches_in_epoch: int = 0
    position: int = 0
    epoch_size: int = 0
    examples_seen: int = 0
    last_loss: float | None = None
    curves: Curves = field(default_factory=Curves)
    last_test: EpochTested | None = None
    samples: SamplesPredicted | None = None
    probe: ProbeTaken | None = None
    drawn_probe: ProbeTaken | None = None
    system: SystemSampled | None = None  # the processes (each rank) and their GPUs
    log: deque[LogLine] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    log_version: int = 0
    status_version: int = 0
    samples_version: int = 0
    probe_version: int = 0  # the test digit's probe
    drawn_version: int = 0  # the drawn digit's probe
    test_version: int = 0  # a test pass arrived (confusion matrix, mistakes)
    hparams_version: int = 0
    system_version: int = 0
    # the parts the last updates ask to show without waiting for the timer (a state, a digit
    # chosen): the app takes them (``take_at_once``) and redraws just their widgets
    at_once: frozenset[Part] = frozenset()
    connected: bool = True  # False once an attached monitor lost its run
    overlays: tuple[Overlay, ...] = ()  # this monitor's choice: never sent by the run
    overlays_version: int = 0
    health: HealthHistory = field(default_factory=HealthHistory)
    health_version: int = 0
    _rate_window: deque[tuple[int, float]] = field(
        default_factory=lambda: deque(maxlen=RATE_WINDOW)
    )

    # -- derived --------------------------------------------------------------------------
    @property
    def samples_per_second(self) -> float | None:
        if len(self._rate_window) < 2:
            return None
        (seen0, t0), (seen1, t1) = self._rate_window[0], self._rate_window[-1]
        return (seen1 - seen0) / (t1 - t0) if t1 > t0 else None

    @property
    def eta_seconds(self) -> float | None:
        rate = self.samples_per_second
        if rate is None or not self.epoch_size or self.state is not RunState.RUNNING:
            return None
        total = self.hparams.epochs * self.epoch_size
        return max(0, total - self.examples_seen) / rate

    @property
    def test_images(self) -> torch.Tensor | None:
        return self.started.test_images if self.started is not None else None

    @property
    def classes(self) -> tuple[str, ...]:
        """Short class names: "7" for MNIST's "7 - seven", "Sneaker" for Fashion-MNIST."""
        names = self.started.classes if self.started is not None else ()
        return tuple(n.split(" - ")[0] for n in names) or tuple(str(k) for k in range(10))

    @property
    def epoch_fraction(self) -> float:
        return self.position / self.epoch_size if self.epoch_size else 0.0

    @property
    def run_fraction(self) -> float:
        total = self.hparams.epochs * self.epoch_size
        return min(1.0, self.examples_seen / total) if total else 0.0

    def version(self, part: Part) -> int:
        match part:
            case Part.STATUS:
                return self.status_version
            case Part.HPARAMS:
                return self.hparams_version
            case Part.CURVES:
                return self.curves.version
            case Part.LOG:
                return self.log_version
            case Part.SAMPLES:
                return self.samples_version
            case Part.PROBE:
                return self.probe_version
            case Part.DRAWN:
                return self.drawn_version
            case Part.TEST:
                return self.test_version
            case Part.OVERLAYS:
                return self.overlays_version
            case Part.HEALTH:
                return self.health_version
            case Part.SYSTEM:
                return self.system_version
            case _:
                assert_never(part)

    # -- events ---------------------------------------------------------------------------
    def apply(self, event: Update) -> None:
        match event:
            case ViewRestored():
                self._restore(event.view)
            case TestImagesArrived():
                if self.started is not None:
                    self.started = dataclasses.replace(self.started, test_images=event.images)
                    self.test_version += 1
            case Refused():
                self._say("warning", f"refused: {event.reason}")
            case Disconnected():
                self.connected = False
                self._say("warning", f"disconnected: {event.reason}")
                self._show_now(Part.STATUS, Part.LOG)
                self._status()
            case RunStarted():
                self._started(event)
            case HistoryRestored():
                self._history(event)
            case BatchLogged():
                self._batch(event)
            case EpochTested():
                self._tested(event)
            case SamplesPredicted():
                self.samples = event
                self.samples_version += 1
            case ProbeTaken():
                self._probed(event)
            case HParamsChanged():
                self._hparams_changed(event)
            case StateChanged():
                self._state_changed(event)
            case Diverged():
                where, loss = f"@{event.examples_seen:,}", event.loss
                self._say("error", f"{where} loss is {loss}: paused; lower lr (e), then resume")
            case CheckpointSaved():
                self._say("info", f"@{event.examples_seen:,} checkpoint saved ({event.reason})")
            case CommandRejected():
                self._say("warning", f"{event.command} refused: {event.reason}")
            case Notice():
                self._say(event.level, event.message)
            case Forked():
                self._say("info", f"@{event.examples_seen:,} forked into {event.run_dir}")
            case Failed():
                self._say("error", f"training failed: {event.message}")
            case HealthSampled():
                self.health.add(event)
                self.health_version += 1
            case SystemSampled():
                self.system = event
                self.system_version += 1
            case _:
                assert_never(event)

    def show_overlays(self, overlays: tuple[Overlay, ...]) -> None:
        self.overlays = overlays
        self.overlays_version += 1

    def _restore(self, other: RunView) -> None:
        """Become ``other``, with every version moved on so that everything redraws."""
        bumped = {
            f.name: getattr(self, f.name) + getattr(other, f.name) + 1
            for f in dataclasses.fields(self)
            if f.name.endswith("_version")
        }
        for f in dataclasses.fields(self):
            if f.name not in MONITORS_OWN:
                setattr(self, f.name, getattr(other, f.name))
        for name, version in bumped.items():
            setattr(self, name, version)
        self.curves.version += 1
        self._show_now(*Part)

    def _show_now(self, *parts: Part) -> None:
        self.at_once |= frozenset(parts)

    def take_at_once(self) -> frozenset[Part]:
        """The parts to show now, forgotten once taken."""
        parts, self.at_once = self.at_once, frozenset()
        return parts

    def _started(self, e: RunStarted) -> None:
        self.started, self.hparams = e, e.hparams
        self.epoch, self.examples_seen, self.epoch_size = e.epoch, e.examples_seen, e.train_size
        self.position = e.examples_seen - (e.epoch - 1) * e.train_size
        self._say("info", f"{e.dataset}: {e.source_detail}")
        self._say("info", f"device {e.device}; writing to {e.run_dir}")
        if e.resumed_from:
            self._say("info", f"resumed from {e.resumed_from} at epoch {e.epoch}")
        self.hparams_version += 1
        self._status()

    def _history(self, e: HistoryRestored) -> None:
        c = self.curves
        for seen, loss in e.train:
            c.train.add(seen, loss)
        for epoch, seen, loss, correct, total in e.tests:
            self._add_test(epoch, seen, loss, correct / total if total else 0.0)
        for seen, text in e.hparam_changes:
            c.add_marker(seen, text)
        c.version += 1

    def _batch(self, e: BatchLogged) -> None:
        # The event counts examples before its batch (the tutorial's train_counter); the status
        # counts them after, as StateChanged does.
        size = min(self.hparams.batch_size, e.epoch_size - e.position)
        self.epoch, self.batches_done, self.batches_in_epoch = (
            e.epoch,
            e.batch_index + 1,
            e.batches_in_epoch,
        )
        self.position, self.epoch_size = e.position + size, e.epoch_size
        self.examples_seen, self.last_loss = e.examples_seen + size, e.loss
        self._rate_window.append((e.examples_seen, e.train_seconds))
        c = self.curves
        c.train.add(e.examples_seen, e.loss, e.train_accuracy, e.train_seconds)
        c.version += 1
        self._status()

    def _tested(self, e: EpochTested) -> None:
        self.last_test = e
        self.test_version += 1
        self._add_test(e.epoch, e.examples_seen, e.avg_loss, e.accuracy)
        self.curves.version += 1
        score = f"{e.correct}/{e.total} ({100 * e.accuracy:.1f}%)"
        self._say("info", f"test {test_when(e.epoch)}: {score}, loss {e.avg_loss:.4f}")

    def _add_test(self, epoch: int, seen: int, loss: float, accuracy: float) -> None:
        c = self.curves
        c.test_x.append(seen)
        c.test_loss.append(loss)
        c.test_epoch.append(epoch)
        c.test_acc.append(accuracy)

    def _probed(self, e: ProbeTaken) -> None:
        if e.source == "drawn":
            self.drawn_probe = e
            self.drawn_version += 1
            return
        if self.probe is not None and e.index != self.probe.index:
            self._show_now(Part.PROBE)  # the user chose another digit (n/p)
        self.probe = e
        self.probe_version += 1

    def _hparams_changed(self, e: HParamsChanged) -> None:
        self.hparams = e.new
        self.hparams_version += 1
        self.curves.add_marker(e.examples_seen, e.summary)
        self.curves.version += 1
        self._say("info", f"@{e.examples_seen:,} applied: {e.summary}")
        self._status()

    def _state_changed(self, e: StateChanged) -> None:
        previous, self.state = self.state, e.state
        self._show_now(Part.STATUS, Part.LOG)
        if e.examples_seen >= self.examples_seen:  # where the engine really is, between logs
            self.examples_seen = e.examples_seen
            if e.epoch > self.hparams.epochs and not e.batches_done:
                # every epoch is done: stay at the end of the last one, not at the next's start
                self.position, self.batches_done = self.epoch_size, self.batches_in_epoch
            else:
                self.epoch, self.batches_done = e.epoch, e.batches_done
                if self.epoch_size:
                    self.position = e.examples_seen - (e.epoch - 1) * self.epoch_size
        if e.state in (RunState.PAUSED, RunState.DONE, RunState.STOPPED):
            self._say("info", f"@{e.examples_seen:,} {e.state.value}: {e.reason}")
        elif e.state is RunState.RUNNING and previous in (
            RunState.PAUSED,
            RunState.DIVERGED,
            RunState.DONE,
        ):
            self._say("info", f"@{e.examples_seen:,} running")
        self._status()

    def _say(self, level: str, text: str) -> None:
        self.log.append(LogLine(level, text))
        self.log_version += 1

    def _status(self) -> None:
        self.status_version += 1
