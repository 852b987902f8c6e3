"""A valid checkpoint as a run writes it mid-way, for tests that damage it."""

from __future__ import annotations

import copy
from typing import Any

import torch

from cnn_tui.config import HyperParams
from cnn_tui.engine.checkpoint import Checkpoint, Progress
from cnn_tui.model import Net


def valid_checkpoint() -> Checkpoint:
    """A checkpoint as a run mid-way writes it: momentum buffers, histories, RNG state."""
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    net(torch.randn(4, 1, 28, 28)).sum().backward()
    optimizer.step()
    progress = Progress(
        epoch=2,
        position=128,
        batch_index=2,
        train_correct=70,
        train_seen=128,
        last_tested=1,
        train_seconds=1.5,
        probe_index=3,
        train_history=[[0, 2.3], [640, 1.1]],
        test_history=[[0, 0, 2.31, 98, 1000], [1, 6000, 0.52, 840, 1000]],
        hparam_history=[[640, "lr 0.01→0.02"]],
    )
    return Checkpoint(
        model_state={k: v.detach().clone() for k, v in net.state_dict().items()},
        optimizer_state=optimizer.state_dict(),
        hparams=HyperParams(),
        seed=1,
        dataset="mnist",
        progress=progress,
        rng_state=torch.get_rng_state(),
    )


def payload(ckpt: Checkpoint) -> dict[str, Any]:
    """What ``save_checkpoint`` writes, spelled out: the file format as tests know it."""
    return {
        "format": "cnn-tui-checkpoint/1",
        "model": "Net",
        "model_state": ckpt.model_state,
        "optimizer_state": ckpt.optimizer_state,
        "hparams": ckpt.hparams.to_dict(),
        "seed": ckpt.seed,
        "dataset": ckpt.dataset,
        "progress": vars(ckpt.progress),
        "rng_state": ckpt.rng_state,
    }


VALID = payload(valid_checkpoint())


def valid_payload() -> dict[str, Any]:
    """A fresh deep copy of a valid payload, to change at will."""
    return copy.deepcopy(VALID)
