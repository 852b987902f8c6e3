"""The headless front end: a sink that prints the tutorial's lines, and the runner around it.

Output matches the tutorial's script line for line (``Train Epoch: 1 [640/60000 (1%)]\\tLoss:
...`` and ``Test set: Avg. loss: ...``), framed by where the data came from and a final
summary. The printer only prints; :func:`run_headless` decides: Ctrl-C or SIGTERM asks the
engine to stop (it saves a checkpoint and the process exits with 130 or 143, without a
traceback), and a diverged loss stops the run (there is nobody to lower the learning rate)
with exit status 3 — unless viewers may attach to lower it (a run in the background). A
checkpoint or log that cannot be written (a full disk) stops it with exit status 4 and one
line naming the file and the reason; the last checkpoint written is left intact.
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
    Forked,
    HealthSampled,
    HistoryRestored,
    HParamsChanged,
    Notice,
    ProbeTaken,
    RunStarted,
    RunState,
    SamplesPredicted,
    Sink,
    StateChanged,
    SystemSampled,
)
from cnn_tui.engine.privatefs import WriteFailed
from cnn_tui.engine.session import Run
from cnn_tui.phrases import duration

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_WRITE_FAILED = 0, 1, 2, 3, 4


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
        self.finished = False  # all epochs trained (and nothing since but a stop)

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
                device = event.device
                if event.world_size > 1:
                    device += f", {event.world_size} processes (DDP, {event.backend})"
                self._say(f"Device: {device} · run directory: {event.run_dir}")
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
                if event.phase == "test":
                    self._say(f"Test loss is {event.loss} after epoch {event.epoch}")
                else:
                    self._say(
                        f"Loss is {event.loss} at epoch {event.epoch}, batch {event.batch_index}"
                    )
            case Notice():
                self._say(f"Note: {event.message}")
            case CommandRejected():
                self._say(f"Note: {event.reason}")
            case Forked():
                self._say(
                    f"Forked at epoch {event.epoch} ({event.examples_seen} examples seen) into "
                    f"{event.run_dir}: cnn-tui --resume {event.run_dir} [new settings]"
                )
            case Failed():
                self.failure = event.message
            case StateChanged():
                previous = RunState.DONE.value if self.finished else None
                self.finished = event.state.after(previous) is RunState.DONE
            case SamplesPredicted() | ProbeTaken() | HealthSampled() | SystemSampled():
                pass  # pictures, figures for the Health pane (alerts come as notices), the
                # processes' samples
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
        if self.finished and not interrupted:
            state = RunState.DONE
        head = {
            RunState.DONE: "Done",
            RunState.STOPPED: f"Stopped ({interrupted})" if interrupted else "Stopped",
        }.get(state, state.value.capitalize())
        if self.diverged:
            head = "Diverged: the loss is not finite; lower --lr and --resume the run directory"
        return f"{head}: " + ", ".join(parts)

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def run_headless(
    open_session: Callable[[Sink], Run],
    printer: HeadlessPrinter,
    *,
    linger: bool = False,
    stop_on_divergence: bool = True,
) -> int:
    """Open the run with ``printer`` as its sink and run it to the end, a signal or a
    diverged loss; print the summary; return the exit status.

    ``linger``: once done, wait for more epochs (a viewer's ``r``) or a stop, as a run in
    the background does; ``stop_on_divergence``: False where a viewer can lower lr instead.
    """
    received: list[str] = []

    def sink(event: Event) -> None:
        printer(event)
        if isinstance(event, Diverged) and stop_on_divergence:  # nobody to lower lr
            run.control.stop()

    run = open_session(sink)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not received:
            received.append(signal.Signals(signum).name)
            print("Stopping: saving a checkpoint…", file=sys.stderr, flush=True)
        run.control.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        state = run.run(linger=linger)
    except WriteFailed as err:
        _tell(f"cnn-tui: error: {err}; {_after_write_failure(run)}", run)
        return EXIT_WRITE_FAILED
    except Exception as err:  # the engine already emitted Failed; say it in one line
        details = f" (details in {run.error_report})" if run.error_report else ""
        failure = printer.failure or f"{type(err).__name__}: {err}"
        _tell(f"cnn-tui: training failed: {failure}{details}", run)
        return EXIT_FAILED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    printer._say(printer.summary(state, received[0] if received else None))
    if printer.diverged and stop_on_divergence:
        return EXIT_DIVERGED
    if received:
        return 128 + int(getattr(signal, received[0]))
    return EXIT_OK


def _after_write_failure(run: Run) -> str:
    checkpoint = run.trainer.checkpoint_file
    if checkpoint is not None and checkpoint.is_file():
        return (
            f"the run stopped and its last good checkpoint {checkpoint} is intact: "
            f"make room (or fix the folder), then --resume {run.run_dir}"
        )
    return "the run stopped before its first checkpoint: make room (or fix the folder)"


def _tell(line: str, run: Run) -> None:
    """The failure in one line on stderr, and a second only if error.log failed too."""
    print(line.replace("\n", " "), file=sys.stderr)
    if run.report_problem:
        print(f"cnn-tui: note: {run.report_problem}", file=sys.stderr)
