"""What watching costs training: the engine alone vs with monitors attached, side by side.

    python benchmarks/ui_overhead.py --data-dir ../shared/data [--warmup 1000] [--steps 4001]
        [--rounds 4] [--views pipeline,gallery,draw] [--presses 40] [--unpaced]

Every run is a process of its own serving its endpoint, as ``cnn-tui`` runs it; a monitor
is another process attached over the socket: the full Textual app at 120×40, rendering
everything down to the bytes a terminal would get (then discarded: Textual's headless
driver alone would skip that last step). Each round measures, in
alternating order:

- ``alone``: the engine with nobody attached;
- ``1 viewer``: the engine with one monitor attached (the dashboard) — what ``cnn-tui`` is;
- ``5 read-only``: with five read-only monitors attached (say, browser tabs);
- one ``1 viewer`` run per inside-screen view in ``--views``;
- with ``--unpaced``, five read-only monitors that never stretch their redraws (the
  monitors share a tenth of a core while the box is busy: tui/pacing.py).

samples/s is the engine's training rate (its own clock, which leaves out the test passes at
the epochs' ends) from the first logged batch past ``--warmup`` to the first past
``--steps``, counted across epochs: the steady state, the screens open and painted, torch
warm, and a window of seconds even on a fast box. Each monitor reports its own CPU time
over the same batches (it sees them arrive), which on a 2-core box is what it takes from
training, and the bytes it wrote to its terminal (what an SSH link carries). Then one monitor
presses space repeatedly while training and times the key (handed to the app as the
terminal's input thread hands it) to the first frame painted after its view shows PAUSED:
the whole round trip over the socket, and the repaint.
Targets: 1 viewer / alone >= 0.9, 5 read-only / alone >= 0.85, key-to-PAUSED p95 <= 100 ms.
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from cnn_tui.config import HyperParams, RunConfig
from cnn_tui.data import load_data
from cnn_tui.endpoint.remote import RemoteSession
from cnn_tui.endpoint.server import Endpoint
from cnn_tui.engine.checkpoint import Progress
from cnn_tui.engine.control import Control, Stop
from cnn_tui.engine.events import BatchLogged, Event, RunState, Tee
from cnn_tui.engine.session import open_run
from cnn_tui.headless import HeadlessPrinter
from cnn_tui.host import VISUAL_EVERY
from cnn_tui.runview import Update
from cnn_tui.tui.launch import monitor_app

SIZE = (120, 40)
# What a monitor presses once it is up, for each way of watching the inside screen.
VIEWS = {
    "dashboard": (),
    "pipeline": ("i", "1"),
    "gallery": ("i", "3", "enter"),
    "draw": ("i", "4", "d", *["up"] * 6, *["left"] * 4, *["right"] * 8, *["down", "left"] * 8),
}


# -- the engine process -----------------------------------------------------------------------
class Window:
    """The timed batches: from the first logged batch at or past ``warmup`` (batches since
    the run began) to the first at or past ``steps``. Engine and monitors see the same ones."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.start: BatchLogged | None = None
        self.end: BatchLogged | None = None

    def mark(self, event: object) -> str | None:
        """ "start" or "end" when ``event`` opens or closes the window."""
        if not isinstance(event, BatchLogged) or self.end is not None:
            return None
        done = (event.epoch - 1) * event.batches_in_epoch + event.batch_index
        if self.start is None and done >= self.warmup:
            self.start = event
            return "start"
        if self.start is not None and done >= self.steps:
            self.end = event
            return "end"
        return None

    def samples_per_s(self) -> float:
        assert self.start is not None and self.end is not None
        a, b = self.start, self.end
        batches = (b.epoch - a.epoch) * a.batches_in_epoch + b.batch_index - a.batch_index
        return batches * 64 / (b.train_seconds - a.train_seconds)


def engine(run_dir: Path, data_dir: Path, window: Window, viewers: int) -> dict[str, Any]:
    """Train through ``window`` once ``viewers`` monitors are attached; its samples/s."""
    data = load_data("mnist", device="cpu", data_dir=data_dir)
    control = Control()
    endpoint = Endpoint(run_dir, run_id="bench", control=control)
    endpoint.start()
    times: dict[str, float] = {}

    def clock(event: Event) -> None:
        mark = window.mark(event)
        if mark is not None:
            times[mark] = time.perf_counter()
        if mark == "end":
            control.stop()

    config = RunConfig(hparams=HyperParams(epochs=50), run_dir=run_dir)
    with open(os.devnull, "w") as devnull:
        sinks = Tee([clock, endpoint, HeadlessPrinter(devnull)])
        run = open_run(
            config, data, sinks, device=torch.device("cpu"), control=control,
            visual_every=VISUAL_EVERY,
        )  # fmt: skip
        run.trainer.progress = Progress(last_tested=0)  # no pre-training test pass
        print("ready", flush=True)
        while endpoint.viewer_count < viewers:
            time.sleep(0.01)
        run.run()
    endpoint.close()
    if "end" not in times:  # stopped by a monitor (the latency run)
        return {}
    return {"samples_per_s": window.samples_per_s(), "seconds": times["end"] - times["start"]}


# -- a monitor process ------------------------------------------------------------------------
class Terminal(HeadlessDriver):
    """A terminal that takes every frame and keeps only its size: the app renders its
    updates to escape sequences for it, as for a real one (or a browser tab's pipe)."""

    written = 0

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        Terminal.written += len(data.encode())


def monitor(
    run_dir: Path, window: Window, view: str, read_only: bool, presses: int, paced: bool = True
) -> dict[str, Any]:
    """The app attached to the run; its CPU time over the engine's timed batches (or, with
    ``presses``, key-to-PAUSED latencies)."""
    session = RemoteSession(run_dir, read_only=read_only)
    cpu: dict[str, float] = {}
    written: dict[str, int] = {}

    def open_session(app_sink: Callable[[Update], None]) -> RemoteSession:
        def sink(update: Update) -> None:
            mark = window.mark(update)
            if mark is not None:
                cpu[mark] = time.process_time()
                written[mark] = Terminal.written
            app_sink(update)

        return session.bind(sink)

    app = monitor_app(open_session, paced=paced)  # as cnn-tui attach runs it
    app.driver_class = Terminal
    latencies: list[float] = []
    painted: list[float] = []  # when each frame went to the (headless) terminal
    display = app._display

    def timed_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        painted.append(time.perf_counter())

    app._display = timed_display  # type: ignore[method-assign]

    async def shows(state: RunState) -> None:
        """Until a frame after the view took ``state`` has been painted."""
        while app.view.state is not state:
            await asyncio.sleep(0.001)
        frames = len(painted)
        while len(painted) == frames:
            await asyncio.sleep(0.001)

    def press(key: str, character: str) -> None:
        # What the terminal's input thread does with a key; not pilot.press, which then
        # waits for the app to look idle in 20 ms steps (Textual's test harness).
        app.post_message(events.Key(key, character))

    async def drive() -> None:
        async with app.run_test(size=SIZE, headless=False) as pilot:
            app.animation_level = "none"
            if VIEWS[view]:
                await pilot.press(*VIEWS[view])
            if presses:
                rng = random.Random(1)
                await shows(RunState.RUNNING)
                for _ in range(presses):
                    await asyncio.sleep(rng.uniform(0.2, 0.5))
                    pressed = time.perf_counter()
                    press("space", " ")
                    await shows(RunState.PAUSED)
                    latencies.append(painted[-1] - pressed)
                    press("space", " ")
                    await shows(RunState.RUNNING)
                session.send(Stop())
            while app.view.connected:
                await asyncio.sleep(0.05)

    asyncio.run(drive())
    if presses:
        return {"latencies": latencies}
    return {"cpu_seconds": cpu["end"] - cpu["start"], "bytes": written["end"] - written["start"]}


# -- the coordinator --------------------------------------------------------------------------
def measure(
    args: argparse.Namespace,
    viewers: int,
    view: str = "dashboard",
    presses: int = 0,
    paced: bool = True,
) -> dict[str, Any]:
    """One engine process and ``viewers`` monitor processes (the first may press keys)."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        run_dir.mkdir(mode=0o700)
        me = [
            sys.executable,
            __file__,
            "--data-dir",
            str(args.data_dir),
            "--warmup",
            str(args.warmup),
            "--steps",
            str(args.steps),
        ]
        steps = args.steps if not presses else 1_000_000
        engine_process = subprocess.Popen(
            [*me, "--one", "engine", "--run-dir", str(run_dir), "--viewers", str(viewers),
             "--steps", str(steps)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert engine_process.stdout is not None
        assert engine_process.stdout.readline().strip() == "ready"
        monitors = [
            subprocess.Popen(
                [
                    *me,
                    "--one",
                    "monitor",
                    "--run-dir",
                    str(run_dir),
                    "--view",
                    view,
                    *(["--read-only"] if viewers > 1 else []),
                    *([] if paced else ["--unpaced"]),
                    "--presses",
                    str(presses if k == 0 else 0),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in range(viewers)
        ]
        outputs = [json.loads(m.communicate()[0].strip().splitlines()[-1]) for m in monitors]
        result = json.loads(engine_process.communicate()[0].strip().splitlines()[-1])
        if presses:
            return {"latencies": outputs[0]["latencies"]}
        result["monitor_cpu_share"] = [o["cpu_seconds"] / result["seconds"] for o in outputs]
        result["monitor_bytes_per_s"] = [o["bytes"] / result["seconds"] for o in outputs]
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--warmup", type=int, default=1000, help="batches before the clock")
    parser.add_argument("--steps", type=int, default=4001, help="batches when it stops")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--views", default="", help=f"also measure: {', '.join(VIEWS)}")
    parser.add_argument(
        "--unpaced",
        action="store_true",
        help="also five read-only monitors that never stretch their redraws (tui/pacing.py)",
    )
    parser.add_argument("--one", choices=["engine", "monitor"], help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--viewers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--view", default="dashboard", help=argparse.SUPPRESS)
    parser.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    window = Window(args.warmup, args.steps)
    if args.one == "engine":
        print(json.dumps(engine(args.run_dir, args.data_dir, window, args.viewers)))
        return 0
    if args.one == "monitor":
        out = monitor(
            args.run_dir, window, args.view, args.read_only, args.presses, not args.unpaced
        )
        print(json.dumps(out))
        return 0
    if args.steps <= args.warmup + 10:
        parser.error("--steps must be more than --warmup + 10 (a logged batch between them)")
    views = [v.strip() for v in args.views.split(",") if v.strip()]
    if any(v not in VIEWS for v in views):
        parser.error(f"--views: choose from {', '.join(VIEWS)}")
    kinds: dict[str, tuple[int, str, bool]] = {
        "alone": (0, "dashboard", True),
        "1 viewer": (1, "dashboard", True),
        "5 read-only": (5, "dashboard", True),
    }
    if args.unpaced:
        kinds["5 read-only, unpaced"] = (5, "dashboard", False)
    kinds.update({f"1 viewer, {v}": (1, v, True) for v in views})
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, {args.data_dir}, "
        f"batches {args.warmup} to {args.steps}"
    )
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    shares: dict[str, list[float]] = {k: [] for k in kinds if kinds[k][0]}
    output: dict[str, list[float]] = {k: [] for k in shares}
    for round_no in range(args.rounds):
        order = list(kinds) if round_no % 2 == 0 else list(kinds)[::-1]
        for kind in order:
            viewers, view, paced = kinds[kind]
            result = measure(args, viewers, view, paced=paced)
            rates[kind].append(result["samples_per_s"])
            if viewers:
                shares[kind].append(sum(result["monitor_cpu_share"]) / viewers)
                output[kind].append(sum(result["monitor_bytes_per_s"]) / viewers)
        print("round", round_no + 1, "  ".join(f"{k} {v[-1]:6.0f}/s" for k, v in rates.items()))
    latencies = measure(args, 1, presses=args.presses)["latencies"]
    median = {k: statistics.median(v) for k, v in rates.items()}
    alone = median["alone"]
    print("median samples/s: " + ", ".join(f"{k} {v:.0f}" for k, v in median.items()))
    for kind, rate in median.items():
        if kind != "alone":
            print(f"  {kind} / alone = {rate / alone:.2f}")
    print("  (targets: 1 viewer >= 0.90, 5 read-only >= 0.85)")
    print(
        "monitor CPU, share of the timed window (median, per monitor): "
        + ", ".join(f"{k} {100 * statistics.median(v):.1f}%" for k, v in shares.items())
    )
    print(
        "terminal output, per monitor (median): "
        + ", ".join(f"{k} {statistics.median(v) / 1024:.1f} KiB/s" for k, v in output.items())
    )
    ms = sorted(1000 * x for x in latencies)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"key to PAUSED on the monitor, over the socket, {len(ms)} presses: median "
        f"{statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (target p95 <= 100)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
