"""What ``python -m cnn_tui`` does as one rank of a torchrun job.

Every rank reads the same flags and checkpoint, joins the job's process groups
(:func:`~cnn_tui.engine.ddp.world.join`), loads the data onto its own device and trains its
share of each batch. Rank 0 is the run: it hosts it exactly as a single process does (lock,
``run.json``, registry, endpoint, events, checkpoints, the readiness message, the headless
printer). The other ranks follow (:func:`follow`): they train and obey, print nothing but
errors, and write nothing — in the background, their errors go to the run's output.log.

Rank 0 loads the data first (it may download it); the others wait for its word in the
job's store and then read the same files.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from cnn_tui.engine.ddp.launch import Launch

if TYPE_CHECKING:
    from cnn_tui.config import RunConfig
    from cnn_tui.data import LoadedData
    from cnn_tui.engine.checkpoint import Checkpoint
    from cnn_tui.engine.ddp.world import Distributed
    from cnn_tui.engine.events import Event

DATA_KEY = "data-loaded"
RUN_DIR_KEY = "run-dir"


@dataclass
class RankError(Exception):
    """Why this rank cannot train; ``str(err)`` is one line."""

    message: str

    def __str__(self) -> str:
        return self.message


def check_job(launch: Launch, nproc: int | None, batch_size: int, device: str) -> str | None:
    """Why the job torchrun started cannot train these settings (one line), or None."""
    from cnn_tui.torchrun import batch_message

    if nproc is not None and nproc != launch.size:
        return f"--nproc {nproc} does not match the {launch.size} processes torchrun started"
    if device == "mps":
        return "a torchrun job trains on --device cpu or cuda: torch.distributed has no mps"
    if device.startswith("cuda:"):
        return f"--device {device} picks one GPU; each rank of a job takes cuda:LOCAL_RANK"
    if batch_size % launch.size:
        return batch_message(batch_size, launch.size)
    return None


def join_job(launch: Launch, device_kind: str) -> Distributed:
    from cnn_tui.engine.ddp.world import join

    if device_kind == "cuda":
        import torch

        if launch.local_rank >= torch.cuda.device_count():
            raise RankError(
                f"rank {launch.rank} needs cuda:{launch.local_rank}, and this node has "
                f"{torch.cuda.device_count()} GPU(s): start at most that many per node"
            )
    return join(launch, device_kind)


def announce_run_dir(world: Distributed, run_dir: Path) -> None:
    world.board.set(RUN_DIR_KEY, str(run_dir))


def data_loaded(world: Distributed) -> None:
    """Rank 0 has the data (downloaded if it had to be): the others may read it now."""
    world.board.set(DATA_KEY, "1")


def wait_for_data(world: Distributed) -> None:
    from cnn_tui.engine.ddp.world import wait_for_key

    wait_for_key(world.board, DATA_KEY)


def follow(
    config: RunConfig,
    data: LoadedData,
    checkpoint: Checkpoint | None,
    world: Distributed,
    *,
    background: bool,
) -> int:
    """Train as a rank other than 0 until the run ends; the exit status.

    SIGINT and SIGTERM ask the courier to stop: every rank stops at one step, rank 0 saves.
    """
    from cnn_tui.engine.control import Control
    from cnn_tui.engine.events import Failed, RunState
    from cnn_tui.engine.session import open_run
    from cnn_tui.engine.system import Sampler, start_sampler

    if background:
        _output_to_run_dir(world)
    source = Control()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        source.stop()

    def sink(event: Event) -> None:
        if isinstance(event, Failed):
            print(f"cnn-tui: rank {world.rank}: training failed: {event.message}", file=sys.stderr)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    clean = False
    samplers: list[Sampler] = []
    try:
        run = open_run(
            config,
            data,
            sink,
            device=world.device,
            checkpoint=checkpoint,
            control=source,
            visual_every=0,
            write_files=False,
            world=world,
        )
        samplers.append(start_sampler(run, None))
        state = run.run(linger=background)
        clean = state in (RunState.DONE, RunState.STOPPED)
    except Exception as err:
        print(f"cnn-tui: rank {world.rank}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sampler in samplers:
            sampler.stop()
        world.close(clean=clean)
    return 128 + received[0] if received else 0


def _output_to_run_dir(world: Distributed) -> None:
    """In the background, this rank's errors go where rank 0's output goes."""
    from cnn_tui.engine.ddp.world import wait_for_key
    from cnn_tui.host import OUTPUT_NAME, output_to

    wait_for_key(world.board, RUN_DIR_KEY)
    with contextlib.suppress(OSError):  # then its errors stay where torchrun put them
        output_to(Path(world.board.get(RUN_DIR_KEY).decode()) / OUTPUT_NAME)
