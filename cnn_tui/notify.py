"""``--notify CMD``: run a command of the user's when the run ends, diverges or fails.

A desktop or chat notifier of the user's choice (``notify-send``, a ``curl`` to a webhook)
learns what happened from the environment: ``CNN_TUI_EVENT`` (done, stopped, diverged or
failed), ``CNN_TUI_MESSAGE`` (one line), ``CNN_TUI_RUN_ID`` and ``CNN_TUI_RUN_DIR``. The
command runs through the shell, in the background; training never waits for it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from cnn_tui.engine.events import Diverged, Event, Failed, RunState, StateChanged

FINAL = {RunState.DONE: "done", RunState.STOPPED: "stopped"}


class Notifier:
    """A sink that runs ``command`` at the events a user wants to hear of."""

    def __init__(self, command: str, run_id: str, run_dir: Path) -> None:
        self.command, self.run_id, self.run_dir = command, run_id, run_dir
        self.started: list[subprocess.Popen[bytes]] = []
        self.state: str | None = None  # the last state told: a stop once done is no news

    def __call__(self, event: Event) -> None:
        match event:
            case Diverged():
                self._run("diverged", f"the loss is {event.loss} at epoch {event.epoch}")
            case Failed():
                self._run("failed", event.message)
            case StateChanged():
                state, self.state = event.state.after(self.state), event.state.value
                if state is event.state and state in FINAL:
                    self._run(FINAL[state], f"{state.value}: {event.reason}")
            case _:
                pass

    def _run(self, what: str, message: str) -> None:
        self.started = [p for p in self.started if p.poll() is None]  # reap the finished
        env = {
            **os.environ,
            "CNN_TUI_EVENT": what,
            "CNN_TUI_MESSAGE": message,
            "CNN_TUI_RUN_ID": self.run_id,
            "CNN_TUI_RUN_DIR": str(self.run_dir),
        }
        try:
            process = subprocess.Popen(
                self.command, shell=True, env=env, stdin=subprocess.DEVNULL, start_new_session=True
            )
        except OSError as err:
            print(f"cnn-tui: --notify could not run: {err}", flush=True)
            return
        self.started.append(process)

    def finish(self, timeout: float = 10.0) -> None:
        """Give the commands still running ``timeout`` seconds before this process ends."""
        deadline = time.monotonic() + timeout
        for process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
