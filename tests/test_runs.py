"""The runs registry: a lock tells live from dead, records say how a run stands."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_tui.config import HyperParams
from cnn_tui.engine.events import EpochTested, RunState, StateChanged
from cnn_tui.runs.listing import table
from cnn_tui.runs.lock import RunBusy, RunLock, is_live
from cnn_tui.runs.record import RunRecord, read_record, write_record
from cnn_tui.runs.recorder import RunRecorder
from cnn_tui.runs.registry import RunNotFound, find_run, list_runs, new_id, register

HOLD_LOCK = """
import sys
from pathlib import Path
from cnn_tui.runs.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
print("locked", flush=True)
sys.stdin.read()
"""


def make_run(root: Path, name: str, state: str = "done") -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    record = RunRecord(id=new_id(run_dir), run_dir=str(run_dir), dataset="mnist", state=state)
    record.hparams = HyperParams().to_dict()
    write_record(run_dir, record)
    register(run_dir, record.id)
    return run_dir


def test_a_second_lock_on_a_run_directory_is_refused(tmp_path: Path) -> None:
    lock = RunLock(tmp_path)
    assert is_live(tmp_path)
    with pytest.raises(RunBusy, match=f"still going \\(pid {os.getpid()}\\)"):
        RunLock(tmp_path)
    lock.release()
    assert not is_live(tmp_path)
    RunLock(tmp_path).release()


def test_a_run_killed_with_sigkill_is_no_longer_live(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    assert is_live(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert not is_live(tmp_path)  # the pid may be reused; the lock went with the process


def test_runs_lists_a_dead_run_that_claims_to_run_as_crashed(tmp_path: Path) -> None:
    make_run(tmp_path, "finished", state="done")
    make_run(tmp_path, "killed", state="running")
    states = {info.record.id: info.state for info in list_runs()}
    assert states == {"finished": "done", "killed": "crashed"}
    listing = table(list_runs())
    assert listing.splitlines()[0].split()[:3] == ["ID", "DATASET", "STATE"]
    assert "crashed" in listing


def test_a_run_is_found_by_id_prefix_or_path(tmp_path: Path) -> None:
    first = make_run(tmp_path, "20261201-010101-mnist")
    second = make_run(tmp_path, "20261201-020202-mnist")
    assert find_run("20261201-01") == first
    assert find_run(str(second)) == second
    with pytest.raises(RunNotFound, match="could be any of"):
        find_run("20261201")
    with pytest.raises(RunNotFound, match="no run is called 'nope'"):
        find_run("nope")


def test_two_run_directories_of_one_name_get_two_ids(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", "run")
    b = make_run(tmp_path / "b", "run")
    assert {find_run("run"), find_run("run-2")} == {a, b}


def test_the_record_follows_the_run_and_stays_private(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        recorder = RunRecorder(tmp_path, RunRecord(id="r", run_dir=str(tmp_path)))
    finally:
        os.umask(previous)
    recorder(StateChanged(RunState.RUNNING, "", 1, 0))
    recorder(EpochTested(1, 60, 0.5, 90, 100, (), ()))
    recorder(EpochTested(2, 120, 0.4, 80, 100, (), ()))
    recorder(StateChanged(RunState.DONE, "", 3, 120))
    recorder(StateChanged(RunState.STOPPED, "", 3, 120))
    record = read_record(tmp_path)
    assert record is not None
    assert (record.state, record.best_accuracy, record.epoch) == ("done", 0.9, 3)
    assert stat.S_IMODE((tmp_path / "run.json").stat().st_mode) == 0o600
