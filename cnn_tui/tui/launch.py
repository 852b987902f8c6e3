"""Start the monitor for a parsed command line: the engine session factory and the app."""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnn_tui.config import RunConfig
from cnn_tui.data import LoadedData
from cnn_tui.engine.checkpoint import Checkpoint
from cnn_tui.engine.events import Event
from cnn_tui.engine.session import Run, open_run
from cnn_tui.tui.app import CnnTuiApp


def run_app(
    config: RunConfig,
    data: LoadedData,
    checkpoint: Checkpoint | None,
    device: torch.device,
    engine_threads: int | None = None,
) -> int:
    """Run the monitor; ``engine_threads`` from ``reserve_threads_for_engine`` (see there)."""

    def open_session(sink: Callable[[Event], None]) -> Run:
        return open_run(
            config, data, sink, device=device, checkpoint=checkpoint, threads=engine_threads
        )

    app = CnnTuiApp(open_session, continue_epochs=config.hparams.epochs)
    code = app.run()
    if app.session is not None:
        print(f"cnn-tui: run saved in {app.session.run_dir}")
    return code or 0
