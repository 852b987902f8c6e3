"""Atomic checkpoint save and safe load.

A checkpoint is one ``torch.save``'d dict of tensors and plain values (so it loads with
``weights_only=True``: no code runs on load). It is written to a temporary file in the same
directory, fsync'd and renamed over the old one, so a crash mid-save never loses the last good
checkpoint. ``load_checkpoint`` also accepts the tutorial's own ``model.pth`` (a bare state
dict of ``Net``): its weights, with training starting from epoch 1.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnn_tui.config import HyperParams
from cnn_tui.model import state_dict_matches

FORMAT = "cnn-tui-checkpoint/1"
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; ``str(err)`` is one line saying what to do."""


@dataclass
class Progress:
    """Where a run is: enough to continue it exactly, batch for batch."""

    epoch: int = 1  # the epoch in progress (epochs + 1 once all are done)
    position: int = 0  # examples of this epoch already trained on
    batch_index: int = 0
    train_correct: int = 0
    train_seen: int = 0
    last_tested: int = -1  # the last epoch whose test pass finished (0: before training)
    train_seconds: float = 0.0
    probe_index: int = 0
    train_history: list[list[float]] = field(default_factory=list)  # [seen, loss]
    test_history: list[list[float]] = field(default_factory=list)  # [epoch, seen, loss, ok, n]
    hparam_history: list[list[Any]] = field(default_factory=list)  # [seen, summary]


@dataclass
class Checkpoint:
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any] | None
    hparams: HyperParams
    seed: int
    dataset: str
    progress: Progress
    rng_state: torch.Tensor | None
    source: Path | None = None
    is_bare_state_dict: bool = False


def save_checkpoint(path: Path, ckpt: Checkpoint) -> None:
    """Write ``ckpt`` to ``path`` atomically (temp file + fsync + rename)."""
    payload = {
        "format": FORMAT,
        "model": "Net",
        "model_state": ckpt.model_state,
        "optimizer_state": ckpt.optimizer_state,
        "hparams": ckpt.hparams.to_dict(),
        "seed": ckpt.seed,
        "dataset": ckpt.dataset,
        "progress": vars(ckpt.progress),
        "rng_state": ckpt.rng_state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def checkpoint_path(path: Path) -> Path:
    """A run directory stands for the checkpoint inside it."""
    return path / CHECKPOINT_NAME if path.is_dir() else path


def load_checkpoint(path: Path) -> Checkpoint:
    """Load and check a checkpoint (or a run directory holding one), with weights_only=True."""
    file = checkpoint_path(path)
    if not file.exists():
        raise CheckpointError(f"no checkpoint at {file}: check the path given to --resume")
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{file} is not a readable checkpoint ({first[:120]}): pass a file cnn-tui wrote"
        ) from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{file} holds a {type(payload).__name__}, not a checkpoint")
    if payload.get("format") != FORMAT:
        return _from_bare_state_dict(file, payload)
    reason = state_dict_matches(payload.get("model_state", {}))
    if payload.get("model") != "Net" or reason:
        raise CheckpointError(
            f"{file} is a checkpoint of another model ({reason or payload.get('model')}): "
            "resume from a checkpoint of the tutorial's Net"
        )
    return Checkpoint(
        model_state=payload["model_state"],
        optimizer_state=payload.get("optimizer_state"),
        hparams=HyperParams.from_dict(payload["hparams"]),
        seed=int(payload["seed"]),
        dataset=str(payload["dataset"]),
        progress=Progress(**payload["progress"]),
        rng_state=payload.get("rng_state"),
        source=file,
    )


def _from_bare_state_dict(file: Path, payload: dict[str, Any]) -> Checkpoint:
    reason = state_dict_matches(payload)
    if reason:
        raise CheckpointError(
            f"{file} is not a checkpoint of the tutorial's Net ({reason}): "
            "resume from a cnn-tui checkpoint or the tutorial's model.pth"
        )
    return Checkpoint(
        model_state=payload,
        optimizer_state=None,
        hparams=HyperParams(),
        seed=1,
        dataset="mnist",
        progress=Progress(),
        rng_state=None,
        source=file,
        is_bare_state_dict=True,
    )
