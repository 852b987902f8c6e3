"""The engine timed as ``cnn-tui --headless`` runs it: shared by the benchmarks that need it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from cnn_tui.config import HyperParams, RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.engine.checkpoint import Progress
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import BatchLogged, Event, StateChanged
from cnn_tui.engine.session import open_run
from cnn_tui.headless import HeadlessPrinter

BATCH = 64


def time_engine(
    data: LoadedData, steps: int, run_dir: Path, *, health: bool = True
) -> tuple[float, float]:
    """samples/s of the engine from RUNNING to the end of batch ``steps - 1`` (a logging
    batch), of wall time and of the process's CPU time; the headless printer to /dev/null
    and the JSONL run log on, no test pass before training (the other loops have none)."""
    control = Control()
    with open(os.devnull, "w") as devnull:
        printer = HeadlessPrinter(devnull)
        marks: dict[str, float] = {}

        def sink(event: Event) -> None:
            printer(event)
            if isinstance(event, StateChanged) and event.state.value == "running":
                marks.setdefault("start", time.perf_counter())
                marks.setdefault("cpu_start", time.process_time())
            if isinstance(event, BatchLogged) and event.batch_index == steps - 1:
                marks["end"], marks["cpu_end"] = time.perf_counter(), time.process_time()
                control.stop()

        config = RunConfig(hparams=HyperParams(log_interval=10), run_dir=run_dir)
        run = open_run(
            config,
            data,
            sink,
            device=torch.device("cpu"),
            control=control,
            visual_every=0,
            checkpoint=None,
            health=health,
        )
        run.trainer.progress = Progress(last_tested=0)
        run.run()
    samples = steps * BATCH
    wall, cpu = marks["end"] - marks["start"], marks["cpu_end"] - marks["cpu_start"]
    return samples / wall, samples / cpu
