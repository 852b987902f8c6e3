"""Atomic checkpoint save and safe load.

A checkpoint is one ``torch.save``'d dict of tensors and plain values (so it loads with
``weights_only=True``: no code runs on load). It is written to a temporary file in the same
directory, fsync'd and renamed over the old one, so a crash mid-save never loses the last good
checkpoint; the file is 0600 in a 0700 folder. ``load_checkpoint`` checks what it loaded in
full (:mod:`cnn_tui.engine.checkpoint_schema`) before anything uses it, and turns every
problem, whatever ``torch.load`` raised, into one :class:`CheckpointError` line naming the
file. It also accepts the tutorial's own ``model.pth`` (a bare state dict of ``Net``): its
weights, with training starting from epoch 1.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnn_tui.config import HyperParams
from cnn_tui.engine import checkpoint_schema
from cnn_tui.engine.checkpoint_schema import FORMAT, MODEL
from cnn_tui.engine.privatefs import make_fd_private, make_private_dir, os_reason

CHECKPOINT_NAME = "checkpoint.pt"
DIVERGED_NAME = "checkpoint-diverged.pt"


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


def payload_of(ckpt: Checkpoint) -> dict[str, Any]:
    """What ``torch.save`` writes for ``ckpt``: plain values and tensors only."""
    return {
        "format": FORMAT,
        "model": MODEL,
        "model_state": ckpt.model_state,
        "optimizer_state": ckpt.optimizer_state,
        "hparams": ckpt.hparams.to_dict(),
        "seed": ckpt.seed,
        "dataset": ckpt.dataset,
        "progress": vars(ckpt.progress),
        "rng_state": ckpt.rng_state,
    }


def save_checkpoint(path: Path, ckpt: Checkpoint) -> None:
    """Write ``ckpt`` to ``path`` atomically (temp file + fsync + rename); raises OSError."""
    payload = payload_of(ckpt)
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            make_fd_private(handle.fileno())
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def temp_prefix(name: str) -> str:
    """Temporary files of a save of ``name`` are ``.NAME.XXXXXXXX.tmp`` beside it."""
    return f".{name}."


TEMP_SUFFIX = ".tmp"


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
    """Load and check a checkpoint (or a run directory holding one), with weights_only=True.

    Whatever the file holds, the outcome is a checked :class:`Checkpoint` or a one-line
    :class:`CheckpointError` naming the file: never another exception, never code run.
    """
    file = checkpoint_path(path)
    if not file.exists():
        raise CheckpointError(f"no checkpoint at {file}: check the path given to --resume")
    payload = _read(file)
    try:
        if isinstance(payload, dict) and "format" in payload:
            return _from_payload(file, checkpoint_schema.check_payload(payload))
        state = checkpoint_schema.check_bare_state_dict(payload)
    except checkpoint_schema.Invalid as err:
        raise CheckpointError(
            f"checkpoint {file}: {err}: resume from a checkpoint cnn-tui wrote "
            "(or the tutorial's model.pth)"
        ) from None
    return Checkpoint(
        model_state=state,
        optimizer_state=None,
        hparams=HyperParams(),
        seed=1,
        dataset="mnist",
        progress=Progress(),
        rng_state=None,
        source=file,
        is_bare_state_dict=True,
    )


def _read(file: Path) -> object:
    """``torch.load`` with weights_only=True; anything it raises becomes one line."""
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": not for users
            warnings.simplefilter("ignore")
            return torch.load(file, map_location="cpu", weights_only=True)
    except OSError as err:
        raise CheckpointError(f"cannot read {file}: {os_reason(err)}") from None
    except pickle.UnpicklingError as err:
        if "Unsupported global" in str(err):
            raise CheckpointError(
                f"{file} is not a readable checkpoint: it holds Python objects, not only "
                "tensors and numbers, and cnn-tui never runs code from a checkpoint; "
                "resume from a checkpoint cnn-tui wrote (or the tutorial's model.pth)"
            ) from None
        why = "its pickle is damaged or not one torch.save wrote"
    except Exception:  # torch.load raises KeyError, RuntimeError, EOFError, ... on junk
        why = "it is not a file torch.save wrote, or it is damaged"
    raise CheckpointError(
        f"{file} is not a readable checkpoint ({why}): "
        "resume from a checkpoint cnn-tui wrote (or the tutorial's model.pth)"
    )


def _from_payload(file: Path, checked: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        model_state=checked["model_state"],
        optimizer_state=checked["optimizer_state"],
        hparams=checked["hparams"],
        seed=checked["seed"],
        dataset=checked["dataset"],
        progress=Progress(**checked["progress"]),
        rng_state=checked["rng_state"],
        source=file,
    )
