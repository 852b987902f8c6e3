"""What the monitor costs training: headless engine vs the full app, side by side in one run.

    python benchmarks/ui_overhead.py --data-dir ../shared/data [--steps 401] [--rounds 4]

Each round trains the same ``steps`` batches from the same seed three times, alternating the
order: (h) the engine as ``cnn-tui --headless`` runs it; (u) the full Textual app at 120×40
on the headless driver (rendering everything, output discarded), events, redraws and all;
(i) the app with the inside screen open, on the pipeline pane (``--views`` adds others: the
gallery of a confusion cell's mistakes, a digit drawn on the canvas). Each measurement is a
fresh process set up as the CLI sets it up (thread settings are per process); samples/s is
measured over batches 100 to ``steps - 1``: the steady state, once the screen is open and
torch is warm (opening the inside screen is a one-time fraction of a second). Then, in one more app
run, space is pressed repeatedly while training and the time from the key to the engine's
PAUSED state is recorded.
Targets: (u)/(h) >= 0.9, each (i) within 5 % of (u), pause p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from cnn_tui.config import HyperParams, RunConfig
from cnn_tui.data import LoadedData, load_data
from cnn_tui.engine.checkpoint import Progress
from cnn_tui.engine.control import Control
from cnn_tui.engine.device import reserve_threads_for_engine
from cnn_tui.engine.events import BatchLogged, Event, RunState, StateChanged
from cnn_tui.engine.session import Run, open_run
from cnn_tui.headless import HeadlessPrinter
from cnn_tui.tui.app import CnnTuiApp

SIZE = (120, 40)
# What is pressed once the app is up, for each way of watching the inside screen.
VIEWS = {
    "pipeline": ("i", "1"),
    "gallery": ("i", "3", "enter"),
    "draw": ("i", "4", "d", *["up"] * 6, *["left"] * 4, *["right"] * 8, *["down", "left"] * 8),
}


WARMUP = 100  # batches before the clock starts: the screen is open and torch is warm


class Stopwatch:
    """A sink wrapper: times batches WARMUP to ``steps - 1``, then stops the run; notes pauses.

    It also reads the main thread's CPU clock at both ends: with the app, that is the UI
    thread, and its share of the window is what drawing takes from training's two cores.
    """

    def __init__(self, sink: Callable[[Event], None], control: Control, steps: int) -> None:
        self.sink, self.control, self.steps = sink, control, steps
        self.ui_clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
        self.start: float | None = None
        self.end: float | None = None
        self.ui_start = self.ui_end = 0.0
        self.paused_at: list[float] = []

    def __call__(self, event: Event) -> None:
        now = time.perf_counter()
        if isinstance(event, StateChanged) and event.state is RunState.PAUSED:
            self.paused_at.append(now)
        if isinstance(event, BatchLogged) and event.batch_index == WARMUP and self.start is None:
            self.start, self.ui_start = now, time.clock_gettime(self.ui_clock)
        if (
            isinstance(event, BatchLogged)
            and event.batch_index == self.steps - 1
            and self.end is None
        ):
            self.end, self.ui_end = now, time.clock_gettime(self.ui_clock)
            if self.steps > 0:
                self.control.stop()
        self.sink(event)

    @property
    def seconds(self) -> float:
        assert self.start is not None and self.end is not None, "the run never finished"
        return self.end - self.start

    @property
    def samples_per_second(self) -> float:
        return (self.steps - 1 - WARMUP) * 64 / self.seconds

    @property
    def ui_share(self) -> float:
        """The main (UI) thread's CPU seconds per second of the timed window."""
        return (self.ui_end - self.ui_start) / self.seconds


def open_measured(
    data: LoadedData, run_dir: Path, sink: Callable[[Event], None], steps: int, visual_every: int
) -> tuple[Run, Stopwatch]:
    control = Control()
    watch = Stopwatch(sink, control, steps)
    config = RunConfig(hparams=HyperParams(epochs=50), run_dir=run_dir)
    run = open_run(
        config, data, watch, device=torch.device("cpu"), control=control, visual_every=visual_every
    )
    run.trainer.progress = Progress(last_tested=0)  # no pre-training test pass in either
    return run, watch


def headless(data: LoadedData, run_dir: Path, steps: int) -> float:
    with open(os.devnull, "w") as devnull:
        printer = HeadlessPrinter(devnull)
        run, watch = open_measured(data, run_dir, printer, steps, visual_every=0)
        run.run()
    return watch.samples_per_second


def app_run(
    data: LoadedData,
    run_dir: Path,
    steps: int,
    threads: int | None,
    presses: int = 0,
    view: str | None = None,
) -> tuple[Stopwatch, list[float]]:
    """The app's timed run (samples/s, UI thread's share); with ``presses``, key-to-pause
    latencies instead."""
    watches: list[Stopwatch] = []

    def open_session(sink: Callable[[Event], None]) -> Run:
        run, watch = open_measured(data, run_dir, sink, steps if not presses else -1, 50)
        run.threads = threads
        watches.append(watch)
        return run

    app = CnnTuiApp(open_session)
    latencies: list[float] = []

    async def drive() -> None:
        async with app.run_test(size=SIZE, headless=True) as pilot:
            app.animation_level = "none"
            if view is not None:
                await pilot.press(*VIEWS[view])
            while not watches or (watches[0].end is None and not presses):
                await asyncio.sleep(0.05)
            if presses:
                rng = random.Random(1)
                await asyncio.sleep(1.0)
                for _ in range(presses):
                    await asyncio.sleep(rng.uniform(0.2, 0.5))
                    before = len(watches[0].paused_at)
                    pressed = time.perf_counter()
                    await pilot.press("space")
                    while len(watches[0].paused_at) == before:
                        await asyncio.sleep(0.001)
                    latencies.append(watches[0].paused_at[-1] - pressed)
                    await pilot.press("space")
            await pilot.press("q")

    asyncio.run(drive())
    return watches[0], latencies


def measure_one(kind: str, data_dir: Path, steps: int, presses: int) -> dict[str, Any]:
    """One measurement in this (fresh) process, set up as ``cnn-tui`` sets itself up."""
    threads = reserve_threads_for_engine() if kind != "headless" else None
    data = load_data("mnist", device="cpu", data_dir=data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "headless":
            return {"samples_per_s": headless(data, Path(tmp), steps)}
        if kind == "latency":
            return {"latencies": app_run(data, Path(tmp), steps, threads, presses)[1]}
        view = kind if kind in VIEWS else None
        watch = app_run(data, Path(tmp), steps, threads, view=view)[0]
        return {"samples_per_s": watch.samples_per_second, "ui_share": watch.ui_share}


def spawn(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--one",
        kind,
        "--data-dir",
        str(args.data_dir),
        "--steps",
        str(args.steps),
        "--presses",
        str(args.presses),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--steps", type=int, default=401)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument(
        "--views",
        default="pipeline",
        help=f"inside-screen views to measure, comma-separated: {', '.join(VIEWS)}",
    )
    parser.add_argument(
        "--one", choices=["headless", "app", "latency", *VIEWS], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if (args.steps - 1) % 10 or args.steps - 1 <= WARMUP:
        parser.error(f"--steps must be 1 more than a multiple of 10, over {WARMUP + 1}")
    if args.one:
        print(json.dumps(measure_one(args.one, args.data_dir, args.steps, args.presses)))
        return 0
    views = [v.strip() for v in args.views.split(",") if v.strip()]
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        parser.error(f"unknown view {unknown[0]!r}: choose from {', '.join(VIEWS)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, data {args.data_dir}")
    results: dict[str, list[float]] = {kind: [] for kind in ["headless", "app", *views]}
    ui_shares: dict[str, list[float]] = {kind: [] for kind in ["app", *views]}
    for round_no in range(args.rounds):
        order = list(results) if round_no % 2 == 0 else list(results)[::-1]
        for kind in order:
            measured = spawn(kind, args)
            results[kind].append(measured["samples_per_s"])
            if kind in ui_shares:
                ui_shares[kind].append(measured["ui_share"])
        line = "  ".join(f"{kind} {values[-1]:7.0f}/s" for kind, values in results.items())
        print(f"round {round_no + 1}: {line}", flush=True)
    latencies = spawn("latency", args)["latencies"]
    median = {kind: statistics.median(values) for kind, values in results.items()}
    h, a = median["headless"], median["app"]
    print("median samples/s: " + ", ".join(f"{kind} {rate:.0f}" for kind, rate in median.items()))
    print(f"app/headless = {a / h:.2f}  (target >= 0.9)")
    for view in views:
        n = median[view]
        print(
            f"inside screen, {view}: /headless = {n / h:.2f}, /dashboard = {n / a:.2f}"
            "  (target: costs <= 5%)"
        )
    shares = ", ".join(f"{k} {100 * statistics.median(v):.1f}%" for k, v in ui_shares.items())
    print(f"UI thread CPU, share of the timed window (median): {shares}")
    ms = sorted(1000 * x for x in latencies)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"key-to-pause latency over {len(ms)} presses: median {statistics.median(ms):.1f} ms, "
        f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms  (target p95 <= 100 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
