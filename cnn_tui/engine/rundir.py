"""The run directory: where it is, whether it can be used, and what a run leaves behind.

The CLI resolves and prepares the run directory before any screen opens, so a bad one is a
one-line :class:`RunDirError` (exit 2), not a traceback inside the monitor. A usable run
directory is a folder (created 0700 if missing) that we can write and that nobody else can:
an existing one with a group or other write bit is refused, never silently chmod-ed, since
others could replace its files (and a later version listens on a socket there). Opening a
run also removes the temporary files that a save killed midway left behind (only ours:
``.checkpoint.pt.XXXXXXXX.tmp`` and the diverged checkpoint's).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cnn_tui.engine.checkpoint import (
    CHECKPOINT_NAME,
    DIVERGED_NAME,
    TEMP_SUFFIX,
    Checkpoint,
    temp_prefix,
)
from cnn_tui.engine.privatefs import make_private_dir, os_reason

if TYPE_CHECKING:
    from cnn_tui.config import RunConfig


class RunDirError(Exception):
    """A run directory that cannot be used; ``str(err)`` is one line saying what to do."""


def default_runs_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cnn-tui" / "runs"


def new_run_dir(dataset: str, base: Path | None = None) -> Path:
    root = base or default_runs_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{stamp}-{dataset}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{dataset}-{n}"
    return candidate


def resolve_run_dir(config: RunConfig, checkpoint: Checkpoint | None, dataset: str) -> Path:
    """``--run-dir``, else the resumed checkpoint's folder, else a new folder under the
    default runs directory."""
    return config.run_dir or _resume_dir(checkpoint) or new_run_dir(dataset)


def _resume_dir(checkpoint: Checkpoint | None) -> Path | None:
    """Continue writing beside the checkpoint when it lies in a run directory of ours."""
    if checkpoint is None or checkpoint.source is None or checkpoint.is_bare_state_dict:
        return None
    return checkpoint.source.parent


def prepare_run_dir(path: Path, *, create: bool = True) -> None:
    """Make sure ``path`` is a private folder we can write, creating it (0700) if missing
    (with ``create=False``, a missing one is left for later)."""
    hint = "pass --run-dir with another folder"
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise RunDirError(f"cannot use run directory {path}: {os_reason(err)}: {hint}") from None
    if info is None:
        if not create:
            return
        try:
            make_private_dir(path)
        except OSError as err:
            raise RunDirError(
                f"cannot create run directory {path}: {os_reason(err)}: {hint}"
            ) from None
        return
    if not stat.S_ISDIR(info.st_mode):
        raise RunDirError(f"run directory {path} is a file, not a folder: {hint}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        shared = mode & stat.S_ISVTX  # a shared folder such as /tmp: not one to chmod
        fix = "" if shared else f"make it private (chmod go-w {path}) or "
        raise RunDirError(
            f"run directory {path} can be written by other users (mode {mode:o}): {fix}{hint}"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunDirError(f"cannot write run directory {path}: permission denied: {hint}")


def remove_stale_temp_files(path: Path) -> int:
    """Remove the temporary files of saves that never finished; return how many."""
    removed = 0
    for name in (CHECKPOINT_NAME, DIVERGED_NAME):
        for leftover in path.glob(f"{_escape(temp_prefix(name))}*{TEMP_SUFFIX}"):
            try:
                if leftover.is_file() and not leftover.is_symlink():
                    leftover.unlink()
                    removed += 1
            except OSError:
                continue  # not ours to fight over; the next start tries again
    return removed


def _escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
