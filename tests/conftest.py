"""Shared fixtures: an isolated environment (no network, no user dirs) and tiny real data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from cnn_tui.config import HyperParams
from cnn_tui.data import LoadedData, Split, load_data
from cnn_tui.tui.replay import Recording, record
from tests.helpers import Recorder

pytest_plugins = ["tests.process_helpers"]  # the reaper fixture for tests of processes

torch.set_num_threads(1)  # tests compare losses bit for bit; one thread keeps them stable


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("CNN_TUI_OFFLINE", "1")
    monkeypatch.delenv("CNN_TUI_DATA", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> LoadedData:
    """The MNIST sample shipped in the package (6,000 train / 1,000 test digits)."""
    return load_data("mnist", offline=True, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def inside_demo(sample_data: LoadedData) -> Recording:
    """A real run on the sample into epoch 2 (one test pass after training, 30 more batches)."""
    return record(sample_data, stop_at=(2, 30), hparams=HyperParams(log_interval=5))


def _head(split: Split, n: int) -> Split:
    return Split(split.images[:n], split.labels[:n], split.raw[:n])


@pytest.fixture(scope="session")
def tiny_data(sample_data: LoadedData) -> LoadedData:
    """640 training and 200 test digits: ten batches of 64, two test batches of 100."""
    return LoadedData(
        sample_data.spec,
        sample_data.source,
        _head(sample_data.train, 640),
        _head(sample_data.test, 200),
    )


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    yield Recorder()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"
