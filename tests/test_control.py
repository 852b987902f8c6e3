"""Steering a live run from another thread: pause, step, resume, stop, new hyperparameters."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from cnn_tui.config import ConfigError
from cnn_tui.data import LoadedData
from cnn_tui.engine.control import Control, ProbeImage
from cnn_tui.engine.events import (
    BatchLogged,
    CheckpointSaved,
    CommandRejected,
    EpochTested,
    Event,
    HParamsChanged,
    ProbeTaken,
    RunState,
    StateChanged,
)
from cnn_tui.engine.session import Run
from tests.helpers import Recorder, WatchedControl, open_test_run


def record_optimizer_lrs(run: Run) -> list[float]:
    """The learning rate in the optimizer at each optimizer step, as it happens."""
    seen: list[float] = []
    optimizer = run.trainer.optimizer
    step = optimizer.step

    def recording_step(*args: object, **kwargs: object) -> object:
        seen.append(optimizer.param_groups[0]["lr"])
        return step(*args, **kwargs)  # type: ignore[arg-type]

    optimizer.step = recording_step  # type: ignore[method-assign]
    return seen


def start(run: Run) -> threading.Thread:
    worker = threading.Thread(target=run.run, kwargs={"linger": True}, daemon=True)
    worker.start()
    return worker


def test_pause_stops_steps_and_step_advances_exactly_one_batch(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    control = WatchedControl(paused=True)
    run = open_test_run(tiny_data, recorder, None, control=control, log_interval=100)
    lrs = record_optimizer_lrs(run)
    worker = start(run)

    control.until_blocked()
    assert lrs == []  # paused from the start: not one optimizer step
    assert run.trainer.state is RunState.PAUSED

    control.step()
    control.until_blocked()
    assert len(lrs) == 1
    stepped = recorder.of(BatchLogged)
    assert len(stepped) == 1 and stepped[0].stepped and stepped[0].batch_index == 0

    control.step()
    control.until_blocked()
    assert len(lrs) == 2 and run.trainer.progress.batch_index == 2

    control.resume()
    recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state is RunState.DONE)
    assert len(lrs) == 10  # the rest of the epoch ran once resumed
    control.stop()
    worker.join(30)
    assert not worker.is_alive()


def test_a_pause_holds_a_test_pass_between_batches_and_a_step_lets_it_finish(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    control = WatchedControl()

    def pause_when_testing(event: Event) -> None:
        recorder(event)
        testing = isinstance(event, StateChanged) and event.state is RunState.TESTING
        if testing and not recorder.of(EpochTested):
            control.pause()  # as a user would, the moment the first test pass starts

    # test batches of 100: the pass over 200 test digits has a boundary in its middle
    run = open_test_run(tiny_data, pause_when_testing, None, control=control, test_batch_size=100)
    worker = start(run)
    control.until_blocked()
    assert run.trainer.state is RunState.PAUSED
    assert recorder.of(EpochTested) == []  # held inside the pass, not after it

    control.probe(3)  # a paused test pass still answers the screen
    assert recorder.wait_for(lambda e: isinstance(e, ProbeTaken) and e.index == 3)
    control.until_blocked()

    control.step()
    control.until_blocked()  # the pass finished, one training batch ran, paused again
    assert len(recorder.of(EpochTested)) == 1
    assert run.trainer.progress.batch_index == 1
    states = [e.state for e in recorder.of(StateChanged)]
    assert states[:3] == [RunState.TESTING, RunState.PAUSED, RunState.TESTING]

    control.resume()
    recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state is RunState.DONE)
    control.stop()
    worker.join(30)
    assert not worker.is_alive()


def test_resuming_in_a_test_pass_ends_stepping(tiny_data: LoadedData, recorder: Recorder) -> None:
    """Stepped to the end of an epoch, then resumed inside its test pass: the next epoch
    logs every log_interval batches again, not every batch as single steps do."""
    control = WatchedControl(paused=True)
    run = open_test_run(
        tiny_data, recorder, None, control=control, epochs=2, log_interval=100, test_batch_size=100
    )
    worker = start(run)
    control.until_blocked()  # held in the test pass before training
    for _ in range(10):  # the whole first epoch, a batch at a time
        control.step()
        control.until_blocked()
    assert run.trainer.state is RunState.PAUSED and len(recorder.of(EpochTested)) == 1
    control.resume()  # inside the test pass after epoch 1
    recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state is RunState.DONE)
    logged = recorder.of(BatchLogged)
    assert [b.batch_index for b in logged if b.epoch == 1] == list(range(10))
    assert [b.batch_index for b in logged if b.epoch == 2] == [0]
    control.stop()
    worker.join(30)


def test_new_lr_is_in_the_optimizer_at_the_next_step(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    control = WatchedControl(paused=True)
    run = open_test_run(tiny_data, recorder, None, control=control)
    lrs = record_optimizer_lrs(run)
    worker = start(run)
    control.until_blocked()

    control.step()
    control.until_blocked()
    applied = control.set_hparams(lr="0.05", momentum=0.9)
    control.until_blocked()  # the change is applied while still paused
    control.step()
    control.until_blocked()

    assert applied == {"lr": 0.05, "momentum": 0.9}
    assert lrs == [0.01, 0.05]
    assert run.trainer.optimizer.param_groups[0]["momentum"] == 0.9
    change = recorder.of(HParamsChanged)[-1]
    assert (change.old.lr, change.new.lr) == (0.01, 0.05)
    assert change.examples_seen == 64 and change.summary == "lr 0.01→0.05, momentum 0.5→0.9"
    control.stop()
    worker.join(30)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"lr": -1}, "greater than 0"),
        ({"lr": "fast"}, "must be a number"),
        ({"batch_size": 0}, "at least 1"),
        ({"momentum": 1.0}, "less than 1"),
        ({"warp": 9}, "not a hyperparameter"),
    ],
)
def test_invalid_hparams_never_reach_the_engine(changes: dict[str, object], words: str) -> None:
    control = Control()
    with pytest.raises(ConfigError, match=words):
        control.set_hparams(**changes)
    assert control.take() == [] and not control.attention


def test_engine_rejects_fewer_epochs_than_it_has_trained(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    control = WatchedControl()
    run = open_test_run(tiny_data, recorder, None, control=control, epochs=2)
    worker = start(run)
    recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state is RunState.DONE)
    control.set_hparams(epochs=1)
    rejected = recorder.wait_for(lambda e: isinstance(e, CommandRejected))
    assert "at least 3" in rejected.reason
    assert run.trainer.hparams.epochs == 2
    control.stop()
    worker.join(30)


def test_more_epochs_after_done_continues_training(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    control = Control()
    run = open_test_run(tiny_data, recorder, None, control=control, epochs=1)
    worker = start(run)
    recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state is RunState.DONE)
    control.set_hparams(epochs=2)
    recorder.wait_for(
        lambda e: isinstance(e, StateChanged) and e.state is RunState.DONE and e.epoch == 3
    )
    assert [t.epoch for t in recorder.of(BatchLogged)][-1] == 2
    control.stop()
    worker.join(30)
    assert recorder.of(StateChanged)[-1].state is RunState.STOPPED


def test_stop_ends_the_run_cleanly_with_a_checkpoint(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    control = Control()
    run = open_test_run(tiny_data, recorder, run_dir, control=control, epochs=50)
    worker = start(run)
    recorder.wait_for(lambda e: isinstance(e, BatchLogged) and e.epoch == 2)
    control.stop()
    worker.join(30)
    assert not worker.is_alive()
    assert run.trainer.state is RunState.STOPPED
    saved = recorder.of(CheckpointSaved)[-1]
    assert saved.reason == "stop" and Path(saved.path).exists()


def test_probe_request_is_answered_while_paused(tiny_data: LoadedData, recorder: Recorder) -> None:
    control = WatchedControl(paused=True)
    run = open_test_run(tiny_data, recorder, None, control=control, visual_every=5)
    worker = start(run)
    control.until_blocked()
    control.probe(7)
    probe = recorder.wait_for(lambda e: isinstance(e, ProbeTaken) and e.index == 7)
    assert probe.label == int(tiny_data.test.labels[7])
    drawn = torch.zeros(28, 28)
    drawn[4:24, 13:15] = 1.0  # a "1"
    control.probe_image(drawn)
    got = recorder.wait_for(lambda e: isinstance(e, ProbeTaken) and e.source == "drawn")
    assert got.label is None and tuple(got.stages["input"].shape) == (1, 28, 28)
    control.probe(10_000)
    assert "no test digit" in recorder.wait_for(lambda e: isinstance(e, CommandRejected)).reason
    control.stop()
    worker.join(30)


def test_only_the_latest_drawing_waits_for_the_engine() -> None:
    control = Control()
    first, second = (
        torch.zeros(28, 28, dtype=torch.uint8),
        torch.full((28, 28), 9, dtype=torch.uint8),
    )
    control.probe_image(first)
    control.save_checkpoint()
    control.probe_image(second)
    queued = control.take()
    drawings = [c for c in queued if isinstance(c, ProbeImage)]
    assert len(queued) == 2 and len(drawings) == 1
    assert torch.equal(drawings[0].image, second) and drawings[0].image.dtype == torch.uint8
    with pytest.raises(ValueError, match="28×28"):
        control.probe_image(torch.zeros(14, 14))
