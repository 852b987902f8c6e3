"""Command line: flags → RunConfig → a run, and the monitor or the tutorial's lines.

``cnn-tui`` starts the run in a process of its own and opens the monitor on it when stdout
is a terminal; ``--headless`` (or a stdout that is not a terminal) trains here and prints
the tutorial's lines; ``--detach`` starts the run in the background and returns. Every run
serves its endpoint (``host.py``). ``cnn-tui attach | runs | stop | serve`` work on runs
that exist (``cli_runs.py``); ``cnn-tui export RUN_DIR --csv`` turns a run's event log
into CSV files.
Every bad value ends in one line on stderr and exit status 2; bounds come from ``config``.
The run directory is checked (and created) before any screen opens. SIGINT and SIGTERM
before training starts (while data loads) end the process with one line and 130 / 143.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from cnn_tui import __version__, rank
from cnn_tui.cli_parsing import EXIT_BAD_INPUT, Parser, UsageError
from cnn_tui.config import (
    BOUNDS,
    DATASET_NAMES,
    DEVICES,
    SEED_BOUND,
    ConfigError,
    RunConfig,
    parse_bounded,
)

if TYPE_CHECKING:
    from cnn_tui.engine.ddp.launch import Launch
    from cnn_tui.engine.ddp.world import Distributed

HPARAM_FLAGS = ("epochs", "batch_size", "test_batch_size", "lr", "momentum", "log_interval")


class Interrupted(BaseException):
    """SIGINT or SIGTERM before training started (a BaseException: nothing may swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cnn-tui",
        description="Train the PyTorch MNIST tutorial's CNN and watch it learn in the terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for name in HPARAM_FLAGS:
        bound = BOUNDS[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar="N" if bound.kind is int else "X",
            help=f"{bound.help} {bound.describe()} (tutorial: {_default(name)})",
        )
    parser.add_argument("--seed", help=f"random seed {SEED_BOUND.describe()} (tutorial: 1)")
    parser.add_argument(
        "--device",
        type=_device,
        default="auto",
        metavar="{" + ",".join(DEVICES) + ",cuda:N}",
        help="default: auto; cuda:N picks GPU N for a single process",
    )
    parser.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="train with N processes on this box: PyTorch DDP launched by torchrun (gloo on "
        "CPU, nccl on CUDA, one GPU per rank); the global batch stays --batch-size, each "
        "rank computing 1/N of it (tutorial: 64 = 2 x 32 with --nproc 2); default 1",
    )
    parser.add_argument(
        "--dataset", choices=sorted(DATASET_NAMES), help="default: mnist (or the resumed run's)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder holding MNIST/raw/… in torchvision's layout (env CNN_TUI_DATA)",
    )
    parser.add_argument("--run-dir", type=Path, help="where checkpoints and events.jsonl go")
    parser.add_argument("--resume", type=Path, metavar="PATH", help="checkpoint or run dir")
    parser.add_argument("--headless", action="store_true", help="print lines, no screen")
    parser.add_argument(
        "--detach", action="store_true", help="start the run in the background and return"
    )
    parser.add_argument(
        "--on-hangup",
        choices=("continue", "stop"),
        default="continue",
        help="when the monitor's terminal goes away (SSH dropped): default continue",
    )
    parser.add_argument(
        "--notify", metavar="CMD", help="shell command run when the run ends, diverges or fails"
    )
    parser.add_argument(
        "--compare", nargs="+", metavar="RUN", default=[], help="other runs on the charts"
    )
    parser.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--wait-for-owner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--offline", action="store_true", help="never try to download (env CNN_TUI_OFFLINE=1)"
    )
    parser.add_argument("--version", action="version", version=f"cnn-tui {__version__}")
    return parser


def _device(text: str) -> str:
    from cnn_tui.config import is_device

    if not is_device(text):
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(DEVICES)} or cuda:N")
    return text


def _default(name: str) -> Any:
    from cnn_tui.config import HyperParams

    return getattr(HyperParams(), name)


def build_export_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cnn-tui export",
        description="Write a run's metrics as CSV files, or as TensorBoard event files.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--csv", action="store_true", help="CSV files (the default)")
    parser.add_argument("--out", type=Path, help="folder for the CSV files (default: RUN_DIR)")
    parser.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="TensorBoard event files in DIR (needs: pip install 'cnn-tui[tensorboard]')",
    )
    return parser


def parse_run_config(args: argparse.Namespace, resumed: Any = None) -> RunConfig:
    """Flags over the resumed checkpoint's settings over the tutorial's defaults."""
    from cnn_tui.config import HyperParams

    base = resumed.hparams if resumed is not None else HyperParams()
    given = {n: getattr(args, n) for n in HPARAM_FLAGS if getattr(args, n) is not None}
    try:
        hparams = base.replace(**given)
        seed = parse_bounded("seed", SEED_BOUND, args.seed) if args.seed is not None else None
    except ConfigError as err:
        raise UsageError(f"--{err.field.replace('_', '-')} {err.reason}") from None
    return RunConfig(
        hparams=hparams,
        seed=int(seed if seed is not None else (resumed.seed if resumed is not None else 1)),
        device=args.device,
        dataset=args.dataset or (resumed.dataset if resumed is not None else "mnist"),
        data_dir=args.data_dir,
        run_dir=args.run_dir,
        offline=args.offline,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from cnn_tui.engine.ddp.launch import from_env

    launch = from_env()
    if launch is not None and not launch.is_main:
        return _follower_main(argv)
    try:
        if argv[:1] == ["export"]:
            return _export(build_export_parser().parse_args(argv[1:]))
        if argv[:1] and argv[0] in SUBCOMMANDS:
            return _subcommand(argv[0], argv[1:])
        return _run(build_parser().parse_args(argv), argv)
    except UsageError as err:
        _say_failed(argv, str(err))
        print(f"cnn-tui: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as stop:
        name = signal.Signals(stop.signum).name
        _say_failed(argv, f"stopped by {name} before training started")
        print(f"cnn-tui: stopped by {name} before training started", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("cnn-tui: interrupted", file=sys.stderr)
        return 130


def _follower_main(argv: list[str]) -> int:
    """A rank other than 0 of a torchrun job: rank 0 says what is wrong with the input."""
    try:
        return _run(build_parser().parse_args(argv), argv)
    except (UsageError, Interrupted) as err:
        return 128 + err.signum if isinstance(err, Interrupted) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


SUBCOMMANDS = ("attach", "runs", "stop", "serve", "compare")
EPILOG = """more:
  cnn-tui --detach [options]     start a run in the background (it outlives this terminal)
  cnn-tui runs                   your runs: id, state, epoch, best accuracy, viewers
  cnn-tui attach [RUN]           the monitor on a running run (default: the newest)
  cnn-tui stop RUN               stop a run (it saves a checkpoint)
  cnn-tui serve [RUN]            the monitor in a browser (token-protected, 127.0.0.1)
  cnn-tui compare RUN RUN...     what differs between runs, and how they did (--csv)
  cnn-tui export RUN_DIR --csv   a run's metrics as CSV files (--tensorboard DIR: event files)"""


def _subcommand(name: str, argv: list[str]) -> int:
    from cnn_tui import cli_runs

    command: Callable[[list[str]], int] = getattr(cli_runs, name)
    return command(argv)


def _say_failed(argv: list[str], message: str) -> None:
    """A run in the background tells whoever started it why it could not (one line)."""
    if "--background" in argv:
        from cnn_tui.host import say_failed

        say_failed(message)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Until training starts, SIGINT/SIGTERM raise :class:`Interrupted` (its front end then
    installs its own handling); the previous handlers are back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _export(args: argparse.Namespace) -> int:
    from cnn_tui.engine.export import RunLogError, export_csv
    from cnn_tui.engine.tensorboard import export_tensorboard, writer_class

    try:
        if args.tensorboard is not None:
            writer_class()  # a missing extra is said before anything is written
        done = []
        if args.csv or args.tensorboard is None:
            done.append(export_csv(args.run_dir, args.out))
        if args.tensorboard is not None:
            done.append(export_tensorboard(args.run_dir, args.tensorboard))
    except RunLogError as err:
        raise UsageError(str(err)) from None
    for note in dict.fromkeys(note for exported in done for note in exported.notes):
        print(f"cnn-tui: note: {note}", file=sys.stderr)
    for path in (path for exported in done for path in exported.paths):
        print(path)
    return 0


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from cnn_tui.engine.ddp.launch import from_env

    launch = from_env()
    if launch is None:  # a rank of a torchrun job trains: it never opens a monitor
        nproc = _nproc(args)
        headless = args.headless or not sys.stdout.isatty()
        if args.detach:
            return _detach([a for a in argv if a != "--detach"], nproc)
        if not (headless or args.background):
            return _monitor(argv, compared(args.compare), nproc)
        if nproc > 1:
            return _job_in_foreground(argv, nproc)
    with _signals_interrupt():
        start = _prepare(args, launch)
    return start()  # the run's own signal handling from here


def _nproc(args: argparse.Namespace) -> int:
    """``--nproc``, checked against this box before anything starts (one line if bad)."""
    from cnn_tui.torchrun import check_nproc

    nproc = 1 if args.nproc is None else args.nproc
    batch = None if args.batch_size is None else parse_run_config(args).hparams.batch_size
    problem = check_nproc(nproc, args.device, batch)
    if problem:
        raise UsageError(problem)
    return nproc


def _job_in_foreground(argv: list[str], nproc: int) -> int:
    """``--headless --nproc N``: torchrun in this process's place (Ctrl-C reaches it, and it
    passes it to the ranks); rank 0 prints the tutorial's lines here."""
    from cnn_tui.torchrun import job_command, job_env

    command = job_command(argv, nproc)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, job_env(nproc))


def _detach(argv: list[str], nproc: int = 1) -> int:
    from cnn_tui.spawn import StartFailed, start_background

    try:
        started = start_background(argv, nproc=nproc)
    except StartFailed as err:
        raise UsageError(str(err)) from None
    print(f"cnn-tui: run {started.id} started in the background (pid {started.pid})")
    print(f"  watch it:  cnn-tui attach {started.id}")
    print(f"  its output: {started.run_dir / 'output.log'}")
    return 0


def compared(names: list[str]) -> list[Path]:
    """The run directories ``--compare`` names."""
    from cnn_tui.runs.registry import RunNotFound, find_run

    try:
        return [find_run(name) for name in names]
    except RunNotFound as err:
        raise UsageError(f"--compare: {err}") from None


def _monitor(argv: list[str], compare: list[Path], nproc: int = 1) -> int:
    from cnn_tui.spawn import launch

    # it loads torch and the data while we load the screens
    pending = launch(argv, owner=True, nproc=nproc)
    from cnn_tui.tui.launch import LaunchError, run_monitor

    try:
        return run_monitor(pending, compare=compare)
    except LaunchError as err:
        raise UsageError(str(err)) from None


def _prepare(args: argparse.Namespace, launch: Launch | None = None) -> Callable[[], int]:
    """Everything before training: checkpoint, flags, run directory, data. Returns the
    run, ready to start. ``launch``: this process is a rank of a torchrun job (rank 0 hosts
    the run; the others only train, and leave the run directory to rank 0)."""
    # torchvision (behind cnn_tui.data) takes seconds to import: not before the checks
    from cnn_tui.engine.checkpoint import CheckpointError, load_checkpoint
    from cnn_tui.engine.device import resolve_device
    from cnn_tui.engine.rundir import RunDirError, prepare_run_dir, resolve_run_dir
    from cnn_tui.host import HostOptions
    from cnn_tui.idx import DataError
    from cnn_tui.runs.lock import busy_message, is_live

    hosts = launch is None or launch.is_main
    world = None
    try:
        for claimed in (args.resume, args.run_dir):  # another live run's: no more than one line
            if claimed is not None and is_live(claimed if claimed.is_dir() else claimed.parent):
                raise UsageError(busy_message(claimed if claimed.is_dir() else claimed.parent))
        checkpoint = load_checkpoint(args.resume) if args.resume is not None else None
        config = parse_run_config(args, checkpoint)
        run_dir = resolve_run_dir(config, checkpoint, config.dataset)
        if hosts:
            prepare_run_dir(run_dir, create=False)  # refuse a bad one before the data loads
            if is_live(run_dir):
                raise UsageError(busy_message(run_dir))
        config = dataclasses.replace(config, run_dir=run_dir)
        device = resolve_device(config.device)
        if launch is not None:
            world = _join(args, launch, config, device.type)
            device = world.device
            if hosts:
                rank.announce_run_dir(world, run_dir)
            else:
                rank.wait_for_data(world)
        from cnn_tui.data import load_data

        data = load_data(
            config.dataset,
            device=str(device),
            data_dir=config.data_dir,
            offline=config.offline,
            progress=_stderr_progress if hosts else None,
        )
        if world is not None and hosts:
            rank.data_loaded(world)
        if hosts:
            prepare_run_dir(run_dir)
    except (CheckpointError, DataError, RunDirError, rank.RankError) as err:
        raise UsageError(str(err)) from None
    except ConfigError as err:
        raise UsageError(f"--{err.field.replace('_', '-')} {err.reason}") from None
    if world is not None and not hosts:
        job = world
        return lambda: rank.follow(config, data, checkpoint, job, background=args.background)
    if (
        checkpoint is not None
        and checkpoint.dataset != config.dataset
        and not checkpoint.is_bare_state_dict
    ):
        print(
            f"cnn-tui: note: the checkpoint was trained on {checkpoint.dataset}; "
            f"continuing on {config.dataset}",
            file=sys.stderr,
        )
    options = HostOptions(
        background=args.background,
        wait_for_owner=args.wait_for_owner,
        on_hangup=args.on_hangup,
        notify=args.notify,
    )
    return lambda: _host(config, data, checkpoint, device, options, world)


def _join(args: argparse.Namespace, launch: Launch, config: RunConfig, kind: str) -> Distributed:
    """Check the settings against the job torchrun started, then join it."""
    problem = rank.check_job(launch, args.nproc, config.hparams.batch_size, config.device)
    if problem:
        raise UsageError(problem)
    return rank.join_job(launch, kind)


def _stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _host(
    config: RunConfig, data: Any, checkpoint: Any, device: Any, options: Any, world: Any
) -> int:
    from cnn_tui.host import HostError, host_run

    try:
        return host_run(config, data, checkpoint, device, options, world=world)
    except HostError as err:
        raise UsageError(str(err)) from None
