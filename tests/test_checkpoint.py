"""Checkpoints: atomic save, safe load, and resuming exactly where a run stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from cnn_tui.data import LoadedData
from cnn_tui.engine import checkpoint as checkpoint_module
from cnn_tui.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import BatchLogged, EpochTested, Event, HistoryRestored, RunState
from cnn_tui.model import Net
from tests.helpers import Recorder, open_test_run


def batch_losses(events: list[Event]) -> list[tuple[int, float]]:
    return [(e.examples_seen, e.loss) for e in events if isinstance(e, BatchLogged)]


def test_round_trip_keeps_weights_optimizer_and_progress(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    run = open_test_run(tiny_data, recorder, run_dir, epochs=1)
    run.run()
    loaded = load_checkpoint(run_dir)  # a run directory stands for its checkpoint
    for key, value in run.trainer.net.state_dict().items():
        assert torch.equal(loaded.model_state[key], value)
    assert loaded.optimizer_state is not None
    assert loaded.optimizer_state["param_groups"][0]["lr"] == 0.01
    assert loaded.hparams == run.trainer.hparams and loaded.dataset == "mnist"
    assert (loaded.progress.epoch, loaded.progress.position, loaded.progress.last_tested) == (
        2,
        0,
        1,
    )
    assert len(loaded.progress.test_history) == 2


@pytest.mark.parametrize("stop_after_batch", [3, 10])  # mid-epoch, and at an epoch's end
def test_resume_continues_exactly_where_it_stopped(
    tiny_data: LoadedData, tmp_path: Path, stop_after_batch: int
) -> None:
    straight = Recorder()
    open_test_run(tiny_data, straight, None, epochs=2, log_interval=1).run()

    control = Control()
    first = Recorder()

    def stop_at(event: Event) -> None:
        first(event)
        seen = stop_after_batch * 64
        if isinstance(event, BatchLogged) and event.examples_seen == seen - 64:
            control.stop()

    run_dir = tmp_path / "run"
    state = open_test_run(
        tiny_data, stop_at, run_dir, epochs=2, log_interval=1, control=control
    ).run()
    assert state is RunState.STOPPED

    second = Recorder()
    resumed = open_test_run(
        tiny_data, second, None, epochs=2, log_interval=1, checkpoint=load_checkpoint(run_dir)
    )
    assert resumed.run() is RunState.DONE
    assert batch_losses(first.events) + batch_losses(second.events) == batch_losses(straight.events)
    restored = second.of(HistoryRestored)[0]
    assert [seen for seen, _ in restored.train] == [s for s, _ in batch_losses(first.events)]
    tests = [t.epoch for t in first.of(EpochTested) + second.of(EpochTested)]
    assert tests == [0, 1, 2]


def test_a_failed_save_leaves_the_previous_checkpoint_intact(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = open_test_run(tiny_data, recorder, run_dir, epochs=1)
    run.run()
    before = (run_dir / "checkpoint.pt").read_bytes()

    def disk_full(obj: object, f: object) -> None:
        f.write(b"half a checkpoint")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_module.torch, "save", disk_full)
    with pytest.raises(OSError):
        save_checkpoint(run_dir / "checkpoint.pt", run.trainer.snapshot())
    assert (run_dir / "checkpoint.pt").read_bytes() == before
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.pt", "events.jsonl"]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"no checkpoint at .*nope\.pt"):
        load_checkpoint(tmp_path / "nope.pt")


def test_garbage_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "junk.pt"
    path.write_bytes(b"\x00not a zip file at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "cnn-tui-checkpoint/1", "payload": Path("/")}, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_another_models_checkpoint_is_rejected(tmp_path: Path) -> None:
    other = nn.Sequential(nn.Linear(784, 10))
    path = tmp_path / "other.pt"
    torch.save(other.state_dict(), path)
    with pytest.raises(CheckpointError, match="not a checkpoint of the tutorial's Net"):
        load_checkpoint(path)

    wider = Net()
    wider.fc1 = nn.Linear(320, 64)
    state = {"format": "cnn-tui-checkpoint/1", "model": "Net", "model_state": wider.state_dict()}
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"another model \(fc1.weight has shape"):
        load_checkpoint(path)


def test_the_tutorials_model_pth_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "model.pth"
    torch.save(Net().state_dict(), path)
    loaded = load_checkpoint(path)
    assert loaded.is_bare_state_dict and loaded.optimizer_state is None
    assert loaded.progress.epoch == 1
