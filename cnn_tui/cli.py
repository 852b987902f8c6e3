"""Command line: flags → RunConfig → the Textual monitor, or the headless runner.

``cnn-tui`` opens the monitor when stdout is a terminal and runs headless otherwise (or with
``--headless``). ``cnn-tui export RUN_DIR --csv`` turns a run's event log into CSV files.
Every bad value ends in one line on stderr and exit status 2; bounds come from ``config``.
The run directory is checked (and created) before any screen opens. SIGINT and SIGTERM
before training starts (while data loads) end the process with one line and 130 / 143.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from cnn_tui import __version__
from cnn_tui.config import (
    BOUNDS,
    DATASET_NAMES,
    DEVICES,
    SEED_BOUND,
    ConfigError,
    RunConfig,
    parse_bounded,
)

EXIT_BAD_INPUT = 2
HPARAM_FLAGS = ("epochs", "batch_size", "test_batch_size", "lr", "momentum", "log_interval")


class UsageError(Exception):
    """Bad input from the user: one line, exit status 2."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM before training started (a BaseException: nothing may swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cnn-tui",
        description="Train the PyTorch MNIST tutorial's CNN and watch it learn in the terminal.",
        epilog="Also: cnn-tui export RUN_DIR --csv   (write a run's metrics as CSV files)",
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
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
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
        "--offline", action="store_true", help="never try to download (env CNN_TUI_OFFLINE=1)"
    )
    parser.add_argument("--version", action="version", version=f"cnn-tui {__version__}")
    return parser


def _default(name: str) -> Any:
    from cnn_tui.config import HyperParams

    return getattr(HyperParams(), name)


def build_export_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cnn-tui export", description="Write a run's metrics as CSV files.")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--csv", action="store_true", help="CSV (the only format, the default)")
    parser.add_argument("--out", type=Path, help="folder for the files (default: RUN_DIR)")
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
    try:
        if argv[:1] == ["export"]:
            return _export(build_export_parser().parse_args(argv[1:]))
        return _run(build_parser().parse_args(argv))
    except UsageError as err:
        print(f"cnn-tui: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as stop:
        name = signal.Signals(stop.signum).name
        print(f"cnn-tui: stopped by {name} before training started", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("cnn-tui: interrupted", file=sys.stderr)
        return 130


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

    try:
        exported = export_csv(args.run_dir, args.out)
    except RunLogError as err:
        raise UsageError(str(err)) from None
    for note in exported.notes:
        print(f"cnn-tui: note: {note}", file=sys.stderr)
    for path in exported.paths:
        print(path)
    return 0


def _run(args: argparse.Namespace) -> int:
    with _signals_interrupt():
        start, headless = _prepare(args)
        if headless:  # run_headless takes the signals over from here
            return start()
    return start()  # the monitor handles its own signals


def _prepare(args: argparse.Namespace) -> tuple[Callable[[], int], bool]:
    """Everything before training: checkpoint, flags, run directory, data. Returns the
    front end, ready to start, and whether it is the headless one."""
    from cnn_tui.engine.device import reserve_threads_for_engine, resolve_device

    headless = args.headless or not sys.stdout.isatty()
    engine_threads = None if headless else reserve_threads_for_engine()
    # torchvision (behind cnn_tui.data) takes seconds to import: not before the checks
    from cnn_tui.engine.checkpoint import CheckpointError, load_checkpoint
    from cnn_tui.engine.rundir import RunDirError, prepare_run_dir, resolve_run_dir
    from cnn_tui.idx import DataError

    try:
        checkpoint = load_checkpoint(args.resume) if args.resume is not None else None
        config = parse_run_config(args, checkpoint)
        run_dir = resolve_run_dir(config, checkpoint, config.dataset)
        prepare_run_dir(run_dir, create=False)  # refuse a bad one before the data loads
        config = dataclasses.replace(config, run_dir=run_dir)
        device = resolve_device(config.device)
        from cnn_tui.data import load_data

        data = load_data(
            config.dataset,
            device=str(device),
            data_dir=config.data_dir,
            offline=config.offline,
            progress=_stderr_progress,
        )
        prepare_run_dir(run_dir)
    except (CheckpointError, DataError, RunDirError) as err:
        raise UsageError(str(err)) from None
    except ConfigError as err:
        raise UsageError(f"--{err.field.replace('_', '-')} {err.reason}") from None
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
    if headless:
        return (lambda: _run_headless(config, data, checkpoint, device)), True
    from cnn_tui.tui.launch import run_app

    return (lambda: run_app(config, data, checkpoint, device, engine_threads)), False


def _stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run_headless(config: RunConfig, data: Any, checkpoint: Any, device: Any) -> int:
    from cnn_tui.engine.events import Sink
    from cnn_tui.engine.privatefs import os_reason
    from cnn_tui.engine.rundir import RunDirError
    from cnn_tui.engine.session import Run, open_run
    from cnn_tui.headless import HeadlessPrinter, run_headless

    def open_session(sink: Sink) -> Run:
        try:
            return open_run(
                config, data, sink, device=device, checkpoint=checkpoint, visual_every=0
            )
        except RunDirError as err:
            raise UsageError(str(err)) from None
        except OSError as err:
            where = err.filename or config.run_dir
            raise UsageError(
                f"cannot write the run directory ({where}: {os_reason(err)}): "
                "pass --run-dir with a folder you can write"
            ) from None

    return run_headless(open_session, HeadlessPrinter(sys.stdout))
