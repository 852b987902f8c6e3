"""The run directory: checked before any screen opens, private, and looked after mid-run.

A ``--run-dir`` that is a file, or that other users can write, is one line and exit 2 in both
front ends; leftovers of interrupted saves are removed at the next start; a run directory
deleted mid-run is noticed, recreated and written again; and everything a run writes is
0700 / 0600 whatever the umask.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnn_tui.cli import main
from cnn_tui.data import LoadedData
from cnn_tui.engine.trainer import Trainer
from tests.helpers import Recorder, open_test_run

HEADLESS = ["--headless", "--epochs", "1", "--log-interval", "50"]


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("cnn-tui: error: ")
    return lines[0]


@pytest.fixture
def monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI choose the monitor (stdout "is a terminal") but fail if it opens: the
    run it starts in the background must refuse the directory first."""
    import cnn_tui.tui.launch

    def no_screen(*args: object, **kwargs: object) -> int:
        raise AssertionError("the screen opened before the run directory was checked")

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(cnn_tui.tui.launch, "CnnTuiApp", no_screen)


@pytest.mark.parametrize("front_end", ["headless", "monitor"])
def test_a_run_dir_that_is_a_file(
    front_end: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    if front_end == "monitor":
        request.getfixturevalue("monitor")
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    flags = HEADLESS if front_end == "headless" else []
    assert main([*flags, "--run-dir", str(file)]) == 2
    assert f"run directory {file} is a file, not a folder" in one_error(capsys)
    assert file.read_text() == "mine"


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_run_dir_others_can_write_is_refused_not_changed(
    mode: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monitor: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    assert main(["--run-dir", str(shared)]) == 2
    line = one_error(capsys)
    assert f"run directory {shared} can be written by other users (mode {mode:o})" in line
    assert f"chmod go-w {shared}" in line
    assert stat.S_IMODE(shared.stat().st_mode) == mode
    assert list(shared.iterdir()) == []


def test_leftovers_of_interrupted_saves_are_removed_at_the_next_start(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    run_dir.mkdir(mode=0o700)
    leftovers = [".checkpoint.pt.k2j4x9ab.tmp", ".checkpoint-diverged.pt.0a1b2c3d.tmp"]
    kept = [".events.jsonl.tmp", "notes.tmp", ".checkpoint.pt"]
    for name in leftovers + kept:
        (run_dir / name).write_bytes(b"half a checkpoint")
    run = open_test_run(tiny_data, recorder, run_dir)
    names = {p.name for p in run_dir.iterdir()}
    assert not names & set(leftovers) and set(kept) <= names
    assert [n.message for n in run.notices] == [
        f"removed 2 temporary file(s) of interrupted saves in {run_dir}"
    ]


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_everything_a_run_writes_is_private_whatever_the_umask(
    tmp_path: Path,
    umask_000: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = tmp_path / "runs" / "deep" / "run"
    assert main([*HEADLESS, "--run-dir", str(run_dir)]) == 0
    for folder in (tmp_path / "runs", tmp_path / "runs" / "deep", run_dir):
        assert mode(folder) == 0o700, folder
    assert {p.name: mode(p) for p in run_dir.iterdir()} == {
        "checkpoint.pt": 0o600,
        "events.jsonl": 0o600,
        "run.json": 0o600,  # what cnn-tui runs reads
        "lock": 0o600,  # held while the run lives (the socket goes with the run)
    }
    csv = tmp_path / "csv"
    assert main(["export", str(run_dir), "--out", str(csv)]) == 0
    assert mode(csv) == 0o700
    assert {mode(p) for p in csv.iterdir()} == {0o600}

    def broken(self: Trainer) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(Trainer, "_train_epoch", broken)
    assert main([*HEADLESS, "--epochs", "2", "--resume", str(run_dir)]) == 1
    assert mode(run_dir / "error.log") == 0o600
    capsys.readouterr()
