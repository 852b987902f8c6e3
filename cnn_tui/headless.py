"""The headless front end: a sink that prints the tutorial's lines, and the runner around it.

Output matches the tutorial's script line for line (``Train Epoch: 1 [640/60000 (1%)]\\tLoss:
...`` and ``Test set: Avg. loss: ...``), framed by where the data came from and a final
summary. The printer only prints; :func:`run_headless` decides: Ctrl-C or SIGTERM asks the
engine to stop (it saves a checkpoint and the process exits with 130 or 143, without a
traceback), and a diverged loss stops the run (there is nobody to lower the learning rate)
with exit status 3.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

from typing_extensions import assert_never

from cnn_tui.engine.events import (
    BatchLogged,
    CheckpointSaved,
    CommandRejected,
    Diverged,
    EpochTested,
    Event,
    Failed,
    HistoryRestored,
    HParamsChanged,
    Notice,
    ProbeTaken,
    RunStarted,
    RunState,
    SamplesPredicted,
    Sink,
    StateChanged,
)
from cnn_tui.engine.session import Run
from cnn_tui.phrases import duration

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_DIVERGED = 0, 1, 2, 3


def format_batch(e: BatchLogged) -> str:
    percent = 100.0 * e.batch_index / e.batches_in_epoch
    return (
        f"Train Epoch: {e.epoch} [{e.position}/{e.epoch_size} ({percent:.0f}%)]\tLoss: {e.loss:.6f}"
    )


def format_test(e: EpochTested) -> str:
    percent = 100.0 * e.correct / e.total
    return (
        f"\nTest set: Avg. loss: {e.avg_loss:.4f}, "
        f"Accuracy: {e.correct}/{e.total} ({percent:.0f}%)\n"
    )


@dataclass
class HeadlessPrinter:
    """Prints each event a person reading a log would want, in the tutorial's words."""

    out: TextIO
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.began = self.clock()
        self.last_test: EpochTested | None = None
        self.checkpoint: str | None = None
        self.diverged: Diverged | None = None
        self.failure: str | None = None
        self.first_seen: int | None = None
        self.last_batch: BatchLogged | None = None
        self.first_batch: BatchLogged | None = None

    def __call__(self, event: Event) -> None:
        match event:
            case BatchLogged():
                self.first_batch = self.first_batch or event
                self.last_batch = event
                self._say(format_batch(event))
            case EpochTested():
                self.last_test = event
                self._say(format_test(event))
            case RunStarted():
                self.first_seen = event.examples_seen
                self._say(f"Data: {event.dataset}, {event.source_detail}")
                self._say(f"Device: {event.device} · run directory: {event.run_dir}")
                if event.resumed_from:
                    self._say(
                        f"Resumed from {event.resumed_from} at epoch {event.epoch} "
                        f"({event.examples_seen} examples seen)"
                    )
            case HistoryRestored():
                if event.tests:
                    epoch, _, loss, correct, total = event.tests[-1]
                    self._say(f"Last test (epoch {epoch}): loss {loss:.4f}, {correct}/{total}")
            case CheckpointSaved():
                self.checkpoint = event.path
            case HParamsChanged():
                self._say(f"Hyperparameters changed: {event.summary}")
            case Diverged():
                self.diverged = event
                self._say(f"Loss is {event.loss} at epoch {event.epoch}, batch {event.batch_index}")
            case Notice():
                self._say(f"Note: {event.message}")
            case CommandRejected():
                self._say(f"Note: {event.reason}")
            case Failed():
                self.failure = event.message
            case SamplesPredicted() | ProbeTaken() | StateChanged():
                pass  # pictures, and states the lines above already tell
            case _:
                assert_never(event)

    def summary(self, state: RunState, interrupted: str | None) -> str:
        elapsed = self.clock() - self.began
        parts = [duration(elapsed)]
        if self.first_batch and self.last_batch and self.last_batch is not self.first_batch:
            examples = self.last_batch.examples_seen - self.first_batch.examples_seen
            seconds = self.last_batch.train_seconds - self.first_batch.train_seconds
            if seconds > 0:
                parts.append(f"{examples / seconds:,.0f} samples/s")
        if self.last_test:
            t = self.last_test
            parts.append(f"test accuracy {100 * t.accuracy:.2f}% ({t.correct}/{t.total})")
        if self.checkpoint:
            parts.append(f"checkpoint {self.checkpoint}")
        head = {
            RunState.DONE: "Done",
            RunState.STOPPED: f"Stopped ({interrupted})" if interrupted else "Stopped",
        }.get(state, state.value.capitalize())
        if self.diverged:
            head = "Diverged: the loss is not finite; lower --lr and --resume the run directory"
        return f"{head}: " + ", ".join(parts)

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def run_headless(open_session: Callable[[Sink], Run], printer: HeadlessPrinter) -> int:
    """Open the run with ``printer`` as its sink and run it to the end, a signal or a
    diverged loss; print the summary; return the exit status."""
    received: list[str] = []

    def sink(event: Event) -> None:
        printer(event)
        if isinstance(event, Diverged):  # nobody is there to lower lr and resume
            run.control.stop()

    run = open_session(sink)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not received:
            received.append(signal.Signals(signum).name)
            print("Stopping: saving a checkpoint…", file=sys.stderr, flush=True)
        run.control.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        state = run.run()
    except Exception:  # the engine already emitted Failed; say it in one line
        state = RunState.FAILED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if state is RunState.FAILED:
        print(f"cnn-tui: training failed: {printer.failure}", file=sys.stderr)
        return EXIT_FAILED
    printer._say(printer.summary(state, received[0] if received else None))
    if printer.diverged:
        return EXIT_DIVERGED
    if received:
        return 128 + int(getattr(signal, received[0]))
    return EXIT_OK
