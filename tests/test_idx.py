"""Tests for cnn_tui.idx: every kind of bad IDX file is one line naming the file and the fix.

Runs on tiny synthetic IDX files in tmp_path, mostly through ``load_data`` so the messages
are checked as users see them, with the hint for where the files came from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from cnn_tui import idx as idx_module
from cnn_tui.data import DataError, load_data
from tests.data_fixtures import (
    NAMES,
    cache_folder,
    idx,
    isolated_fixture,  # noqa: F401  (autouse: no network, tmp HOME)
    never,
    synthetic,
    write,
)


def test_data_error_is_the_one_data_reexports() -> None:
    assert DataError is idx_module.DataError


def test_plain_and_gz_files_read_the_same(tmp_path: Path) -> None:
    files = synthetic(seed=2)
    plain, gz = write(tmp_path / "plain", files), write(tmp_path / "gz", files, gz=True)
    raw, labels = idx_module.read_pair(plain / NAMES[0], plain / NAMES[1], 10, "hint")
    raw_gz, labels_gz = idx_module.read_pair(
        gz / f"{NAMES[0]}.gz", gz / f"{NAMES[1]}.gz", 10, "hint"
    )
    assert raw.dtype == labels.dtype == torch.uint8 and raw.shape == (12, 28, 28)
    assert raw.flatten().tolist() == list(files[NAMES[0]][16:])
    assert labels.tolist() == list(files[NAMES[1]][8:])
    assert torch.equal(raw, raw_gz) and torch.equal(labels, labels_gz)


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    write(tmp_path, synthetic())
    with pytest.raises(DataError, match=r"^nothing in .* cannot be read \(.*\): do this$"):
        idx_module.read_pair(tmp_path / "nothing", tmp_path / NAMES[1], 10, "do this")


def truncate(files: dict[str, bytes]) -> None:
    files[NAMES[0]] = files[NAMES[0]][:1000]


def relabel(files: dict[str, bytes]) -> None:
    files[NAMES[3]] = files[NAMES[3]][:11] + b"\x0c" + files[NAMES[3]][12:]


BAD_CASES: dict[str, tuple[Callable[[dict[str, bytes]], object], str]] = {
    "truncated": (
        truncate,
        "train-images-idx3-ubyte in {d} is truncated (9424 bytes expected, 1000 found)",
    ),
    "longer": (
        lambda f: f.update({NAMES[1]: f[NAMES[1]] + b"\0\0"}),
        "train-labels-idx1-ubyte in {d} is longer than its header says"
        " (20 bytes expected, 22 found)",
    ),
    "empty": (
        lambda f: f.update({NAMES[2]: b""}),
        "t10k-images-idx3-ubyte in {d} is truncated (16-byte header expected, 0 found)",
    ),
    "image magic": (
        lambda f: f.update({NAMES[2]: f[NAMES[3]]}),
        "t10k-images-idx3-ubyte in {d} has magic number 2049, expected 2051 (IDX images)",
    ),
    "label magic": (
        lambda f: f.update({NAMES[1]: idx(2051, (12,), bytes(12))}),
        "train-labels-idx1-ubyte in {d} has magic number 2051, expected 2049 (IDX labels)",
    ),
    "dims": (
        lambda f: f.update({NAMES[0]: idx(2051, (12, 32, 32), bytes(12 * 32 * 32))}),
        "train-images-idx3-ubyte in {d} holds 32x32 images, expected 28x28",
    ),
    "no images": (
        lambda f: f.update({NAMES[2]: idx(2051, (0, 28, 28), b"")}),
        "t10k-images-idx3-ubyte in {d} holds no images",
    ),
    "counts": (
        lambda f: f.update({NAMES[1]: idx(2049, (11,), bytes(11))}),
        "train-labels-idx1-ubyte in {d} has 11 labels but train-images-idx3-ubyte has 12 images",
    ),
    "label range": (relabel, "t10k-labels-idx1-ubyte in {d} has label 12 at index 3, expected 0-9"),
    "missing": (
        lambda f: f.pop(NAMES[3]),
        "t10k-labels-idx1-ubyte not found in {d} (nor t10k-labels-idx1-ubyte.gz)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_files_raise_one_line_naming_file_and_fix(case: str, tmp_path: Path) -> None:
    files = synthetic()
    mutate, expected = BAD_CASES[case]
    mutate(files)
    folder = write(tmp_path / "d" / "MNIST" / "raw", files)
    with pytest.raises(DataError) as err:
        load_data(data_dir=tmp_path / "d", download=never)
    message = str(err.value)
    assert message.startswith(expected.format(d=folder) + ": ")
    assert "\n" not in message
    assert "--data-dir" in message  # what to do next


def test_corrupt_gzip_is_named(tmp_path: Path) -> None:
    folder = write(tmp_path / "d", synthetic(), gz=True)
    body = (folder / "train-images-idx3-ubyte.gz").read_bytes()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(body[: len(body) // 2])
    with pytest.raises(DataError, match=r"^train-images-idx3-ubyte\.gz in .* is not a valid gzip"):
        load_data(data_dir=folder, download=never)


def test_damaged_cache_file_says_delete_it(tmp_path: Path) -> None:
    folder = write(cache_folder(tmp_path), synthetic())
    (folder / NAMES[2]).write_bytes(b"\0\0\x08\x03")
    with pytest.raises(DataError, match=r"is truncated .*: delete it and download again"):
        load_data(download=never)
