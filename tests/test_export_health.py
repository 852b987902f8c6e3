"""health.csv and the TensorBoard export, read back and compared with the run's own log.

TensorBoard's own event reader (``EventAccumulator``) reads the export; every scalar must
be the log's value (TensorBoard keeps 32-bit floats) at the same step, examples seen.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cnn_tui.cli import main
from cnn_tui.data import LoadedData
from cnn_tui.engine.events import HealthSampled
from cnn_tui.engine.tensorboard import EVENTS_FILE
from tests.helpers import Recorder, open_test_run


@pytest.fixture(scope="module")
def logged_run(
    tiny_data: LoadedData, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[HealthSampled]]:
    """Two epochs of the tiny data, a batch logged every other one, probe passes at every
    sample but the ones at batch 2 of each epoch (so health.csv has blanks too)."""
    run_dir = tmp_path_factory.mktemp("run") / "run"
    recorder = Recorder()
    run = open_test_run(tiny_data, recorder, run_dir, epochs=2, log_interval=2)
    assert run.trainer.health is not None
    run.trainer.health.dead_every = 200
    run.run()
    return run_dir, recorder.of(HealthSampled)


def records(run_dir: Path, event: str) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def test_health_csv_has_every_layer_of_every_sample(
    logged_run: tuple[Path, list[HealthSampled]], tmp_path: Path
) -> None:
    run_dir, samples = logged_run
    assert main(["export", str(run_dir), "--csv", "--out", str(tmp_path)]) == 0
    with (tmp_path / "health.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "examples_seen",
        "layer",
        "weight_norm",
        "grad_norm",
        "update_ratio",
        "dead_relu",
    ]
    expected = [
        [
            str(s.examples_seen),
            layer.layer,
            repr(layer.weight_norm),
            repr(layer.grad_norm),
            repr(layer.update_ratio),
            "" if layer.dead_relu is None else repr(layer.dead_relu),
        ]
        for s in samples
        for layer in s.layers
    ]
    assert rows[1:] == expected
    assert len(samples) == 10
    dead = [row[5] for row in rows[1:]]
    assert "" in dead[::4] and any(d != "" for d in dead[::4])  # conv1: measured, and not


# The writer and the reader are the optional extra's: without it, those tests skip.
needs_tensorboard = pytest.mark.skipif(
    importlib.util.find_spec("tensorboard") is None,
    reason="tensorboard is not installed: pip install -e '.[tensorboard]'",
)


def float32(value: float) -> float:
    return float(np.float32(value))


@needs_tensorboard
def test_the_tensorboard_export_reads_back_the_logs_scalars(
    logged_run: tuple[Path, list[HealthSampled]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = logged_run
    out = tmp_path / "tb"
    assert main(["export", str(run_dir), "--tensorboard", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / EVENTS_FILE)]
    assert not (run_dir / "train.csv").exists()  # --tensorboard alone: no CSV

    expected: dict[str, list[tuple[int, float]]] = {}

    def add(tag: str, step: int, value: float) -> None:
        expected.setdefault(tag, []).append((step, float32(value)))

    for r in records(run_dir, "BatchLogged"):
        add("train/loss", r["examples_seen"], r["loss"])
        add("train/accuracy", r["examples_seen"], r["train_correct"] / r["train_seen"])
    for r in records(run_dir, "EpochTested"):
        add("test/loss", r["examples_seen"], r["avg_loss"])
        add("test/accuracy", r["examples_seen"], r["correct"] / r["total"])
    for r in records(run_dir, "HealthSampled"):
        for layer in r["layers"]:
            for figure in ("weight_norm", "grad_norm", "update_ratio", "dead_relu"):
                if layer[figure] is not None:
                    add(f"{figure}/{layer['layer']}", r["examples_seen"], layer[figure])

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    tags = events.Tags()
    assert sorted(tags["scalars"]) == sorted(expected)
    for tag, points in expected.items():
        assert [(e.step, e.value) for e in events.Scalars(tag)] == points, tag

    assert sorted(tags["histograms"]) == [f"weights/{n}" for n in ("conv1", "conv2", "fc1", "fc2")]
    for r in records(run_dir, "HealthSampled"):
        for layer in r["layers"]:
            (shown,) = [
                h
                for h in events.Histograms(f"weights/{layer['layer']}")
                if h.step == r["examples_seen"]
            ]
            value = shown.histogram_value
            assert list(value.bucket) == layer["histogram"]
            assert (value.min, value.max) == (layer["hist_low"], layer["hist_high"])
            assert value.bucket_limit[-1] == layer["hist_high"]
            assert value.sum_squares == pytest.approx(layer["weight_norm"] ** 2)


@needs_tensorboard
def test_exporting_again_replaces_the_previous_export(
    logged_run: tuple[Path, list[HealthSampled]], tmp_path: Path
) -> None:
    run_dir, _ = logged_run
    out = tmp_path / "tb"
    for _ in range(2):
        assert main(["export", str(run_dir), "--tensorboard", str(out), "--csv"]) == 0
    assert [p.name for p in out.iterdir()] == [EVENTS_FILE]
    assert (run_dir / "health.csv").exists()
    assert (out / EVENTS_FILE).stat().st_mode & 0o777 == 0o600


def test_without_the_extra_it_says_what_to_install_and_writes_nothing(
    logged_run: tuple[Path, list[HealthSampled]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir, _ = logged_run
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    out = tmp_path / "tb"
    csvs = tmp_path / "csv"
    args = ["export", str(run_dir), "--csv", "--out", str(csvs), "--tensorboard", str(out)]
    assert main(args) == 2
    assert capsys.readouterr().err.splitlines() == [
        "cnn-tui: error: TensorBoard export needs the tensorboard package: "
        "pip install 'cnn-tui[tensorboard]'"
    ]
    assert not out.exists() and not csvs.exists()


@needs_tensorboard
def test_a_tensorboard_dir_that_is_a_file_is_one_line(
    logged_run: tuple[Path, list[HealthSampled]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir, _ = logged_run
    target = tmp_path / "file"
    target.write_text("not a folder")
    assert main(["export", str(run_dir), "--tensorboard", str(target)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"cnn-tui: error: --tensorboard {target} is a file, not a folder: "
        "pass a folder you can write"
    )
