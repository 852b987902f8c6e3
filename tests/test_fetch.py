"""Tests for cnn_tui.fetch: filling the cache from mirrors, and every way a download fails.

MNIST's torchvision resources are pointed at synthetic .gz files served by a fake
downloader or a fake ``urlopen``; an autouse fixture makes any real request fail.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path

import pytest
import torch
from torchvision.datasets import MNIST

from cnn_tui import data, fetch
from cnn_tui.data import DataError, load_data
from tests.data_fixtures import (
    NAMES,
    cache_folder,
    isolated_fixture,  # noqa: F401  (autouse: no network, tmp HOME)
    never,
    synthetic,
)

MIRRORS = ["https://one.example/mnist/", "https://two.example/mnist/"]
MIRRORS_FOR_FIRST_FILE = [m + "train-images-idx3-ubyte.gz" for m in MIRRORS]


class FakeDownloader:
    """Serves ``bodies`` by file name; URLs starting with a prefix in ``down`` fail."""

    def __init__(self, bodies: dict[str, bytes], down: tuple[str, ...] = ()) -> None:
        self.bodies, self.down = bodies, down
        self.calls: list[str] = []
        self.dests: list[Path] = []

    def __call__(self, url: str, dest: Path, progress: Callable[[str], None] | None) -> None:
        self.calls.append(url)
        self.dests.append(dest)
        if url.startswith(self.down):
            raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))
        dest.write_bytes(self.bodies[url.rsplit("/", 1)[-1]])


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, length: int) -> None:
        super().__init__(body)
        self.headers = {"Content-Length": str(length)}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """MNIST's torchvision resources pointed at synthetic .gz files (and fake mirrors)."""
    bodies = {
        f"{name}.gz": gzip.compress(body, mtime=0)
        for name, body in synthetic(n_train=10, n_test=6, seed=3).items()
    }
    resources = [(name, hashlib.md5(body).hexdigest()) for name, body in bodies.items()]
    monkeypatch.setattr(MNIST, "resources", resources)
    monkeypatch.setattr(MNIST, "mirrors", MIRRORS)
    return bodies


# --- mirrors, md5, atomic files ------------------------------------------------------------


def test_download_fills_the_cache(served: dict[str, bytes], tmp_path: Path) -> None:
    fake = FakeDownloader(served)
    loaded = load_data(download=fake)
    assert loaded.source.kind == "download" and len(loaded.train) == 10
    assert (
        loaded.source.detail == f"downloaded 4 files from one.example into {cache_folder(tmp_path)}"
    )
    assert fake.calls == [MIRRORS[0] + name for name in served]
    folder = cache_folder(tmp_path)
    # written beside the final file under another name, then renamed into place
    assert all(d.parent == folder and d.name not in served for d in fake.dests)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == served  # no temp files left
    again = load_data(download=never)
    assert again.source.kind == "cache" and torch.equal(again.test.raw, loaded.test.raw)


def test_download_fetches_only_missing_files(served: dict[str, bytes], tmp_path: Path) -> None:
    folder = cache_folder(tmp_path)
    folder.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes(served[name])
    fake = FakeDownloader(served)
    loaded = load_data(download=fake)
    assert [url.rsplit("/", 1)[-1] for url in fake.calls] == [f"{n}.gz" for n in NAMES[2:]]
    assert loaded.source.detail.startswith("downloaded 2 files from one.example")


def test_download_tries_the_next_mirror(served: dict[str, bytes]) -> None:
    fake, lines = FakeDownloader(served, down=(MIRRORS[0],)), list[str]()
    loaded = load_data(download=fake, progress=lines.append)
    assert loaded.source.kind == "download" and "from two.example" in loaded.source.detail
    assert lines[0] == (
        "downloading train-images-idx3-ubyte.gz from one.example failed: "
        "no network: Temporary failure in name resolution"
    )


def test_failed_download_falls_back_to_the_sample(served: dict[str, bytes], tmp_path: Path) -> None:
    fake = FakeDownloader(served, down=("https://",))
    loaded = load_data(download=fake)
    assert loaded.source.kind == "sample" and loaded.source.path == data.SAMPLE_DIR
    assert loaded.source.detail == (
        "packaged MNIST sample (6,000 train / 1,000 test): "
        "download failed (no network: Temporary failure in name resolution)"
    )
    assert fake.calls == MIRRORS_FOR_FIRST_FILE  # stops after the first file fails everywhere
    assert list(cache_folder(tmp_path).iterdir()) == []  # no partial files


def test_interrupted_download_leaves_no_file(served: dict[str, bytes], tmp_path: Path) -> None:
    def half_then_drop(url: str, dest: Path, progress: Callable[[str], None] | None) -> None:
        dest.write_bytes(served[url.rsplit("/", 1)[-1]][:100])
        raise ConnectionResetError(104, "Connection reset by peer")

    loaded = load_data(download=half_then_drop)
    assert loaded.source.detail.endswith("download failed (Connection reset by peer)")
    assert list(cache_folder(tmp_path).iterdir()) == []


def test_bad_md5_after_download(served: dict[str, bytes], tmp_path: Path) -> None:
    served["t10k-labels-idx1-ubyte.gz"] = gzip.compress(b"not what was promised")
    with pytest.raises(DataError) as err:
        load_data(download=FakeDownloader(served))
    message = str(err.value)
    assert message.startswith(
        f"t10k-labels-idx1-ubyte.gz downloaded from {MIRRORS[0]}t10k-labels-idx1-ubyte.gz has md5 "
    )
    assert "the download is corrupt" in message and "--data-dir" in message
    assert not (cache_folder(tmp_path) / "t10k-labels-idx1-ubyte.gz").exists()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (urllib.error.HTTPError("u", 404, "Not Found", Message(), None), "HTTP 404 Not Found"),
        (urllib.error.URLError(TimeoutError()), "no network: no answer within 5 s"),
        (TimeoutError(), "no answer within 5 s"),
    ],
)
def test_each_failure_is_one_short_reason(error: Exception, reason: str, tmp_path: Path) -> None:
    def fail(url: str, dest: Path, progress: Callable[[str], None] | None) -> None:
        raise error

    with pytest.raises(fetch.DownloadFailed, match=f"^{re.escape(reason)}$"):  # said once
        fetch.fetch(MIRRORS, tmp_path, "a.gz", "0" * 32, None, fail)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_cache_falls_back_to_the_sample(
    served: dict[str, bytes], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    loaded = load_data(cache_dir=tmp_path / "file", download=FakeDownloader(served))
    assert loaded.source.kind == "sample" and "download failed (" in loaded.source.detail


# --- the default downloader (urllib) -------------------------------------------------------


def test_default_downloader_streams_with_throttled_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body, seen = bytes(range(256)) * 4096, list[tuple[str, float]]()  # 1 MiB: 16 reads

    def urlopen(request: urllib.request.Request, timeout: float) -> FakeResponse:
        seen.append((request.full_url, timeout))
        return FakeResponse(body, len(body))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    lines: list[str] = []
    data.download_url("https://x.example/a.gz", tmp_path / "a", lines.append)
    assert (tmp_path / "a").read_bytes() == body
    assert seen == [("https://x.example/a.gz", 5.0)]
    assert lines == ["downloading a.gz: 6% of 1.0 MB", "downloading a.gz: 100% of 1.0 MB"]


def test_default_downloader_short_body_is_a_failed_download(
    monkeypatch: pytest.MonkeyPatch, served: dict[str, bytes]
) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda r, timeout: FakeResponse(b"abc", 10))
    loaded = load_data()
    assert loaded.source.detail.endswith("download failed (connection closed after 3 of 10 bytes)")


def test_default_downloader_without_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def urlopen(request: urllib.request.Request, timeout: float) -> FakeResponse:
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    loaded = load_data()
    assert loaded.source.kind == "sample"
    assert loaded.source.detail.endswith("download failed (no network: Name or service not known)")
