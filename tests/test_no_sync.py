"""The training loop never makes the host wait for the device between two logging batches.

On a GPU every ``loss.item()`` or ``int(correct)`` in the hot loop is a host-device sync
that leaves the GPU idle; the engine keeps losses and correct counts on the device and reads
them at logging batches. On a CPU a sync costs nothing, so the test counts the calls that
would be one (``item``, ``tolist``, ``bool``, ``int``, ``float``, ``cpu``, ``nonzero`` ...)
made while the loop trains, outside a logging batch. On CUDA the same run goes under
``torch.cuda.set_sync_debug_mode("error")`` between logging batches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from cnn_tui.data import LoadedData, Split
from cnn_tui.engine import trainer as trainer_module
from cnn_tui.engine.events import BatchLogged
from cnn_tui.engine.trainer import Trainer
from cnn_tui.model import Net
from tests.helpers import Recorder, open_test_run

SYNCS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "cpu", "numpy")
SYNCS_BY_NAME = ("nonzero",)
# Where the Trainer may read the device: a logging batch, a boundary, the views, a save.
READERS = ("_read", "_boundary", "_emit_visuals", "_log_batch", "save", "_test")


class Watch:
    """Counts sync-like tensor calls made while ``training`` and not inside a reader."""

    def __init__(self) -> None:
        self.training = False
        self.reading = 0
        self.calls: list[str] = []
        self.steps = 0

    @property
    def hot(self) -> bool:
        return self.training and not self.reading

    def spy(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def spied(*args: Any, **kwargs: Any) -> Any:
            if self.hot:
                self.calls.append(name)
            return original(*args, **kwargs)

        return spied

    def reader(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def read(*args: Any, **kwargs: Any) -> Any:
            self.reading += 1
            try:
                return original(*args, **kwargs)
            finally:
                self.reading -= 1

        return read


@contextlib.contextmanager
def watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    watch = Watch()
    for name in SYNCS:
        monkeypatch.setattr(torch.Tensor, name, watch.spy(name, getattr(torch.Tensor, name)))
    for name in SYNCS_BY_NAME:
        monkeypatch.setattr(torch, name, watch.spy(name, getattr(torch, name)))
        monkeypatch.setattr(torch.Tensor, name, watch.spy(name, getattr(torch.Tensor, name)))
    for name in READERS:
        monkeypatch.setattr(Trainer, name, watch.reader(getattr(Trainer, name)))
    train_epoch = Trainer._train_epoch

    def training(self: Trainer) -> bool:
        watch.training = True
        try:
            return train_epoch(self)
        finally:
            watch.training = False

    monkeypatch.setattr(Trainer, "_train_epoch", training)
    step = trainer_module.train_step

    def counted_step(*args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        watch.steps += 1
        loss, correct = step(*args, **kwargs)
        assert isinstance(loss, torch.Tensor) and isinstance(correct, torch.Tensor)
        return loss, correct

    monkeypatch.setattr(trainer_module, "train_step", counted_step)
    yield watch


def test_the_step_leaves_its_results_on_the_device(tiny_data: LoadedData) -> None:
    torch.manual_seed(1)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    x, y = tiny_data.train.images[:64], tiny_data.train.labels[:64]
    loss, correct = trainer_module.train_step(net, optimizer, x, y, scale=None, batch=64)
    assert loss.shape == () and loss.device == x.device and loss.dtype == torch.float32
    assert correct.shape == () and correct.dtype == torch.int64


def test_no_host_sync_between_logging_batches(
    tiny_data: LoadedData, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with watched(monkeypatch) as watch:
        open_test_run(tiny_data, recorder, None, epochs=2, log_interval=4).run()
    assert watch.steps == 20
    assert [b.batch_index for b in recorder.of(BatchLogged)] == [0, 4, 8] * 2
    assert watch.calls == []


def test_the_watch_sees_a_sync_in_the_hot_loop(
    tiny_data: LoadedData, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch itself works: a step that reads its loss is caught."""
    step = trainer_module.train_step

    def reading_step(*args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        loss, correct = step(*args, **kwargs)
        loss.item()
        return loss, correct

    monkeypatch.setattr(trainer_module, "train_step", reading_step)
    with watched(monkeypatch) as watch:
        open_test_run(tiny_data, recorder, None, epochs=1, log_interval=4).run()
    assert watch.calls.count("item") == 10


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_no_cuda_sync_between_logging_batches(
    tiny_data: LoadedData, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the end of one logging batch to the read of the next, a sync raises."""
    device = torch.device("cuda")
    train, test = (
        Split(s.images.to(device), s.labels.to(device), s.raw)
        for s in (tiny_data.train, tiny_data.test)
    )
    data = LoadedData(tiny_data.spec, tiny_data.source, train, test)
    read, log, step = Trainer._read, Trainer._log_batch, trainer_module.train_step

    def read_allowed(self: Trainer) -> bool:
        torch.cuda.set_sync_debug_mode(0)  # the logging batch's one read
        return read(self)

    def strict_after_log(self: Trainer, *args: Any) -> None:
        log(self, *args)
        torch.cuda.set_sync_debug_mode("error")

    def strict_step(*args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        torch.cuda.set_sync_debug_mode("error")
        return step(*args, **kwargs)

    monkeypatch.setattr(Trainer, "_read", read_allowed)
    monkeypatch.setattr(Trainer, "_log_batch", strict_after_log)
    monkeypatch.setattr(trainer_module, "train_step", strict_step)
    run = open_test_run(data, recorder, None, epochs=1, log_interval=5)
    try:
        run.run()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert [b.batch_index for b in recorder.of(BatchLogged)] == [0, 5]
