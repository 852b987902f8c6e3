"""Host a run: hold its directory, record and register it, serve its endpoint, train.

Every training process goes through :func:`host_run`, whoever started it — ``--headless``
in a terminal or a pipe, the background process of ``--detach``, or the one a monitor
starts and then watches as a viewer. It takes the run directory's lock (a live directory
is refused), writes ``run.json`` and registers the run so ``cnn-tui runs`` finds it,
serves ``RUN_DIR/control.sock``, and trains with the headless printer as one more sink.

A run started in the background says it is ready (or why it cannot start, in one line)
on the socket named by ``CNN_TUI_READY_SOCKET``, then writes its output to
``RUN_DIR/output.log``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from cnn_tui.config import RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.endpoint.server import Endpoint
from cnn_tui.engine.checkpoint import Checkpoint
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import Sink, Tee
from cnn_tui.engine.privatefs import open_private, os_reason
from cnn_tui.engine.rundir import RunDirError, resolve_run_dir
from cnn_tui.engine.session import Run, open_run
from cnn_tui.engine.system import Sampler, start_sampler
from cnn_tui.engine.world import World
from cnn_tui.headless import HeadlessPrinter, run_headless
from cnn_tui.notify import Notifier
from cnn_tui.runs.lock import RunBusy, RunLock
from cnn_tui.runs.record import RunRecord, read_record
from cnn_tui.runs.recorder import RunRecorder
from cnn_tui.runs.registry import new_id, register
from cnn_tui.spawn import READY_ENV

OUTPUT_NAME = "output.log"
OWNER_WAIT_S = 60.0
VISUAL_EVERY = 50  # batches between sample predictions and probes, for whoever attaches


class HostError(Exception):
    """The run cannot start here; ``str(err)`` is one line saying what to do."""


@dataclass(frozen=True)
class HostOptions:
    background: bool = False  # started by --detach or a monitor: output to output.log
    wait_for_owner: bool = False  # a monitor will attach: start training when it has
    on_hangup: str = "continue"  # what the owner's hang-up does: "continue" or "stop"
    notify: str | None = None  # a command run when the run ends, diverges or fails


def host_run(
    config: RunConfig,
    data: LoadedData,
    checkpoint: Checkpoint | None,
    device: torch.device,
    options: HostOptions = HostOptions(),
    *,
    world: World | None = None,
) -> int:
    """Train ``config`` as a hosted run; returns the exit status. ``world``: this process
    is rank 0 of a torchrun job, and the run is the job's."""
    run_dir = resolve_run_dir(config, checkpoint, data.spec.name)
    try:
        run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = RunLock(run_dir)
    except RunBusy as err:
        raise HostError(str(err)) from None
    except OSError as err:
        raise HostError(
            f"cannot use {run_dir} as the run directory ({err}): pass --run-dir"
        ) from None
    try:
        return _host(replace(config, run_dir=run_dir), data, checkpoint, device, options, world)
    finally:
        lock.release()


def _host(
    config: RunConfig,
    data: LoadedData,
    checkpoint: Checkpoint | None,
    device: torch.device,
    options: HostOptions,
    world: World | None,
) -> int:
    run_dir = config.run_dir
    assert run_dir is not None
    previous = read_record(run_dir)
    record = RunRecord(id=previous.id if previous else new_id(run_dir), run_dir=str(run_dir))
    if previous is not None:
        record.parent, record.fork_point, record.created = (
            previous.parent,
            previous.fork_point,
            previous.created,
        )
    elif (origin := _forked_from(checkpoint, run_dir)) is not None:
        assert checkpoint is not None
        p = checkpoint.progress  # --resume PARENT --run-dir NEW: NEW branches off there
        record.parent, record.fork_point = str(origin), (p.epoch - 1) * len(data.train) + p.position
    register(run_dir, record.id)
    control = Control()
    endpoint = Endpoint(
        run_dir,
        run_id=record.id,
        control=control,
        on_hangup=options.on_hangup,
        stop_when_unwatched=options.background,
    )
    notifier = Notifier(options.notify, record.id, run_dir) if options.notify else None
    sinks: list[Sink] = [RunRecorder(run_dir, record), endpoint, *([notifier] if notifier else [])]
    try:
        endpoint.start()
    except OSError as err:
        raise HostError(f"cannot serve {run_dir}'s control socket ({err})") from None
    ended = False  # the run ended as every rank's did (not by an error of this process)
    samplers: list[Sampler] = []  # what the processes cost, for the viewers
    try:
        say_ready(record, run_dir)
        if options.background:
            output_to(run_dir / OUTPUT_NAME)
        if options.wait_for_owner:
            _wait_for_owner(endpoint, starter=os.getppid())

        def open_session(printer: Sink) -> Run:
            try:
                run = open_run(
                    config,
                    data,
                    Tee([*sinks, printer]),
                    device=device,
                    checkpoint=checkpoint,
                    control=control,
                    visual_every=VISUAL_EVERY,
                    world=world,
                )
                samplers.append(start_sampler(run, endpoint.publish))
                return run
            except RunDirError as err:
                raise HostError(str(err)) from None
            except OSError as err:
                raise HostError(
                    f"cannot write the run directory ({err.filename or run_dir}: "
                    f"{os_reason(err)}): pass --run-dir with a folder you can write"
                ) from None

        status = run_headless(
            open_session,
            HeadlessPrinter(sys.stdout),
            linger=options.background,
            stop_on_divergence=not options.background,
        )
        ended = True
        return status
    finally:
        for sampler in samplers:
            sampler.stop()
        endpoint.close()
        if world is not None:
            world.close(clean=ended)
        if notifier is not None:
            notifier.finish()


def _forked_from(checkpoint: Checkpoint | None, run_dir: Path) -> Path | None:
    """The run directory a checkpoint from elsewhere belongs to (its run's), if any."""
    if checkpoint is None or checkpoint.is_bare_state_dict or checkpoint.source is None:
        return None
    origin = checkpoint.source.parent.absolute()
    return origin if origin != run_dir.absolute() and read_record(origin) is not None else None


def _wait_for_owner(endpoint: Endpoint, starter: int) -> None:
    """Until the monitor that started this run attaches, or is gone (a hang-up while it was
    still starting), or OWNER_WAIT_S pass: the run then trains on its own."""
    deadline = time.monotonic() + OWNER_WAIT_S
    while not endpoint.owner_arrived.wait(0.2):
        if os.getppid() != starter or time.monotonic() > deadline:
            return


def say_ready(record: RunRecord, run_dir: Path) -> None:
    """Tell whoever started this run in the background that it is up (once)."""
    _tell({"ready": True, "id": record.id, "run_dir": str(run_dir), "pid": os.getpid()})


def say_failed(message: str) -> None:
    """Tell whoever started this run in the background why it could not start."""
    _tell({"ready": False, "error": message})


def _tell(message: dict[str, Any]) -> None:
    path = os.environ.pop(READY_ENV, None)
    if not path:
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(path)
            sock.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass  # the starter is gone: nobody to tell


def output_to(path: Path) -> None:
    """Send this process's stdout and stderr to ``path`` (private, appended); raises OSError."""
    fd = open_private(path, os.O_WRONLY | os.O_APPEND)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
