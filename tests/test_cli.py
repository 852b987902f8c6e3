"""Command-line validation: every bad value is one line on stderr and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnn_tui.cli import main

BAD = [
    (["--lr", "-1"], "--lr must be greater than 0 (got -1)"),
    (["--lr", "fast"], "--lr must be a number (got 'fast')"),
    (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
    (["--batch-size", "6.5"], "--batch-size must be a whole number (got '6.5')"),
    (["--momentum", "1"], "--momentum must be less than 1 (got 1)"),
    (["--epochs", "0"], "--epochs must be at least 1 (got 0)"),
    (["--log-interval", "-3"], "--log-interval must be at least 1 (got -3)"),
    (["--test-batch-size", "20000"], "--test-batch-size must be at most 10000 (got 20000)"),
    (["--seed", "-1"], "--seed must be at least 0 (got -1)"),
    (["--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (["--device", "tpu"], "argument --device: must be one of auto, cpu, cuda, mps or cuda:N"),
    (["--resume", "no/such/checkpoint.pt"], "no checkpoint at no/such/checkpoint.pt"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["export", "no/such/run"], "no events.jsonl in no/such/run"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_values_get_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("cnn-tui: error: ")
    assert message in lines[0]
    assert captured.out == ""


def test_missing_data_dir_names_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--headless", "--data-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "empty") in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_device_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--device", "cuda"]) == 2
    assert (
        "--device cuda is not available on this machine: use --device cpu"
        in capsys.readouterr().err
    )


def test_module_entry_point_prints_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cnn_tui", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in ("--epochs", "--lr", "--momentum", "--log-interval", "--resume", "--headless"):
        assert flag in out
    assert "(tutorial: 0.01)" in out and "(0, 10]" in out
