"""``cnn-tui --nproc N``: the run as a torchrun job, started with PyTorch's own launcher.

``cnn-tui --nproc N [options]`` is ``torchrun --standalone --nproc-per-node N -m cnn_tui
[options]``: :func:`job_command` builds that command line and the front end runs it where it
would have run ``python -m cnn_tui`` (in the foreground with ``--headless``, in the
background for the monitor and ``--detach``). ``--standalone`` gives each job a rendezvous
on a free port of its own, so two jobs on one box never collide.

``python -m cnn_tui.torchrun ARGS`` is torchrun's ``main(ARGS)`` and nothing else, save
what it says: torchrun's own log lines are kept for errors that are its own, and its
exceptions become exit statuses instead of tracebacks. A signal it forwarded to the ranks
(which stop at one step and save one checkpoint) exits 128 + the signal, as a single
process does; a rank that failed gives its exit status (rank 0's first), having said why
itself.

Nothing here imports torch until a job runs: the checks are for the command line.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence

MAX_NPROC = 64


def nproc_limit(device: str) -> tuple[int, str]:
    """The most processes this box trains with on ``device``, and why that many."""
    if device.startswith("cuda") or (device == "auto" and _cuda_count() > 0):
        count = _cuda_count()
        return min(MAX_NPROC, count), f"one process per GPU ({count} here)"
    cores = cpu_cores()
    return min(MAX_NPROC, cores), f"one process per CPU core ({cores} here)"


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_nproc(nproc: int, device: str, batch_size: int | None) -> str | None:
    """Why ``--nproc nproc`` cannot run here (one line), or None."""
    if nproc < 1:
        return f"--nproc must be at least 1 (got {nproc})"
    if device == "mps" and nproc > 1:
        return "--nproc needs --device cpu or cuda: torch.distributed has no backend for mps"
    if nproc > 1 and device.startswith("cuda:"):
        return (
            f"--device {device} picks one GPU for a single process; with --nproc each rank "
            "takes its own (choose them with CUDA_VISIBLE_DEVICES)"
        )
    if nproc > MAX_NPROC:
        return f"--nproc must be at most {MAX_NPROC} (got {nproc})"
    if nproc > 1:
        limit, why = nproc_limit(device)
        if nproc > limit:
            return f"--nproc must be at most {limit}, {why} (got {nproc})"
    if batch_size is not None and batch_size % nproc:
        return batch_message(batch_size, nproc)
    return None


def batch_message(batch_size: int, nproc: int) -> str:
    return (
        f"--batch-size {batch_size} does not split over {nproc} processes: the global batch "
        f"is shared by the ranks, so use a multiple of {nproc}"
    )


def job_command(argv: Sequence[str], nproc: int) -> list[str]:
    """The command that runs ``cnn-tui ARGV`` as a job of ``nproc`` ranks on this box."""
    return [
        sys.executable,
        "-m",
        "cnn_tui.torchrun",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        "-m",
        "cnn_tui",
        *without_nproc(argv),
    ]


def without_nproc(argv: Sequence[str]) -> list[str]:
    """``argv`` less ``--nproc N`` (or an abbreviation of it): the ranks learn the job's size
    from torchrun, and torchrun's own parser would take ``--nproc`` for its
    ``--nproc-per-node``."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        name = arg.split("=", 1)[0]
        if skip:
            skip = False
        elif len(name) >= 4 and "--nproc".startswith(name):
            skip = "=" not in arg
        else:
            kept.append(arg)
    return kept


def job_env(nproc: int) -> dict[str, str]:
    """The environment for a job: each rank's share of the CPU cores (torchrun would say
    it sets 1, and it would, in a banner)."""
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, cpu_cores() // nproc))
    return env


def run_job(args: Sequence[str]) -> int:
    """torchrun's ``main(args)``; its exceptions as exit statuses (see the module)."""
    level = os.environ.get("LOGLEVEL")
    os.environ["LOGLEVEL"] = "ERROR"  # torchrun's loggers take their level when imported
    try:
        from torch.distributed.elastic.multiprocessing.api import SignalException
        from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
        from torch.distributed.run import main as torchrun_main
    finally:
        if level is None:
            os.environ.pop("LOGLEVEL", None)
        else:
            os.environ["LOGLEVEL"] = level
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("torch.distributed.elastic"):  # "Sending process 7 closing signal"
            logging.getLogger(name).setLevel(logging.ERROR)
    try:
        torchrun_main(list(args))
    except SignalException as stop:
        return 128 + int(stop.sigval)
    except ChildFailedError as failed:
        first = failed.failures[min(failed.failures)]
        code = first.exitcode
        return 128 - code if code < 0 else code
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    return 0


def main() -> int:
    return run_job(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
