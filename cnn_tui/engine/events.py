"""The events a run emits, as frozen dataclasses sent to a sink callable.

Every view of a run — the headless printer, the Textual app, the JSONL run log — is a sink of
this one stream. Events carry plain numbers, tuples and CPU tensors only, so they can be
printed, pickled across a process boundary or written as JSON (tensors become their shape).
Counters follow the tutorial: ``examples_seen`` is its ``train_counter``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

import torch

from cnn_tui.config import HyperParams


class RunState(str, Enum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    DIVERGED = "diverged"
    TESTING = "testing"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (RunState.STOPPED, RunState.FAILED)

    def after(self, previous: str | None) -> RunState:
        """How the run stands when this state follows ``previous`` (a state's value): a run
        in the background is stopped once done, with nothing trained since — still done."""
        if self is RunState.STOPPED and previous == RunState.DONE.value:
            return RunState.DONE
        return self


@dataclass(frozen=True, slots=True)
class RunStarted:
    """First event of a run: what it trains on, where the data came from, where it writes."""

    dataset: str
    source: str  # "data-dir", "cache", "download" or "sample"
    source_detail: str  # one line saying which files and why
    device: str
    train_size: int
    test_size: int
    classes: tuple[str, ...]
    hparams: HyperParams
    seed: int
    run_dir: str
    resumed_from: str | None
    epoch: int
    examples_seen: int
    test_images: torch.Tensor | None = None  # (N, 28, 28) uint8: the gallery's digits
    data_dir: str | None = None  # --data-dir, if given: where a fork finds the same files
    world_size: int = 1  # processes training together (the ranks of a torchrun job)
    backend: str = ""  # their torch.distributed backend: gloo or nccl


@dataclass(frozen=True, slots=True)
class HistoryRestored:
    """On resume: the curves so far, so a view can draw them before new points arrive."""

    train: tuple[tuple[int, float], ...]  # (examples_seen, loss)
    tests: tuple[tuple[int, int, float, int, int], ...]  # (epoch, seen, loss, correct, total)
    hparam_changes: tuple[tuple[int, str], ...]  # (examples_seen, "lr 0.01→0.05")


@dataclass(frozen=True, slots=True)
class BatchLogged:
    """One of the tutorial's ``Train Epoch`` lines: every ``log_interval`` batches."""

    epoch: int
    batch_index: int
    batches_in_epoch: int
    position: int  # examples of this epoch before this batch (tutorial: batch_idx * 64)
    epoch_size: int
    examples_seen: int  # the tutorial's train_counter
    loss: float
    train_correct: int  # running, over this epoch so far (this batch included)
    train_seen: int
    train_seconds: float  # time spent training (not paused, not testing) since the run began
    stepped: bool = False  # a single step taken while paused

    @property
    def train_accuracy(self) -> float:
        return self.train_correct / self.train_seen if self.train_seen else 0.0


@dataclass(frozen=True, slots=True)
class Mistake:
    index: int  # into the test split
    label: int
    predicted: int
    confidence: float


@dataclass(frozen=True, slots=True)
class EpochTested:
    """A test pass: ``epoch`` 0 is the pass before training."""

    epoch: int
    examples_seen: int
    avg_loss: float
    correct: int
    total: int
    confusion: tuple[tuple[int, ...], ...]  # confusion[true][predicted]
    mistakes: tuple[Mistake, ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class SamplesPredicted:
    """A fixed grid of test digits with the network's current predictions."""

    examples_seen: int
    indices: tuple[int, ...]
    images: torch.Tensor  # (k, 28, 28) float in [0, 1], as the digit looks
    labels: tuple[int, ...]
    predictions: tuple[int, ...]
    confidences: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ProbeTaken:
    """Every stage of the network for one digit (model.STAGES), plus its learned filters."""

    examples_seen: int
    source: str  # "test" or "drawn"
    index: int | None  # test index when source == "test"
    label: int | None
    stages: Mapping[str, torch.Tensor]
    conv1_weight: torch.Tensor  # (10, 1, 5, 5)
    conv2_weight: torch.Tensor  # (20, 10, 5, 5)
    prediction: int
    confidence: float
    # The endpoint's ids of the viewers that asked for this digit (they alone get it);
    # None: the run's own probe, for everyone else.
    viewers: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class HParamsChanged:
    """A change the engine applied at a step boundary (what really happened)."""

    old: HyperParams
    new: HyperParams
    epoch: int
    examples_seen: int

    @property
    def summary(self) -> str:
        return ", ".join(f"{k} {a}→{b}" for k, (a, b) in self.old.diff(self.new).items())


@dataclass(frozen=True, slots=True)
class CommandRejected:
    command: str
    reason: str


@dataclass(frozen=True, slots=True)
class StateChanged:
    state: RunState
    reason: str
    epoch: int
    examples_seen: int
    batches_done: int = 0  # batches trained in this epoch so far


@dataclass(frozen=True, slots=True)
class Diverged:
    """The loss was NaN or infinite and the run paused.

    ``phase`` "train": a training batch's loss; that batch was not applied. "test": a test
    pass's average loss; the weights themselves have diverged and are kept out of
    ``checkpoint.pt`` (any save goes to ``checkpoint-diverged.pt``).
    """

    loss: float
    epoch: int
    batch_index: int
    examples_seen: int
    phase: str = "train"  # "train" or "test"


@dataclass(frozen=True, slots=True)
class CheckpointSaved:
    path: str
    reason: str  # "epoch end", "stop", "requested"
    epoch: int
    examples_seen: int


@dataclass(frozen=True, slots=True)
class Forked:
    """A new run directory starts from this exact point (its checkpoint holds it); the
    parent's own checkpoint is not touched."""

    run_dir: str  # the fork's
    parent_dir: str
    epoch: int
    examples_seen: int


@dataclass(frozen=True, slots=True)
class Failed:
    message: str


@dataclass(frozen=True, slots=True)
class RankSample:
    """One process of the run — a rank of a torchrun job, or the run's only process — as its
    sampler saw it. None: not known here (no GPU, NVML missing, a counter not supported)."""

    rank: int
    device: str  # "cpu", "cuda:0"
    epoch: int
    batch_index: int  # batches trained in the epoch
    examples: int  # examples this process trained on (its shares), since it started
    samples_per_s: float | None  # since its previous sample
    forward_ms: float | None  # a forward pass of its share of a logging batch, smoothed
    held: bool  # waiting for a command (paused, or done)
    cpu_percent: float | None  # this process, all its threads (100 = one core)
    rss_bytes: int | None  # this process's resident memory
    gpu_util: float | None  # its GPU: utilisation %, memory, temperature, power
    gpu_mem_used: int | None
    gpu_mem_total: int | None
    gpu_temp_c: float | None
    gpu_power_w: float | None
    age_s: float  # how old the sample was when rank 0 sent it on


@dataclass(frozen=True, slots=True)
class SystemSampled:
    """The run's processes and their GPUs, sampled off the training thread, at most once a
    second. Like a picture, only the latest matters."""

    ranks: tuple[RankSample, ...]


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a user should know that is not a failure (a fallback taken, a warning)."""

    message: str
    level: str = "info"  # "info" or "warning"


@dataclass(frozen=True, slots=True)
class LayerHealth:
    """One layer's figures at a logging batch, from its weight tensor (biases left out)."""

    layer: str  # "conv1", "conv2", "fc1", "fc2"
    weight_norm: float  # ‖w‖ (L2, the whole tensor) after the step
    grad_norm: float  # ‖∂loss/∂w‖ of the batch just applied
    update_ratio: float  # ‖w_after − w_before‖ / ‖w_before‖: the optimizer's real step
    # The share of the layer's ReLU units (channels of a conv layer) whose output is zero
    # for every digit of the probe batch, in eval mode; None: no ReLU (fc2), or not measured
    # at this sample (see engine/health.py for the cadence).
    dead_relu: float | None
    hist_low: float  # the histogram spans [hist_low, hist_high]: the weights' min and max
    hist_high: float
    histogram: tuple[int, ...]  # counts of the weights in equal bins over that span


@dataclass(frozen=True, slots=True)
class HealthSampled:
    """Every layer's health right after a logging batch's optimizer step."""

    epoch: int
    batch_index: int
    examples_seen: int  # as in BatchLogged: the tutorial's train_counter before this batch
    layers: tuple[LayerHealth, ...]


Event = (
    RunStarted
    | HistoryRestored
    | BatchLogged
    | EpochTested
    | SamplesPredicted
    | ProbeTaken
    | HParamsChanged
    | CommandRejected
    | StateChanged
    | Diverged
    | CheckpointSaved
    | Forked
    | Failed
    | Notice
    | HealthSampled
    | SystemSampled
)
Sink = Callable[[Event], None]


@dataclass
class Tee:
    """A sink that hands each event to several sinks, in order."""

    sinks: list[Sink] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        """Every sink hears every event, even when one raises; then the first error is raised."""
        error: Exception | None = None
        for sink in self.sinks:
            try:
                sink(event)
            except Exception as err:
                error = error or err
        if error is not None:
            raise error
