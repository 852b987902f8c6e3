"""A run's hold on its directory: an exclusive ``flock`` on ``RUN_DIR/lock`` for its lifetime.

The kernel drops the lock when the process ends, however it ends, so "is this run alive?"
is answered by the lock and never by a pid that may have been reused. A second run, or a
``--resume``, in a directory whose lock is held is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = "lock"


class RunBusy(Exception):
    """The directory's run is alive; ``str(err)`` says so in one line."""


class RunLock:
    """Hold ``run_dir``'s lock until :meth:`release` (or the process ends)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunBusy(busy_message(run_dir)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def busy_message(run_dir: Path) -> str:
    owner = _pid_in(run_dir / LOCK_NAME)
    return (
        f"{run_dir} belongs to a run that is still going"
        + (f" (pid {owner})" if owner else "")
        + ": attach to it with cnn-tui attach, stop it with cnn-tui stop, "
        "or pass another --run-dir"
    )


def is_live(run_dir: Path) -> bool:
    """True while a process holds ``run_dir``'s lock."""
    try:
        fd = os.open(run_dir / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _pid_in(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None
