"""Forks: a new run from this exact point, with new settings; the parent left as it was."""

from __future__ import annotations

import threading
from pathlib import Path

import torch

from cnn_tui.cli import main
from cnn_tui.data import LoadedData
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.control import Fork, SetHParams, Step
from cnn_tui.engine.events import BatchLogged, Forked
from cnn_tui.runs.record import read_record
from tests.helpers import Recorder, WatchedControl, open_test_run

HEADLESS = ["--headless", "--log-interval", "50"]


def test_a_forks_first_step_is_the_parents_next_step_with_the_new_values(
    tiny_data: LoadedData, tmp_path: Path
) -> None:
    parent_dir = tmp_path / "parent"
    control, recorder = WatchedControl(paused=True), Recorder()
    parent = open_test_run(tiny_data, recorder, parent_dir, control=control, epochs=5)
    thread = threading.Thread(target=parent.run, kwargs={"linger": True}, daemon=True)
    thread.start()
    control.until_blocked()  # paused in the first test pass
    control.submit(Step(3))
    control.until_blocked()
    parent.trainer.save("requested")
    saved = (parent_dir / "checkpoint.pt").read_bytes()

    control.submit(Fork())
    forked = recorder.wait_for(lambda e: isinstance(e, Forked))
    assert isinstance(forked, Forked) and forked.parent_dir == str(parent_dir)
    fork_dir = Path(forked.run_dir)
    assert fork_dir == tmp_path / "parent-fork1"
    assert (parent_dir / "checkpoint.pt").read_bytes() == saved  # the parent's is untouched

    control.submit(SetHParams({"lr": 0.1}))  # the parent itself takes the same new value ...
    control.submit(Step(1))
    recorder.wait_for(lambda e: isinstance(e, BatchLogged) and e.examples_seen == 192)
    parents_step = {k: v.clone() for k, v in parent.trainer.net.state_dict().items()}
    control.stop()
    thread.join(30)

    fork_control, fork_recorder = WatchedControl(paused=True), Recorder()
    fork = open_test_run(
        tiny_data, fork_recorder, fork_dir, control=fork_control, epochs=5, lr=0.1,
        checkpoint=load_checkpoint(fork_dir),
    )  # fmt: skip
    fork_thread = threading.Thread(target=fork.run, kwargs={"linger": True}, daemon=True)
    fork_thread.start()
    fork_control.until_blocked()
    fork_control.submit(Step(1))
    fork_recorder.wait_for(lambda e: isinstance(e, BatchLogged) and e.examples_seen == 192)
    forks_step = fork.trainer.net.state_dict()
    fork_control.stop()
    fork_thread.join(30)
    for name, value in parents_step.items():  # ... and both land on the same weights
        assert torch.equal(value, forks_step[name]), name


def test_the_command_line_forks_too_and_runs_shows_the_lineage(
    tmp_path: Path, capsys: object
) -> None:
    parent, child = tmp_path / "parent", tmp_path / "child"
    assert main([*HEADLESS, "--epochs", "1", "--run-dir", str(parent)]) == 0
    saved = (parent / "checkpoint.pt").read_bytes()
    args = [*HEADLESS, "--resume", str(parent), "--run-dir", str(child), "--lr", "0.05"]
    assert main([*args, "--epochs", "2"]) == 0
    assert (parent / "checkpoint.pt").read_bytes() == saved
    record = read_record(child)
    assert record is not None and record.parent == str(parent.absolute())
    assert record.fork_point == 6000  # the sample's epoch: where the parent's checkpoint was
    assert load_checkpoint(child).hparams.lr == 0.05
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out.splitlines()  # type: ignore[attr-defined]
    (line,) = [x for x in listing if x.startswith("child ")]
    assert line.endswith("parent @6,000")
