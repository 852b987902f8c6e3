"""The training step, what it leaves on the device until a logging batch, and the way back.

:func:`train_step` is the tutorial's step and returns device tensors only — the batch's loss
and its correct count — so that on a GPU nothing waits for the device between two logging
batches: :class:`Pending` keeps them there, and the Trainer reads them all at once (one host
sync) at the next logging batch. A loss that is not finite is therefore found there, a few
steps after it happened, and those steps were applied; :class:`Snapshot` keeps the weights
and the optimizer's momentum as they were before the first of those steps (a device-side
copy, made once per logging interval), so the run goes back to the last state it reported
and no further.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


class ForwardTimer:
    """Times one forward pass: wall time on a CPU (where it is synchronous), CUDA events on a
    GPU, read after the logging batch's sync. What a rank's own speed is, free of waiting
    for the others (DDP's all-reduce is in the backward pass)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self._began = 0.0
        self._ms: float | None = None
        if self.cuda:
            self._start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            self._end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]

    def start(self) -> None:
        if self.cuda:
            self._start.record()
        else:
            self._began = time.perf_counter()

    def stop(self) -> None:
        if self.cuda:
            self._end.record()
            self._ms = -1.0  # known once the device got there
        else:
            self._ms = (time.perf_counter() - self._began) * 1000

    def take(self) -> float | None:
        """The last time taken, in ms (after a sync, on a GPU); None if none since."""
        ms, self._ms = self._ms, None
        if ms is not None and self.cuda:
            self._end.synchronize()
            ms = float(self._start.elapsed_time(self._end))
        return ms


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    scale: float | None,
    batch: int,
    timer: ForwardTimer | None = None,
    before_update: Callable[[], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step on ``(x, y)``: the loss for the logs and the correct count, on the device.

    ``scale`` None: the tutorial's ``nll_loss`` averaged over ``x``. Otherwise ``x`` is this
    rank's share of a global batch of ``batch`` examples: the summed loss times ``scale``
    (the number of ranks over ``batch``) is back-propagated, so that DDP's average over the
    ranks is the gradient of the mean over the global batch, an empty share adding zero; the
    loss returned is this share's part of the global batch's mean loss. ``before_update`` is
    called between the backward pass and the optimizer's step (the Health pane's update
    ratio measures that step).
    """
    optimizer.zero_grad(set_to_none=True)
    if timer is not None:
        timer.start()
    output = model(x)
    if timer is not None:
        timer.stop()
    if scale is None:
        loss = F.nll_loss(output, y)
        logged = loss.detach()
    else:
        total = F.nll_loss(output, y, reduction="sum")
        loss = total * scale
        logged = total.detach() / batch
    loss.backward()  # type: ignore[no-untyped-call]
    if before_update is not None:
        before_update()
    optimizer.step()
    return logged, (output.argmax(1) == y).sum()


@dataclass
class Pending:
    """What the steps since the last read left on the device, and where each step began."""

    losses: list[torch.Tensor] = field(default_factory=list)
    correct: torch.Tensor | None = None
    seen: int = 0  # examples of the global batches (all ranks)
    starts: list[tuple[int, int]] = field(default_factory=list)  # (batch index, seen before)

    def add(
        self, loss: torch.Tensor, correct: torch.Tensor, seen: int, at: tuple[int, int]
    ) -> None:
        self.losses.append(loss)
        self.correct = correct if self.correct is None else self.correct + correct
        self.seen += seen
        self.starts.append(at)

    @property
    def steps(self) -> int:
        return len(self.losses)

    def values(self) -> torch.Tensor:
        """One float64 vector to read: each step's loss, then the correct count."""
        assert self.correct is not None
        losses = torch.stack(self.losses).to(torch.float64)
        return torch.cat([losses, self.correct.to(torch.float64).view(1)])

    def clear(self) -> None:
        self.losses.clear()
        self.correct = None
        self.seen = 0
        self.starts.clear()


class Snapshot:
    """The weights and the optimizer's per-parameter state, copied on the device."""

    def __init__(self, net: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.params = list(net.parameters())
        self.optimizer = optimizer
        with torch.no_grad():
            self.weights = [p.detach().clone() for p in self.params]
        self.state = {
            i: {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
            for i, p in enumerate(self.params)
            if (s := optimizer.state.get(p))
        }

    def restore(self) -> None:
        with torch.no_grad():
            for param, saved in zip(self.params, self.weights, strict=True):
                param.copy_(saved)
        for i, param in enumerate(self.params):
            if i in self.state:
                self.optimizer.state[param] = {
                    k: v.clone() if isinstance(v, torch.Tensor) else v
                    for k, v in self.state[i].items()
                }
            else:
                self.optimizer.state.pop(param, None)
