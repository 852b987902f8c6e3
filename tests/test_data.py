"""Tests for cnn_tui.data: the registry, where files come from, the sample, numerics.

Everything runs on tiny synthetic IDX files in tmp_path and the packaged sample; nothing
here needs /work/shared or a network (an autouse fixture makes any real request fail).
IDX validation is tested in test_idx.py, downloading in test_fetch.py.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
import torch
from torchvision import transforms
from torchvision.datasets import KMNIST, MNIST, FashionMNIST

from cnn_tui import data, fetch, idx
from cnn_tui.data import DATASETS, DataError, load_data, normalize
from tests.data_fixtures import (
    NAMES,
    cache_folder,
    isolated_fixture,  # noqa: F401  (autouse: no network, tmp HOME)
    never,
    synthetic,
    write,
)

REPO = Path(__file__).resolve().parents[1]


# --- registry ------------------------------------------------------------------------------


def test_registry_follows_torchvision_and_the_tutorial() -> None:
    assert list(DATASETS) == ["mnist", "fashion-mnist", "kmnist"]
    for spec, cls in zip(DATASETS.values(), (MNIST, FashionMNIST, KMNIST), strict=True):
        assert spec.tv_class is cls
        assert spec.folder == cls.__name__
        assert spec.classes == tuple(cls.classes) and len(spec.classes) == 10
        assert [gz for gz, _ in spec.resources] == [f"{n}.gz" for n in NAMES]
    stats = {name: (s.mean, s.std) for name, s in DATASETS.items()}
    assert stats == {
        "mnist": (0.1307, 0.3081),
        "fashion-mnist": (0.2860, 0.3530),
        "kmnist": (0.1918, 0.3483),
    }


def test_unknown_dataset_lists_the_choices() -> None:
    with pytest.raises(DataError, match=r"unknown dataset 'cifar': choose from mnist, fashion"):
        load_data("cifar")


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert data.default_cache_dir() == tmp_path / "xdg" / "cnn-tui"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert data.default_cache_dir() == tmp_path / "home" / ".cache" / "cnn-tui"


# --- --data-dir / CNN_TUI_DATA -------------------------------------------------------------


def test_data_dir_in_torchvision_layout(tmp_path: Path) -> None:
    files = synthetic()
    write(tmp_path / "d" / "MNIST" / "raw", files)
    loaded = load_data("mnist", "cpu", tmp_path / "d", download=never)
    assert loaded.source.kind == "data-dir"
    assert loaded.source.path == tmp_path / "d" / "MNIST" / "raw"
    assert loaded.source.detail == f"--data-dir {tmp_path / 'd'} (MNIST/raw)"
    train, test = loaded.train, loaded.test
    assert (len(train), len(test)) == (12, 8)
    assert train.raw.dtype == torch.uint8 and train.raw.shape == (12, 28, 28)
    assert train.raw.flatten().tolist() == list(files["train-images-idx3-ubyte"][16:])
    assert test.labels.tolist() == list(files["t10k-labels-idx1-ubyte"][8:])
    assert train.images.dtype == torch.float32 and train.images.shape == (12, 1, 28, 28)
    assert test.labels.dtype == torch.int64
    assert torch.equal(train.images, normalize(train.raw, loaded.spec))


def test_data_dir_accepts_gz_files_and_the_raw_folder_itself(tmp_path: Path) -> None:
    files = synthetic(seed=5)
    raw = write(tmp_path / "FashionMNIST" / "raw", files, gz=True)
    loaded = load_data("fashion-mnist", data_dir=raw, download=never)
    assert loaded.source.detail == f"--data-dir {raw} (.)"
    assert loaded.test.raw.flatten().tolist() == list(files["t10k-images-idx3-ubyte"][16:])


def test_env_data_dir_is_used_and_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "d" / "KMNIST" / "raw", synthetic())
    monkeypatch.setenv("CNN_TUI_DATA", str(tmp_path / "d"))
    loaded = load_data("kmnist", download=never)
    assert loaded.source.kind == "data-dir"
    assert loaded.source.detail == f"CNN_TUI_DATA={tmp_path / 'd'} (KMNIST/raw)"


def test_data_dir_wins_over_a_full_cache(tmp_path: Path) -> None:
    write(tmp_path / "d" / "MNIST" / "raw", synthetic(n_train=3, n_test=2))
    write(cache_folder(tmp_path), synthetic(n_train=5, n_test=4), gz=True)
    loaded = load_data(data_dir=tmp_path / "d", download=never)
    assert loaded.source.kind == "data-dir" and len(loaded.train) == 3


def test_bad_data_dir_does_not_fall_back_to_the_cache(tmp_path: Path) -> None:
    write(cache_folder(tmp_path), synthetic(), gz=True)
    write(tmp_path / "d" / "MNIST" / "raw", {NAMES[0]: synthetic()[NAMES[0]]})
    with pytest.raises(DataError) as err:
        load_data(data_dir=tmp_path / "d", download=never)
    assert str(err.value).startswith(
        f"train-labels-idx1-ubyte not found in {tmp_path / 'd' / 'MNIST' / 'raw'}"
    )
    assert "drop --data-dir to use the cache" in str(err.value)


def test_data_dir_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^--data-dir .*nowhere is not a folder: point it at"):
        load_data(data_dir=tmp_path / "nowhere", download=never)


# --- cache, offline, sample ----------------------------------------------------------------


def test_cache_hit_needs_no_download(tmp_path: Path) -> None:
    write(cache_folder(tmp_path), synthetic(n_train=7), gz=True)
    loaded = load_data(download=never)
    assert loaded.source.kind == "cache" and len(loaded.train) == 7
    assert loaded.source.detail == f"cache {cache_folder(tmp_path)}"


def test_cache_path_is_shown_from_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    write(tmp_path / "home" / ".cache" / "cnn-tui" / "MNIST" / "raw", synthetic(), gz=True)
    assert load_data(download=never).source.detail == "cache ~/.cache/cnn-tui/MNIST/raw"


@pytest.mark.parametrize("how", ["argument", "env"])
def test_offline_skips_the_download(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "env":
        monkeypatch.setenv("CNN_TUI_OFFLINE", "1")
    loaded = load_data(offline=how == "argument", download=never)
    reason = "--offline" if how == "argument" else "CNN_TUI_OFFLINE=1"
    assert loaded.source.kind == "sample"
    assert loaded.source.detail.endswith(f"test): offline ({reason})")


@pytest.mark.parametrize("dataset", ["fashion-mnist", "kmnist"])
def test_no_sample_for_other_datasets(dataset: str, tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_data(dataset, offline=True, download=never)
    folder = DATASETS[dataset].folder
    assert str(err.value) == (
        f"{dataset} files are not in {tmp_path / 'xdg' / 'cnn-tui' / folder / 'raw'} and "
        f"offline (--offline): pass --data-dir with its files ({folder}/raw/), "
        "or go online to download them"
    )


def test_packaged_sample() -> None:
    loaded = load_data(offline=True)
    assert (len(loaded.train), len(loaded.test)) == (6000, 1000)
    assert loaded.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert loaded.train.labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert loaded.train.labels.bincount().min() > 500  # every digit is there
    gz = sorted(data.SAMPLE_DIR.glob("*.gz"))
    assert [p.name for p in gz] == sorted(f"{n}.gz" for n in NAMES)
    assert sum(p.stat().st_size for p in gz) < 3_000_000
    readme = (data.SAMPLE_DIR / "README.md").read_text()
    for credit in ("Yann LeCun", "Corinna Cortes", "Christopher J. C. Burges", "Share Alike 3.0"):
        assert credit in readme


def test_make_sample_is_deterministic(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_sample", REPO / "scripts" / "make_sample.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    write(tmp_path / "src" / "MNIST" / "raw", synthetic(n_train=6010, n_test=1003, seed=9))
    first = script.build(tmp_path / "src", tmp_path / "a")
    second = script.build(tmp_path / "src", tmp_path / "b")
    assert first == second
    for name in [*(f"{n}.gz" for n in NAMES), "README.md"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    full = load_data(data_dir=tmp_path / "src", download=never)
    sample = load_data(data_dir=tmp_path / "a", download=never)
    assert (len(sample.train), len(sample.test)) == (6000, 1000)
    assert torch.equal(sample.train.raw, full.train.raw[:6000])
    assert torch.equal(sample.test.labels, full.test.labels[:1000])


# --- numerics ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(DATASETS))
def test_normalize_matches_torchvision(name: str) -> None:
    spec = DATASETS[name]
    raw = load_data(offline=True).test.raw[:64]
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((spec.mean,), (spec.std,))]
    )
    expected = torch.stack([pipeline(digit.numpy()) for digit in raw])
    assert torch.equal(normalize(raw, spec), expected)
    as_float = raw.to(torch.float32).div(255)
    before = as_float.clone()
    assert torch.equal(normalize(as_float, spec), expected)  # a drawn digit in [0, 1]
    assert torch.equal(as_float, before)  # not changed in place
    assert torch.equal(normalize(raw[3], spec), expected[3:4])  # one (28, 28) digit


def test_normalize_rejects_other_sizes() -> None:
    with pytest.raises(ValueError, match="expected 28x28 digits"):
        normalize(torch.zeros(2, 32, 32, dtype=torch.uint8), DATASETS["mnist"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_split_matches_cpu() -> None:
    cpu, gpu = load_data(offline=True), load_data(device="cuda", offline=True)
    assert gpu.train.images.is_cuda and gpu.train.labels.is_cuda and not gpu.train.raw.is_cuda
    assert torch.equal(gpu.train.images.cpu(), cpu.train.images)


# --- the modules' shape --------------------------------------------------------------------


def _imports(module: object) -> set[str]:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return imported | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_data_modules_import_no_ui() -> None:
    assert "torchvision.datasets" in _imports(data)  # the walk sees the imports
    for module in (data, idx, fetch):
        assert not {m for m in _imports(module) if m.split(".")[0] in ("textual", "rich")}
    assert not {m for m in _imports(idx) | _imports(fetch) if m == "cnn_tui.data"}  # no cycle


def test_public_api_is_importable_from_data() -> None:
    for name in ("DataError", "DatasetSpec", "DATASETS", "DataSource", "Split", "LoadedData"):
        assert hasattr(data, name)
    for name in ("default_cache_dir", "load_data", "normalize", "download_url"):
        assert callable(getattr(data, name))
    assert data.DataError is idx.DataError and data.download_url is fetch.download_url
    assert (data.IMAGE_MAGIC, data.LABEL_MAGIC) == (2051, 2049)  # scripts/make_sample.py
