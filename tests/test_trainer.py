"""The engine's loop: the tutorial's sequence of events, counters, determinism, divergence."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnn_tui.data import LoadedData, Split
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import (
    BatchLogged,
    CheckpointSaved,
    Diverged,
    EpochTested,
    ProbeTaken,
    RunStarted,
    RunState,
    SamplesPredicted,
    StateChanged,
)
from cnn_tui.model import Net
from tests.helpers import Recorder, open_test_run


def losses(recorder: Recorder) -> list[float]:
    return [e.loss for e in recorder.of(BatchLogged)]


def test_run_follows_the_tutorial_sequence(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    state = open_test_run(tiny_data, recorder, run_dir, epochs=2, log_interval=3).run()

    assert state is RunState.DONE
    assert isinstance(recorder.events[0], RunStarted)
    tests = recorder.of(EpochTested)
    assert [t.epoch for t in tests] == [0, 1, 2]  # a pass before training, then one per epoch
    assert [t.examples_seen for t in tests] == [0, 640, 1280]
    assert all(t.total == 200 for t in tests)
    batches = recorder.of(BatchLogged)
    # 10 batches of 64 per epoch, logged at batch 0, 3, 6, 9 like the tutorial's modulo
    assert [(b.epoch, b.batch_index) for b in batches] == [
        (e, i) for e in (1, 2) for i in (0, 3, 6, 9)
    ]
    assert [b.examples_seen for b in batches[:4]] == [0, 192, 384, 576]  # train_counter
    assert batches[-1].examples_seen == 640 + 576
    assert all(b.batches_in_epoch == 10 and b.epoch_size == 640 for b in batches)
    assert batches[3].train_seen == 640 and 0 <= batches[3].train_correct <= 640
    saved = recorder.of(CheckpointSaved)
    assert [s.reason for s in saved] == ["epoch end", "epoch end"]
    assert recorder.of(StateChanged)[-1].state is RunState.DONE


def test_training_learns_on_real_digits(sample_data: LoadedData, recorder: Recorder) -> None:
    open_test_run(sample_data, recorder, None, epochs=2, log_interval=20).run()
    before, _, after = recorder.of(EpochTested)
    assert before.accuracy < 0.3  # an untrained network guesses
    assert after.accuracy > 0.6  # two epochs of 6,000 real digits teach it a lot
    assert after.avg_loss < before.avg_loss


@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_gives_the_same_losses_bit_for_bit(tiny_data: LoadedData, threads: int) -> None:
    runs = []
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for seed in (7, 7, 8):
            rec = Recorder()
            open_test_run(tiny_data, rec, None, epochs=2, log_interval=1, seed=seed).run()
            runs.append(losses(rec))
    finally:
        torch.set_num_threads(before)
    assert len(runs[0]) == 20
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_confusion_matrix_matches_predictions_computed_independently(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    run = open_test_run(tiny_data, recorder, None, epochs=1)
    run.run()
    final = recorder.of(EpochTested)[-1]
    net = run.trainer.net.eval()
    with torch.no_grad():
        predicted = net(tiny_data.test.images).argmax(1)
    expected = [[0] * 10 for _ in range(10)]
    for true, pred in zip(tiny_data.test.labels.tolist(), predicted.tolist(), strict=True):
        expected[true][pred] += 1
    assert [list(row) for row in final.confusion] == expected
    wrong = (predicted != tiny_data.test.labels).nonzero().flatten().tolist()
    assert [m.index for m in final.mistakes] == wrong
    assert all(m.predicted == predicted[m.index] for m in final.mistakes)
    assert final.correct == 200 - len(wrong)


def test_visual_events_describe_the_probe_and_samples(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    open_test_run(tiny_data, recorder, None, visual_every=5).run()
    probes = recorder.of(ProbeTaken)
    samples = recorder.of(SamplesPredicted)
    assert probes and samples
    probe = probes[-1]
    assert probe.index == 0 and probe.label == int(tiny_data.test.labels[0])
    assert tuple(probe.stages["conv1"].shape) == (10, 24, 24)
    assert abs(float(probe.stages["probs"].sum()) - 1.0) < 1e-5
    assert probe.prediction == int(probe.stages["probs"].argmax())
    grid = samples[-1]
    assert len(grid.indices) == 16 and tuple(grid.images.shape) == (16, 28, 28)
    assert float(grid.images.max()) <= 1.0 and float(grid.images.min()) >= 0.0
    assert list(grid.labels) == tiny_data.test.labels[list(grid.indices)].tolist()


def test_looking_at_the_network_does_not_change_training(tiny_data: LoadedData) -> None:
    quiet, watched = Recorder(), Recorder()
    open_test_run(tiny_data, quiet, None, log_interval=1, visual_every=0).run()
    open_test_run(tiny_data, watched, None, log_interval=1, visual_every=1).run()
    assert losses(quiet) == losses(watched)


def nan_data(data: LoadedData) -> LoadedData:
    images = torch.full_like(data.train.images, float("nan"))
    return LoadedData(
        data.spec, data.source, Split(images, data.train.labels, data.train.raw), data.test
    )


def test_nan_loss_pauses_instead_of_training_on_garbage(
    tiny_data: LoadedData, recorder: Recorder, run_dir: Path
) -> None:
    control = Control()
    run = open_test_run(nan_data(tiny_data), recorder, run_dir, control=control)
    torch.manual_seed(1)
    untouched = {k: v.clone() for k, v in Net().state_dict().items()}
    run.run_dir.mkdir(parents=True, exist_ok=True)
    good = run.run_dir / "checkpoint.pt"
    good.write_bytes(b"the last good checkpoint")

    import threading

    worker = threading.Thread(target=run.run)
    worker.start()
    diverged = recorder.wait_for(lambda e: isinstance(e, Diverged))
    recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state is RunState.DIVERGED)
    control.stop()
    worker.join(timeout=30)

    assert not worker.is_alive()
    assert diverged.batch_index == 0 and diverged.loss != diverged.loss  # NaN
    assert not recorder.of(BatchLogged)  # the bad batch was never applied or logged
    for key, value in run.trainer.net.state_dict().items():
        assert torch.equal(value, untouched[key]), key
    assert good.read_bytes() == b"the last good checkpoint"  # not overwritten by garbage
    saved = recorder.of(CheckpointSaved)[-1]
    assert Path(saved.path).name == "checkpoint-diverged.pt"
    assert load_checkpoint(Path(saved.path)).progress.batch_index == 0
