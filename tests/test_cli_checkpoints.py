"""``cnn-tui --resume`` with a damaged checkpoint: one line naming the file, exit status 2.

Each case is one the issue met as a traceback (exit 1), run as a user runs it: a process.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.checkpoint_payloads import valid_payload


def _text(path: Path) -> None:
    path.write_text("hello, this is not a checkpoint\n")


def _changed(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        payload = valid_payload()
        change(payload)
        torch.save(payload, path)

    return write


class _Touch:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


def _malicious(path: Path) -> None:
    buffer = io.BytesIO()
    torch.save({"format": "cnn-tui-checkpoint/1", "x": _Touch(path.with_name("marker"))}, buffer)
    path.write_bytes(buffer.getvalue())


def _epoch_x(p: dict[str, Any]) -> None:
    p["progress"]["epoch"] = "x"


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "text starting with h": (_text, "is not a readable checkpoint"),
    "format but no hparams": (_changed(lambda p: p.pop("hparams")), "it lacks 'hparams'"),
    "unknown key in progress": (
        _changed(lambda p: p["progress"].update(speed=3)),
        "its progress has an unknown entry 'speed'",
    ),
    "model_state a list": (
        _changed(lambda p: p.update(model_state=list(p["model_state"].values()))),
        "its model_state is a list of 8, not a state dict",
    ),
    "state dict with an extra key": (
        _changed(lambda p: p["model_state"].update(num_batches=3)),
        "its model_state['num_batches'] is 3, expected a tensor",
    ),
    "optimizer state that does not match": (
        _changed(lambda p: p["optimizer_state"]["param_groups"][0].update(params=[0, 1, 2])),
        "its optimizer_state.param_groups[0].params is a list of 3",
    ),
    "rng_state of the wrong dtype": (
        _changed(lambda p: p.update(rng_state=p["rng_state"].to(torch.float32))),
        "its rng_state has dtype torch.float32, expected torch.uint8",
    ),
    "progress.epoch = x": (_changed(_epoch_x), "its progress.epoch is 'x'"),
    "stored lr out of bounds": (
        _changed(lambda p: p["hparams"].update(lr=50)),
        "its stored lr 50 is out of bounds: must be at most 10",
    ),
    "pickle that runs code": (_malicious, "cnn-tui never runs code from a checkpoint"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_checkpoint_is_one_line_and_status_2(tmp_path: Path, case: str) -> None:
    write, words = CASES[case]
    path = tmp_path / "checkpoint.pt"
    write(path)
    result = subprocess.run(
        [sys.executable, "-m", "cnn_tui", "--headless", "--resume", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cnn-tui: error: ") and str(path) in lines[0]
    assert words in lines[0]
    assert "--lr" not in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "marker").exists()
