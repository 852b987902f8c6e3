"""Shared by the data tests (test_data, test_idx, test_fetch): tiny IDX files and isolation.

Builders for small synthetic IDX files, a downloader that must not be called, where the
MNIST cache lands, and the autouse fixture :func:`isolated_fixture` (HOME and the cache
under tmp_path, downloads allowed but any real network request fails). A test module turns
the fixture on by importing it (``isolated_fixture,  # noqa: F401``); it is not in
conftest.py so that it applies to these modules only.
"""

from __future__ import annotations

import gzip
import struct
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">{1 + len(dims)}I", magic, *dims) + payload


def synthetic(n_train: int = 12, n_test: int = 8, seed: int = 0) -> dict[str, bytes]:
    """Valid uncompressed IDX files by name, random digits and labels 0-9."""
    g = torch.Generator().manual_seed(seed)
    files = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
        labels = torch.randint(0, 10, (n,), dtype=torch.uint8, generator=g)
        files[f"{prefix}-images-idx3-ubyte"] = idx(2051, (n, 28, 28), images.numpy().tobytes())
        files[f"{prefix}-labels-idx1-ubyte"] = idx(2049, (n,), labels.numpy().tobytes())
    return files


def write(folder: Path, files: dict[str, bytes], gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(body, mtime=0))
        else:
            (folder / name).write_bytes(body)
    return folder


def never(url: str, dest: Path, progress: Callable[[str], None] | None) -> None:
    raise AssertionError(f"downloader called for {url}")


def cache_folder(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "cnn-tui" / "MNIST" / "raw"


@pytest.fixture(autouse=True, name="isolated")
def isolated_fixture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """HOME and XDG_CACHE_HOME under tmp_path, no CNN_TUI_DATA/OFFLINE, urlopen refused."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CNN_TUI_DATA", raising=False)
    monkeypatch.delenv("CNN_TUI_OFFLINE", raising=False)  # conftest sets it; downloads are tried

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    yield
