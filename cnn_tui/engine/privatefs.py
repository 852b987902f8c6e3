"""Folders and files only their owner can read, and the one-line form of a failed write.

A run directory holds a user's weights and history, and a later version puts a control
socket there, so everything cnn-tui creates is private whatever the umask: folders 0700,
files 0600 (``os.open`` with the mode, then ``chmod`` where the umask took bits away or an
older file was wider). :class:`WriteFailed` is an ``OSError`` met while writing, told as
"cannot write PATH: REASON" with the operating system's own reason ("no space left on
device"), so every front end can say it in one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


class WriteFailed(Exception):
    """Writing ``path`` failed; ``str(err)`` is "cannot write PATH: REASON"."""

    def __init__(self, path: Path, err: OSError) -> None:
        self.path = path
        self.reason = os_reason(err)
        self.errno = err.errno
        super().__init__(f"cannot write {path}: {self.reason}")


def os_reason(err: OSError) -> str:
    """The operating system's words for ``err``, lower-case: "no space left on device"."""
    text = err.strerror or str(err) or type(err).__name__
    return text[:1].lower() + text[1:]


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as 0700 folders (existing ones are left as
    they are). Raises OSError; FileExistsError when something not a folder is in the way."""
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        if probe.exists() or probe.is_symlink():
            raise FileExistsError(17, "File exists (not a folder)", str(probe))
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made by someone else meanwhile: theirs, leave its mode alone
        os.chmod(folder, DIR_MODE)  # the umask may have taken bits away


def open_private(path: Path, flags: int) -> int:
    """``os.open(path, flags | O_CREAT, 0o600)`` and make sure the file is 0600."""
    fd = os.open(path, flags | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        make_fd_private(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_fd_private(fd: int) -> None:
    if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
        os.fchmod(fd, FILE_MODE)


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (replacing what was there) as a 0600 file; raises OSError."""
    data = text.encode("utf-8")
    fd = open_private(path, os.O_WRONLY | os.O_TRUNC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
