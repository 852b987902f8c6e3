"""Thread-safe commands from any thread (a key press, a signal handler) to a running Trainer.

The UI side calls ``pause``/``resume``/``step``/``stop``/``set_hparams``/``probe``/...; the
engine side polls :attr:`Control.attention` once per step (a plain attribute read) and, when
it is set, calls :meth:`take` and, while paused, :meth:`wait`, which blocks on a condition
variable until the next command — no busy wait. Hyperparameter changes are validated here
with ``config``'s bounds, so a bad value raises in the caller and never reaches the engine.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import torch
from typing_extensions import assert_never

from cnn_tui.config import parse_hparam


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Step:
    batches: int = 1


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class SetHParams:
    changes: dict[str, int | float]


@dataclass(frozen=True)
class ProbeIndex:
    """Probe a test digit. ``viewer``: the endpoint's id of the viewer that asked, which
    alone gets the answer and keeps getting that digit; None: the run's own probe digit."""

    index: int
    viewer: int | None = None


@dataclass(frozen=True)
class ProbeImage:
    image: torch.Tensor  # (28, 28) uint8 0–255 as MNIST stores digits, or float in [0, 1]
    viewer: int | None = None


@dataclass(frozen=True)
class SaveCheckpoint:
    pass


@dataclass(frozen=True)
class Fork:
    """Save this exact point (weights, optimizer, RNG, position) as a new run directory."""


@dataclass(frozen=True)
class ForgetViewer:
    """A viewer left: stop probing the digit it chose."""

    viewer: int


@dataclass(frozen=True)
class Announce:
    """Something the run's log and viewers should hear from outside the engine (the
    endpoint's news of viewers): the engine emits it as a Notice, in order with the rest."""

    message: str
    level: str = "info"


# What the engine takes at a step boundary from its queue ...
Command = SetHParams | ProbeIndex | ProbeImage | SaveCheckpoint | Fork | ForgetViewer | Announce
# ... and everything a view may ask of a run: those plus the switches.
Request = Pause | Resume | Step | Stop | Command
REQUESTS: dict[str, type[Request]] = {
    cls.__name__: cls
    for cls in (Pause, Resume, Step, Stop, SetHParams, ProbeIndex, ProbeImage, SaveCheckpoint, Fork)
}


class Control:
    """Commands queued for the engine, plus the pause/step/stop switches."""

    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._queue: deque[Command] = deque()
        self._paused = paused
        self._steps = 0
        self._stop = False
        self._generation = 0
        self._seen_generation = 0
        # Read without the lock by the engine once per step; only ever a hint to look closer.
        self.attention = paused

    # -- caller side ----------------------------------------------------------------------
    def pause(self) -> None:
        self._change(paused=True)

    def resume(self) -> None:
        self._change(paused=False, steps=0)

    def toggle_pause(self) -> bool:
        """Pause when running, resume when paused; returns True when now paused."""
        with self._cond:
            paused = not self._paused
        self._change(paused=paused, steps=0)
        return paused

    def step(self, batches: int = 1) -> None:
        """Let ``batches`` more batches through while paused (ignored while running)."""
        with self._cond:
            if self._paused:
                self._steps += batches
                self._notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._notify()

    def set_hparams(self, **changes: Any) -> dict[str, int | float]:
        """Queue a change; raises ConfigError for a value outside ``config.BOUNDS``."""
        parsed = {name: parse_hparam(name, raw) for name, raw in changes.items()}
        self._enqueue(SetHParams(parsed))
        return parsed

    def probe(self, index: int, viewer: int | None = None) -> None:
        self._enqueue(ProbeIndex(index, viewer))

    def probe_image(self, image: torch.Tensor, viewer: int | None = None) -> None:
        """Probe a drawn digit: (28, 28), uint8 0–255 like MNIST (or float 0–1).

        Only the latest drawing matters: one of the same viewer's still queued is replaced,
        not piled up.
        """
        if tuple(image.shape) != (28, 28):
            raise ValueError(f"a drawn digit must be 28×28 (got {tuple(image.shape)})")
        if image.dtype not in (torch.uint8, torch.float32, torch.float64):
            raise ValueError(f"a drawn digit is uint8 or float (got {image.dtype})")
        if image.is_floating_point() and not bool(torch.isfinite(image).all()):
            raise ValueError("a drawn digit's values must be finite")
        command = ProbeImage(image.detach().to("cpu").clone(), viewer)
        with self._cond:
            self._queue = deque(
                c for c in self._queue if not (isinstance(c, ProbeImage) and c.viewer == viewer)
            )
            self._queue.append(command)
            self._notify()

    def save_checkpoint(self) -> None:
        self._enqueue(SaveCheckpoint())

    def submit(self, request: Request) -> None:
        """Carry out any request; raises ConfigError or ValueError for a bad one."""
        match request:
            case Pause():
                self.pause()
            case Resume():
                self.resume()
            case Step(batches=batches):
                if batches < 1:
                    raise ValueError(f"a step is at least one batch (got {batches})")
                self.step(batches)
            case Stop():
                self.stop()
            case SetHParams(changes=changes):
                self.set_hparams(**changes)
            case ProbeImage():
                self.probe_image(request.image, viewer=request.viewer)
            case ProbeIndex() | SaveCheckpoint() | Fork() | ForgetViewer() | Announce():
                self._enqueue(request)
            case _:
                assert_never(request)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def steps_pending(self) -> bool:
        return self._steps > 0

    # -- engine side ----------------------------------------------------------------------
    def take(self) -> list[Command]:
        """All queued commands, oldest first; marks the current state as seen."""
        with self._cond:
            commands = list(self._queue)
            self._queue.clear()
            self._seen_generation = self._generation
            self._refresh_attention()
            return commands

    def take_step(self) -> bool:
        """Consume one step permit if there is one."""
        with self._cond:
            if self._steps <= 0:
                return False
            self._steps -= 1
            self._refresh_attention()
            return True

    def wait(self, timeout: float | None = None) -> None:
        """Block until something changes after the last :meth:`take`."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != self._seen_generation, timeout)

    # -- internals ------------------------------------------------------------------------
    def _change(self, *, paused: bool, steps: int | None = None) -> None:
        with self._cond:
            self._paused = paused
            if steps is not None:
                self._steps = steps
            self._notify()

    def _enqueue(self, command: Command) -> None:
        with self._cond:
            self._queue.append(command)
            self._notify()

    def _notify(self) -> None:
        self._generation += 1
        self.attention = True
        self._cond.notify_all()

    def _refresh_attention(self) -> None:
        self.attention = bool(self._paused or self._stop or self._queue or self._steps)
