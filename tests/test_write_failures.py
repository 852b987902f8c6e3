"""A full disk (or any failed write) stops the run with one line, exit 4, and nothing lost.

The issue's case printed ``cnn-tui: training failed: None`` (exit 1), left ``error.log``
empty and ``events.jsonl`` ending in half a line that ``cnn-tui export`` then refused. The
failures are injected where the engine writes (no root needed); one test fills a real
3 MB tmpfs where this machine lets it mount one, and skips where it does not.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from cnn_tui.cli import main
from cnn_tui.data import LoadedData
from cnn_tui.engine import runlog, session
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.events import BatchLogged, CheckpointSaved, Event, Notice, RunState
from cnn_tui.engine.trainer import Trainer
from tests.helpers import Recorder, open_test_run

ENOSPC = "no space left on device"
HEADLESS = ["--headless", "--epochs", "3", "--log-interval", "20"]


def disk_full() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def err_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_a_checkpoint_that_cannot_be_written_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_save, saves = torch.save, []

    def save(obj: object, f: Any) -> None:  # the second save finds the disk full midway
        saves.append(1)
        if len(saves) == 2:
            f.write(b"half a checkpoint")
            raise disk_full()
        real_save(obj, f)

    monkeypatch.setattr(torch, "save", save)
    assert main([*HEADLESS, "--run-dir", str(tmp_path)]) == 4
    lines = err_lines(capsys)
    checkpoint = tmp_path / "checkpoint.pt"
    assert lines == [
        f"cnn-tui: error: cannot write {checkpoint}: {ENOSPC}; the run stopped and its last "
        f"good checkpoint {checkpoint} is intact: make room (or fix the folder), "
        f"then --resume {tmp_path}"
    ]
    assert load_checkpoint(tmp_path).progress.epoch == 2  # the first epoch's, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.pt",
        "error.log",
        "events.jsonl",
        "lock",
        "run.json",
    ]  # and no temporary file left behind
    assert "No space left on device" in (tmp_path / "error.log").read_text()
    assert stat.S_IMODE((tmp_path / "error.log").stat().st_mode) == 0o600
    assert main(["export", str(tmp_path), "--out", str(tmp_path.parent / "csv")]) == 0


class _FillsUp:
    """``os`` for the run log, whose ``write`` finds the disk full midway through a line."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        self.after -= 1
        if self.after > 0:
            return os.write(fd, data)
        if self.after == 0:
            return os.write(fd, data[: len(data) // 2])  # what a filling disk takes
        raise disk_full()


def test_a_log_that_cannot_be_written_stops_the_run_with_whole_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runlog, "os", _FillsUp(after=20))
    assert main([*HEADLESS, "--run-dir", str(tmp_path)]) == 4
    lines = err_lines(capsys)
    assert len(lines) == 1
    log_file = tmp_path / "events.jsonl"
    assert lines[0].startswith(f"cnn-tui: error: cannot write {log_file}: {ENOSPC}")
    log = (tmp_path / "events.jsonl").read_bytes()
    assert log.endswith(b"\n")  # the half line was taken back
    assert len(log.splitlines()) == 19
    assert load_checkpoint(tmp_path)  # what was trained was saved before the run stopped
    assert main(["export", str(tmp_path), "--out", str(tmp_path.parent / "csv")]) == 0


def test_an_error_log_that_cannot_be_written_is_said_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Trainer) -> bool:
        raise OSError(errno.EIO, "Input/output error")  # not a write of ours: a plain failure

    def no_room(path: Path, text: str) -> None:
        raise disk_full()

    monkeypatch.setattr(Trainer, "_train_epoch", broken)
    monkeypatch.setattr(session, "write_private_text", no_room)
    assert main([*HEADLESS, "--run-dir", str(tmp_path)]) == 1
    assert err_lines(capsys) == [
        "cnn-tui: training failed: OSError: [Errno 5] Input/output error",
        f"cnn-tui: note: could not write the details to {tmp_path / 'error.log'}: {ENOSPC}",
    ]


def test_a_failure_names_itself_and_where_its_details_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Trainer) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(Trainer, "_train_epoch", broken)
    assert main([*HEADLESS, "--run-dir", str(tmp_path)]) == 1
    assert err_lines(capsys) == [
        f"cnn-tui: training failed: RuntimeError: boom (details in {tmp_path / 'error.log'})"
    ]
    assert "RuntimeError: boom" in (tmp_path / "error.log").read_text()


# -- a run directory deleted mid-run -----------------------------------------------------------
def test_a_run_dir_deleted_mid_run_is_noticed_and_recreated(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    deleted: list[int] = []

    def delete_once(event: Event) -> None:
        recorder(event)
        if isinstance(event, BatchLogged) and event.batch_index == 2 and not deleted:
            shutil.rmtree(run_dir)  # as `rm -r` from another terminal would
            deleted.append(event.examples_seen)

    run = open_test_run(tiny_data, delete_once, run_dir, epochs=2)
    assert run.run() is RunState.DONE
    notices = [n.message for n in recorder.of(Notice) if "was deleted" in n.message]
    assert notices == [
        f"the run directory {run_dir} was deleted while the run was writing to it: recreated "
        "it; events.jsonl starts again here and a checkpoint is saved next"
    ]
    saved = recorder.of(CheckpointSaved)
    assert saved[0].reason == "requested" and saved[0].epoch == 1  # saved at once
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    log = (run_dir / "events.jsonl").read_text().splitlines()
    assert "was deleted" in log[0]
    assert load_checkpoint(run_dir).progress.epoch == 3
    assert main(["export", str(run_dir), "--out", str(run_dir / "csv")]) == 0


def test_an_older_wider_log_is_made_private(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    run_dir.mkdir(mode=0o700)
    (run_dir / "events.jsonl").write_text("")
    (run_dir / "events.jsonl").chmod(0o644)
    open_test_run(tiny_data, recorder, run_dir)
    assert stat.S_IMODE((run_dir / "events.jsonl").stat().st_mode) == 0o600


# -- a real full disk --------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs, where this machine lets the test mount one."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    point = tmp_path / "disk"
    point.mkdir()
    if os.geteuid() != 0 or not mount or not umount:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    made = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(point)],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run([umount, "-l", str(point)], check=False)


def fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as handle:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as err:
                assert err.errno == errno.ENOSPC


def test_a_real_full_disk(small_disk: Path, tmp_path: Path) -> None:
    run_dir = small_disk / "run"
    args = ["--headless", "--epochs", "50", "--log-interval", "5", "--run-dir", str(run_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnn_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Train Epoch: 2 "):  # epoch 1's checkpoint is on the disk
            break
    fill(small_disk)
    _, err = proc.communicate(timeout=120)
    lines = err.splitlines()
    assert proc.returncode == 4, err
    assert lines[0].startswith(f"cnn-tui: error: cannot write {run_dir}/")
    assert f": {ENOSPC}; " in lines[0]
    assert len(lines) <= 2 and all("Traceback" not in line for line in lines)
    assert load_checkpoint(run_dir).progress.epoch >= 2
    csv = tmp_path / "csv"
    exported = subprocess.run(
        [sys.executable, "-m", "cnn_tui", "export", str(run_dir), "--out", str(csv)],
        capture_output=True,
        text=True,
    )
    assert exported.returncode == 0, exported.stderr
    assert (csv / "train.csv").is_file() and (csv / "test.csv").is_file()
