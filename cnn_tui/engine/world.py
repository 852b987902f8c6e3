"""Who trains: this process alone, or one rank of a torchrun job — what the Trainer asks of it.

The Trainer is written once, for a :class:`World`. This base class is the world of one
process: every hook is the identity, and the Trainer does exactly the tutorial's arithmetic
(``nll_loss`` averaged over the batch). :class:`cnn_tui.engine.ddp.world.Distributed` is
the world of a rank under torchrun: each global batch is shared between the ranks
(:func:`share_bounds`), the model is wrapped in ``DistributedDataParallel``, what is read
at logging batches is summed over the ranks, and commands reach every rank at the same step.

What the Trainer calls, and when:

- ``tick()`` before every training step and every test batch (a step boundary);
- ``share(start, stop)`` the part of a global batch (a range of the epoch's order, or of the
  test split) this rank computes;
- ``loss_scale(n)`` None for the tutorial's mean loss; else the factor on the summed loss
  of this rank's share that makes DDP's average the mean over the global batch of ``n``;
- ``read(values)`` the one host read of a logging batch: a 1-D device tensor, summed over
  the ranks, as Python floats;
- ``gather_rows(rows)`` every rank's rows of a 2-D tensor, in rank order (test mistakes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnn_tui.config import HyperParams
from cnn_tui.engine.control import Control


def share_bounds(start: int, stop: int, rank: int, size: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous part of ``range(start, stop)``, split as evenly as it goes
    (the first ``n % size`` ranks take one more); a part may be empty."""
    base, extra = divmod(stop - start, size)
    low = start + rank * base + min(rank, extra)
    return low, low + base + (1 if rank < extra else 0)


@dataclass
class Beat:
    """What a rank says about itself in its heartbeat (written by the training thread, read
    by the sampler's): plain numbers, each assignment atomic under the GIL."""

    examples: int = 0  # examples this rank trained on, in this process
    forward_ms: float | None = None  # a logging batch's forward pass, smoothed
    held: bool = False  # waiting for a command (paused, or done and lingering)


class World:
    """One process trains alone: every hook is the identity (see the module docstring)."""

    rank = 0
    size = 1
    backend = ""

    def __init__(self, device: torch.device | None = None) -> None:
        self.device = device or torch.device("cpu")
        self.beat = Beat()

    @property
    def is_main(self) -> bool:
        """Whether this process writes the events and checkpoints and serves the monitor."""
        return self.rank == 0

    def wrap(self, net: nn.Module) -> nn.Module:
        """The module the training steps run (DDP's wrapper in a distributed world)."""
        return net

    def control(self, source: Control) -> Control:
        """The Control the Trainer obeys, given the one commands arrive on."""
        return source

    def tick(self) -> None:
        """A step boundary: where a distributed world exchanges what it was told."""

    def share(self, start: int, stop: int) -> tuple[int, int]:
        return start, stop

    def loss_scale(self, batch: int) -> float | None:
        return None

    def read(self, values: torch.Tensor) -> list[float]:
        return [float(v) for v in values.tolist()]

    def gather_rows(self, rows: torch.Tensor) -> torch.Tensor:
        return rows

    def check_hparams(self, hparams: HyperParams) -> str | None:
        """Why ``hparams`` cannot be used by this world (None: they can)."""
        return None

    def close(self, *, clean: bool = True) -> None:
        """The run is over: let go of what the world holds (``clean``: every rank ended it
        the same way; otherwise it is left to the launcher to end the others)."""
