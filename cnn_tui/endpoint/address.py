"""Where a run's control socket lives, and who may talk through it.

The socket is ``RUN_DIR/control.sock``. A Unix socket's address holds at most 107 bytes, so
a deep run directory gets its socket in a private runtime directory instead
(``$XDG_RUNTIME_DIR/cnn-tui``, else ``/tmp/cnn-tui-<uid>``, created 0700 and refused if
someone else owns it or can write to it), with ``control.sock`` in the run directory a
symbolic link to it; clients follow the link. Both ends check the other's uid with
``SO_PEERCRED``: a run answers only its owner, and a viewer trusts only a run of its own.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import struct
import tempfile
from pathlib import Path

SOCKET_NAME = "control.sock"
MAX_ADDRESS = 107  # bytes in sun_path, less the terminating NUL


class AddressError(OSError):
    """No safe place for the socket, or a peer that is not who it must be."""


def socket_path(run_dir: Path) -> Path:
    """Where the run in ``run_dir`` should bind its socket (see the module's docstring)."""
    direct = run_dir.absolute() / SOCKET_NAME
    if fits(direct):
        return direct
    digest = hashlib.sha256(str(run_dir.absolute()).encode()).hexdigest()[:16]
    return private_runtime_dir() / f"{digest}.sock"


def resolve(run_dir: Path) -> Path:
    """The address a client connects to: the link's target when the socket lives elsewhere."""
    link = run_dir.absolute() / SOCKET_NAME
    return Path(os.readlink(link)) if link.is_symlink() else link


def fits(path: Path) -> bool:
    return len(os.fsencode(path)) <= MAX_ADDRESS


def private_runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = (
        Path(base) / "cnn-tui" if base else Path(tempfile.gettempdir()) / f"cnn-tui-{os.getuid()}"
    )
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = root.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise AddressError(f"{root} is not a directory of yours: set XDG_RUNTIME_DIR")
    if info.st_mode & 0o077:
        raise AddressError(f"{root} is open to other users (mode {info.st_mode & 0o777:o})")
    return root


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def check_peer(uid: int, *, expected: int | None = None, who: str = "peer") -> None:
    """Refuse a peer that is not the expected user (this process's, by default)."""
    want = os.getuid() if expected is None else expected
    if uid != want:
        raise AddressError(f"the {who} runs as uid {uid}, not {want}: refused")
