"""Shared fixtures: an isolated environment (no network, no user dirs), tiny real data, and
the recorded runs the UI tests replay (``tests/recordings.py``; ``--update-recordings``).

Every test that compares screens (``snap_compare``) is marked ``snapshot``: CI runs those a
second time with the plainest CPU kernels, to show that they depend on no CPU's arithmetic.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import torch

from cnn_tui.data import LoadedData, Split, load_data
from tests.helpers import Recorder
from tests.recordings import Replayed, Store

pytest_plugins = ["tests.process_helpers"]  # the reaper fixture for tests of processes

torch.set_num_threads(1)  # tests compare losses bit for bit; one thread keeps them stable

STORE = pytest.StashKey[Store]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-recordings",
        action="store_true",
        help="train the recorded runs under tests/fixtures again and rewrite them, with the "
        "answers to the probes the tests ask for (then run --snapshot-update)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STORE] = Store(update=bool(config.getoption("--update-recordings")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.snapshot)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        lacking = item.config.stash[STORE].test_ended()
        if lacking is not None and report.failed and lacking not in report.longreprtext:
            # say first what the test could not get: it failed waiting for that answer
            report.longrepr = f"{lacking}\n\n{report.longreprtext}"
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    store = session.config.stash[STORE]
    if store.update:
        done = store.save()
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.ensure_newline()
            terminal.write_sep("-", "recordings (CHANGED: run --snapshot-update)")
            for line in done:
                terminal.write_line(line)


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


def recorded(request: pytest.FixtureRequest, name: str) -> Replayed:
    """The committed recording ``name``, or (``--update-recordings``) the same made again."""
    store = request.config.stash[STORE]
    try:
        return store.get(name, lambda: request.getfixturevalue("sample_data"))
    except FileNotFoundError as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="session")
def inside_demo(request: pytest.FixtureRequest) -> Replayed:
    """A real run on the sample into epoch 2 (one test pass after training, 30 more batches)."""
    return recorded(request, "inside-demo")


@pytest.fixture(scope="session")
def dashboard_demo(request: pytest.FixtureRequest) -> Replayed:
    """Into epoch 2 of the tutorial's run on the sample, with lr raised after epoch 1."""
    return recorded(request, "dashboard-demo")


@pytest.fixture(scope="session")
def untrained_net(request: pytest.FixtureRequest) -> Replayed:
    """The answers of a seeded, untrained Net to the digits the tests draw."""
    return recorded(request, "untrained-net")


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
