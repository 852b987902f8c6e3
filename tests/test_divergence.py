"""Divergence never reaches checkpoint.pt: a test loss or weights that are not finite count.

The issue's case: three training digits, lr 10, momentum 0.999, batch size 1. The training
losses stay finite, the weights grow to ~1e15, and the test pass after epoch 1 reports
``nan``; the epoch-end save then wrote those weights over checkpoint.pt, from which "lower
--lr and --resume" cannot recover.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
import torch

from cnn_tui.cli import main
from cnn_tui.data import LoadedData, Split
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.events import CheckpointSaved, Diverged, EpochTested, Notice, RunState
from cnn_tui.engine.session import Run
from tests.data_fixtures import idx, write
from tests.helpers import Recorder, WatchedControl, open_test_run

EXPLODING = {"lr": 10.0, "momentum": 0.999, "batch_size": 1, "epochs": 30, "log_interval": 1}


def _head(split: Split, n: int) -> Split:
    return Split(split.images[:n], split.labels[:n], split.raw[:n])


@pytest.fixture(scope="module")
def three_digits(tiny_data: LoadedData) -> LoadedData:
    return LoadedData(tiny_data.spec, tiny_data.source, _head(tiny_data.train, 3), tiny_data.test)


def test_a_test_loss_that_is_not_finite_is_divergence(
    three_digits: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    control = WatchedControl()
    run = open_test_run(three_digits, recorder, run_dir, control=control, **EXPLODING)
    thread = _start(run)
    control.until_blocked()  # the engine waits, as for a training loss that is not finite
    tested = [e for e in recorder.of(EpochTested) if not math.isfinite(e.avg_loss)]
    diverged = recorder.of(Diverged)
    assert tested and diverged and diverged[0].phase == "test"
    assert diverged[0].epoch == tested[0].epoch
    assert run.trainer.state is RunState.DIVERGED
    control.stop()
    thread.join(60)
    saved = [Path(e.path).name for e in recorder.of(CheckpointSaved)]
    assert saved and set(saved) == {"checkpoint-diverged.pt"}
    assert not (run_dir / "checkpoint.pt").exists()  # no good epoch end: nothing over it
    history = load_checkpoint(run_dir / "checkpoint-diverged.pt").progress.test_history
    assert all(math.isfinite(row[2]) for row in history)  # the diverged pass is not history


def test_checkpoint_pt_keeps_the_last_good_weights_headless(
    three_digits: LoadedData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    _write_idx(data_dir / "MNIST" / "raw", three_digits)
    run_dir = tmp_path / "run"
    common = ["--headless", "--data-dir", str(data_dir), "--run-dir", str(run_dir)]
    assert main([*common, "--epochs", "1"]) == 0  # a good epoch first
    before = (run_dir / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    argv = [*common, "--resume", str(run_dir)]
    for name, value in EXPLODING.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    assert main(argv) == 3  # diverged
    out = capsys.readouterr().out
    assert "Test loss is nan after epoch" in out
    assert "Diverged: the loss is not finite; lower --lr and --resume" in out.splitlines()[-1]
    assert (run_dir / "checkpoint.pt").read_bytes() == before
    weights = load_checkpoint(run_dir).model_state.values()
    assert all(bool(torch.isfinite(w).all()) for w in weights)
    assert (run_dir / "checkpoint-diverged.pt").exists()


def test_weights_that_are_not_finite_never_go_to_checkpoint_pt(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    run = open_test_run(tiny_data, recorder, run_dir, epochs=1)
    run.trainer.save("requested")
    with torch.no_grad():
        run.trainer.net.fc2.bias[0] = math.inf
    run.trainer.save("requested")
    saved = [Path(e.path).name for e in recorder.of(CheckpointSaved)]
    assert saved == ["checkpoint.pt", "checkpoint-diverged.pt"]
    assert any("the weights are not finite" in n.message for n in recorder.of(Notice))
    assert all(bool(torch.isfinite(w).all()) for w in load_checkpoint(run_dir).model_state.values())


def _start(run: Run) -> threading.Thread:
    thread = threading.Thread(target=run.run, daemon=True)
    thread.start()
    return thread


def _write_idx(folder: Path, data: LoadedData) -> None:
    files = {}
    for prefix, split in (("train", data.train), ("t10k", data.test)):
        n = len(split)
        labels = split.labels.to(torch.uint8).numpy().tobytes()
        files[f"{prefix}-images-idx3-ubyte"] = idx(2051, (n, 28, 28), split.raw.numpy().tobytes())
        files[f"{prefix}-labels-idx1-ubyte"] = idx(2049, (n,), labels)
    write(folder, files)
