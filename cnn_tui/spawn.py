"""Start a run in the background: its own session, no terminal, and a word when it is up.

``start_background(argv)`` runs ``python -m cnn_tui ARGV --background`` in a new session
(so a hang-up of this terminal never reaches it) with stdin from /dev/null, and waits on a
private socket for the run to say it is ready — its id, directory and pid — or, in one line, why it
could not start (a bad flag, a missing data file, a live run directory). What it prints
later goes to ``RUN_DIR/output.log``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

READY_ENV = "CNN_TUI_READY_SOCKET"  # where a run in the background says it is up

START_TIMEOUT_S = 300.0  # a first run may download MNIST


class StartFailed(Exception):
    """The run did not start; ``str(err)`` is one line saying why."""


@dataclass(frozen=True)
class Started:
    id: str
    run_dir: Path
    pid: int
    process: subprocess.Popen[bytes]


def start_background(argv: list[str], *, nproc: int = 1) -> Started:
    """Start ``cnn-tui ARGV`` as a background run and wait until it is up."""
    return launch(argv, nproc=nproc).wait()


def launch(argv: list[str], *, owner: bool = False, nproc: int = 1) -> Pending:
    """Start ``cnn-tui ARGV`` as a background run; with ``owner``, it waits for a monitor.

    Returns at once: the caller may get on with its own start-up (a monitor imports its
    screens meanwhile) and then :meth:`Pending.wait` for the run. With ``nproc`` > 1 the
    run is a torchrun job (:mod:`cnn_tui.torchrun`); its rank 0 says when it is ready.
    """
    from cnn_tui.torchrun import job_command, job_env

    flags = ["--background"] + (["--wait-for-owner"] if owner else [])
    early = tempfile.TemporaryFile()  # noqa: SIM115  what it says before it knows its run dir
    listener = ReadyListener()
    command = [sys.executable, "-m", "cnn_tui", *argv, *flags]
    env = dict(os.environ)
    if nproc > 1:
        command, env = job_command([*argv, *flags], nproc), job_env(nproc)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=early,
        stderr=early,
        env={**env, READY_ENV: str(listener.path)},
        start_new_session=True,
    )
    return Pending(process, listener, early)


@dataclass
class Pending:
    """A run starting in the background."""

    process: subprocess.Popen[bytes]
    listener: ReadyListener
    early: IO[bytes]

    def wait(self) -> Started:
        """The run's id, directory and pid once it is up; StartFailed saying why if not."""
        try:
            message = self.listener.wait(self.process)
        finally:
            self.listener.close()
        if message is None:
            self.process.wait()
            self.early.seek(0)
            said = self.early.read().decode(errors="replace").strip().splitlines()
            last = said[-1] if said else f"exit status {self.process.returncode}"
            raise StartFailed(f"the run stopped while starting: {last}")
        if not message.get("ready"):
            self.process.wait()
            raise StartFailed(str(message.get("error", "the run could not start")))
        run_dir = Path(message["run_dir"])
        return Started(str(message["id"]), run_dir, int(message["pid"]), self.process)


class ReadyListener:
    """A private Unix socket on which a starting run says it is ready (or why it is not).

    A socket rather than an inherited pipe, because torchrun does not pass descriptors on
    to its ranks; the environment, which names the socket, it does pass.
    """

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="cnn-tui-start-")  # 0700
        self.path = Path(self._dir) / "ready.sock"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        self._sock.listen(1)

    def close(self) -> None:
        self._sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def wait(self, process: subprocess.Popen[bytes]) -> dict[str, Any] | None:
        """The run's message, or None if ``process`` ended without one."""
        pidfd = os.pidfd_open(process.pid)
        try:
            listening = self._sock.fileno()
            readable, _, _ = select.select([listening, pidfd], [], [], START_TIMEOUT_S)
        finally:
            os.close(pidfd)
        if not readable:
            raise StartFailed(f"the run did not start within {START_TIMEOUT_S:.0f} s")
        if listening not in readable:
            return None
        conn, _ = self._sock.accept()
        with conn, conn.makefile("rb") as lines:
            conn.settimeout(30)
            try:
                message = json.loads(lines.readline(1 << 16))
            except (OSError, ValueError):
                return None
        return message if isinstance(message, dict) else None
