"""Forking a run: this exact point — weights, optimizer, RNG, position — as a new run.

The fork's directory sits beside the parent's (``<parent>-fork1``, ``-fork2``, …), private,
with a checkpoint of the moment the request was taken at a step boundary; resuming it with
other hyperparameters (``cnn-tui --resume FORK --lr 0.1``) is the branch. The parent's own
checkpoint is never touched. Weights that diverged are refused: lowering lr and resuming is
the way out of those.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.engine.checkpoint import CHECKPOINT_NAME, save_checkpoint
from cnn_tui.engine.events import CommandRejected, Forked
from cnn_tui.engine.privatefs import make_private_dir, os_reason

if TYPE_CHECKING:
    from cnn_tui.engine.trainer import Trainer


def next_fork_dir(parent: Path) -> Path:
    n = 1
    while (candidate := parent.with_name(f"{parent.name}-fork{n}")).exists():
        n += 1
    return candidate


def fork(trainer: Trainer) -> Forked | CommandRejected:
    """Save the trainer's state as a new run directory; what happened, as an event."""
    if trainer.checkpoint_file is None:
        return CommandRejected("fork", "this run writes no files to fork from")
    if not trainer.forkable:
        return CommandRejected("fork", "the weights diverged: lower lr and resume instead")
    parent = trainer.checkpoint_file.parent
    target = next_fork_dir(parent)
    try:
        make_private_dir(target)
        save_checkpoint(target / CHECKPOINT_NAME, trainer.snapshot())
    except OSError as err:
        return CommandRejected("fork", f"cannot write {target}: {os_reason(err)}")
    p = trainer.progress
    return Forked(str(target), str(parent), p.epoch, trainer.examples_seen)
