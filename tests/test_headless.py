"""The headless runner: the tutorial's lines, the summary, signals, resume and export."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_tui.cli import main
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import BatchLogged, Diverged, EpochTested, RunState, Sink
from cnn_tui.headless import EXIT_DIVERGED, HeadlessPrinter, format_batch, format_test, run_headless

TRAIN_LINE = re.compile(r"^Train Epoch: (\d+) \[(\d+)/6000 \((\d+)%\)\]\tLoss: \d+\.\d{6}$")


def test_lines_are_the_tutorials_to_the_character() -> None:
    batch = BatchLogged(1, 10, 938, 640, 60000, 640, 2.2123456789, 100, 704, 1.0)
    assert format_batch(batch) == "Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.212346"
    tested = EpochTested(3, 180000, 0.09213, 9716, 10000, (), ())
    assert format_test(tested) == "\nTest set: Avg. loss: 0.0921, Accuracy: 9716/10000 (97%)\n"


def test_headless_run_prints_the_tutorials_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--headless", "--epochs", "1", "--log-interval", "20", "--run-dir", str(tmp_path)])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("Data: mnist, packaged MNIST sample (6,000 train / 1,000 test)")
    assert "offline (CNN_TUI_OFFLINE=1)" in lines[0]
    train = [TRAIN_LINE.match(line) for line in lines if line.startswith("Train Epoch")]
    assert all(train)
    assert [int(m.group(2)) for m in train if m] == [0, 1280, 2560, 3840, 5120]
    assert [int(m.group(3)) for m in train if m] == [0, 21, 43, 64, 85]
    assert (
        len(
            re.findall(r"^Test set: Avg\. loss: \d\.\d{4}, Accuracy: \d+/1000 \(\d+%\)$", out, re.M)
        )
        == 2
    )
    assert lines[-1].startswith("Done: ") and "test accuracy" in lines[-1]
    assert f"checkpoint {tmp_path / 'checkpoint.pt'}" in lines[-1]


def test_resume_continues_with_the_next_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--epochs", "1", "--log-interval", "50", "--run-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["--resume", str(tmp_path), "--epochs", "2", "--log-interval", "50"]) == 0
    out = capsys.readouterr().out
    assert f"Resumed from {tmp_path / 'checkpoint.pt'} at epoch 2 (6000 examples seen)" in out
    epochs = {m.group(1) for m in map(TRAIN_LINE.match, out.splitlines()) if m}
    assert epochs == {"2"}
    assert out.count("Test set:") == 1  # epoch 1's test is history, not repeated
    assert load_checkpoint(tmp_path).progress.epoch == 3


def test_export_writes_metrics_as_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--epochs", "1", "--log-interval", "10", "--run-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["export", str(tmp_path), "--csv", "--out", str(tmp_path / "csv")]) == 0
    written = capsys.readouterr().out.split()
    assert [Path(p).name for p in written] == [
        "train.csv",
        "test.csv",
        "confusion.csv",
        "mistakes.csv",
        "health.csv",
    ]
    read = {Path(p).name: list(csv.reader(Path(p).read_text().splitlines())) for p in written}
    assert read["train.csv"][0] == ["epoch", "batch", "examples_seen", "loss", "train_accuracy"]
    assert [row[2] for row in read["train.csv"][1:]] == [str(640 * k) for k in range(10)]
    tests = read["test.csv"]
    assert [row[0] for row in tests[1:]] == ["0", "1"]
    correct = int(tests[-1][3])
    matrix = [[int(v) for v in row[1:]] for row in read["confusion.csv"][1:]]
    assert len(matrix) == 10 and sum(map(sum, matrix)) == 1000
    assert sum(matrix[k][k] for k in range(10)) == correct
    assert len(read["mistakes.csv"]) - 1 == 1000 - correct


def _spawn(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cnn_tui", *args, "--run-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize(
    ("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")]
)
def test_a_signal_saves_a_checkpoint_and_exits_cleanly(
    tmp_path: Path, sig: signal.Signals, code: int, name: str
) -> None:
    # stdout is a pipe, not a terminal: the monitor is skipped without --headless
    proc = _spawn(["--epochs", "20", "--log-interval", "1"], tmp_path)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Train Epoch: 1 [640/"):
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert f"Stopped ({name})" in out
    assert "Traceback" not in err
    progress = load_checkpoint(tmp_path).progress
    assert progress.epoch == 1 and progress.position >= 640


def test_engine_imports_no_textual_or_rich() -> None:
    code = (
        "import sys, cnn_tui.engine.session, cnn_tui.engine.runlog, cnn_tui.headless, cnn_tui.cli;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class DivergingRun:
    """A stand-in run whose loss is NaN at its first batch; it checks that it was stopped."""

    error_report = report_problem = None

    def __init__(self, sink: Sink) -> None:
        self.sink, self.control = sink, Control()

    def run(self, *, linger: bool = False) -> RunState:
        self.sink(Diverged(float("nan"), 1, 0, 0))
        assert self.control.stop_requested  # at once: the engine would wait, paused
        return RunState.STOPPED


def test_a_diverged_loss_stops_a_headless_run_with_status_3() -> None:
    out = io.StringIO()
    assert run_headless(DivergingRun, HeadlessPrinter(out)) == EXIT_DIVERGED  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert lines[0] == "Loss is nan at epoch 1, batch 0"
    assert lines[-1].startswith("Diverged: the loss is not finite")
