"""Datasets for the tutorial's CNN: which files, where they come from, one tensor per split.

Provides the registry :data:`DATASETS` (MNIST, Fashion-MNIST, KMNIST; torchvision's classes
supply the folder layout, mirrors and md5s, imported when files are looked for: a monitor
needs only the class names, and importing torchvision's datasets is seconds of CPU on a
small box), :func:`load_data` and
:func:`normalize`. ``load_data`` takes files from ``--data-dir``/``CNN_TUI_DATA`` if given
(no fallback), else from the user cache, downloading what is missing into it, else (MNIST
only) from the sample shipped in this package, and says which and why in a
:class:`DataSource`. Each split is validated, then loaded once as a normalized tensor on the
training device: a batch is an index into it, with no DataLoader and no PIL. Every bad file
becomes a one-line :class:`DataError` naming the file and what to do, not a traceback.
``normalize`` is torchvision's ``ToTensor`` + ``Normalize`` to the bit, so digits drawn in
the UI reach the network exactly as training digits do.

Reading and checking IDX files lives in :mod:`cnn_tui.idx` (which defines
:class:`DataError`, so that both helpers can raise it without importing this module), and
downloading in :mod:`cnn_tui.fetch`; the names callers use from them are re-exported here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch

if TYPE_CHECKING:
    from torchvision.datasets import MNIST

from cnn_tui.fetch import TIMEOUT_S, Downloader, DownloadFailed, Progress, download_url, fetch
from cnn_tui.idx import IMAGE_MAGIC, LABEL_MAGIC, SIDE, DataError, read_pair, show_path

__all__ = [
    "DATASETS",
    "FILE_NAMES",
    "IMAGE_MAGIC",
    "LABEL_MAGIC",
    "SAMPLE_DATASET",
    "SAMPLE_DIR",
    "SIDE",
    "SPLIT_FILES",
    "TIMEOUT_S",
    "DataError",
    "DataSource",
    "DatasetSpec",
    "Downloader",
    "LoadedData",
    "Progress",
    "SourceKind",
    "Split",
    "default_cache_dir",
    "download_url",
    "load_data",
    "normalize",
]

SourceKind = Literal["data-dir", "cache", "download", "sample"]

SAMPLE_DIR = Path(__file__).parent / "sample_data"
SAMPLE_DATASET = "mnist"
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FILE_NAMES = (*SPLIT_FILES["train"], *SPLIT_FILES["test"])


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its torchvision class (layout, mirrors, md5s), normalization and classes."""

    name: str
    folder: str  # <root>/<folder>/raw/, as torchvision lays it out; its class's name
    mean: float
    std: float
    classes: tuple[str, ...]  # as torchvision's class has them (tests hold them equal)

    @property
    def tv_class(self) -> type[MNIST]:
        import torchvision.datasets

        cls: type[MNIST] = getattr(torchvision.datasets, self.folder)
        return cls

    @property
    def resources(self) -> list[tuple[str, str]]:
        """``(file.gz, md5)`` pairs, read from torchvision when asked."""
        return [(str(name), str(md5)) for name, md5 in self.tv_class.resources]


DATASETS: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        DatasetSpec(  # the tutorial's mean and std
            "mnist", "MNIST", 0.1307, 0.3081,
            ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
             "7 - seven", "8 - eight", "9 - nine"),
        ),
        DatasetSpec(
            "fashion-mnist", "FashionMNIST", 0.2860, 0.3530,
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"),
        ),
        DatasetSpec(
            "kmnist", "KMNIST", 0.1918, 0.3483,
            ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class DataSource:
    """Where the files came from (``kind``, folder ``path``) and why, as one line."""

    kind: SourceKind
    path: Path
    detail: str


@dataclass(frozen=True)
class Split:
    """One split: ``images`` (N, 1, 28, 28) normalized float32 and ``labels`` (N,) int64 on
    the device; ``raw`` (N, 28, 28) uint8 on the CPU, the digits as they look."""

    images: torch.Tensor
    labels: torch.Tensor
    raw: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class LoadedData:
    spec: DatasetSpec
    source: DataSource
    train: Split
    test: Split


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cnn-tui``, else ``~/.cache/cnn-tui``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "cnn-tui"


def normalize(images: torch.Tensor, spec: DatasetSpec) -> torch.Tensor:
    """uint8 (0-255) or float (0-1) digits, shaped (28, 28), (N, 28, 28) or (N, 1, 28, 28),
    as the network's (N, 1, 28, 28) input on the same device.

    The arithmetic is torchvision's ``ToTensor`` then ``Normalize((mean,), (std,))``, on
    the CPU as there, so the result matches it bit for bit on every device.
    """
    x = images.detach().cpu()
    x = x.to(torch.float32).div(255) if x.dtype == torch.uint8 else x.to(torch.float32, copy=True)
    while x.dim() < 4:
        x = x.unsqueeze(0 if x.dim() == 2 else 1)
    if tuple(x.shape[1:]) != (1, SIDE, SIDE):
        raise ValueError(f"expected 28x28 digits, got shape {tuple(images.shape)}")
    mean = torch.as_tensor([spec.mean], dtype=torch.float32).view(-1, 1, 1)
    std = torch.as_tensor([spec.std], dtype=torch.float32).view(-1, 1, 1)
    return x.sub_(mean).div_(std).to(images.device)


def load_data(
    dataset: str = "mnist",
    device: str | torch.device = "cpu",
    data_dir: Path | str | None = None,
    *,
    cache_dir: Path | None = None,
    offline: bool = False,
    progress: Progress | None = None,
    download: Downloader | None = None,
) -> LoadedData:
    """Find, validate and load ``dataset``'s train and test splits onto ``device``.

    Raises :class:`DataError` for an unknown dataset, unusable files, or no files at all.
    """
    spec = DATASETS.get(dataset)
    if spec is None:
        raise DataError(f"unknown dataset {dataset!r}: choose from {', '.join(DATASETS)}")
    origin = "--data-dir "
    if data_dir is None and os.environ.get("CNN_TUI_DATA"):
        data_dir, origin = os.environ["CNN_TUI_DATA"], "CNN_TUI_DATA="
    if data_dir is not None:
        kind: SourceKind = "data-dir"
        folder, files, why = _from_data_dir(spec, Path(data_dir), origin)
        flag = origin.strip(" =")
        hint = f"replace it with a good copy, or point {flag} at a folder with good files"
    else:
        env_offline = os.environ.get("CNN_TUI_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        offline_why = "offline (--offline)" if offline else "offline (CNN_TUI_OFFLINE=1)"
        kind, folder, files, why = _from_cache(
            spec,
            cache_dir or default_cache_dir(),
            offline_why if offline or env_offline else "",
            progress,
            download or download_url,
        )
        hint = "delete it and download again, or pass --data-dir with good files"
        if kind == "sample":
            hint = "the packaged sample is damaged: reinstall cnn-tui, or pass --data-dir"
    dev = torch.device(device)
    train, test = (_load_split(spec, files, SPLIT_FILES[s], dev, hint) for s in ("train", "test"))
    if kind == "sample":
        why = f"packaged MNIST sample ({len(train):,} train / {len(test):,} test): {why}"
    return LoadedData(spec, DataSource(kind, folder, why), train, test)


def _present(folder: Path) -> dict[str, Path]:
    """The IDX files in ``folder``, by name without ``.gz``; uncompressed ones preferred."""
    found: dict[str, Path] = {}
    for name in FILE_NAMES:
        for path in (folder / name, folder / f"{name}.gz"):
            if path.is_file():
                found[name] = path
                break
    return found


def _from_data_dir(spec: DatasetSpec, root: Path, origin: str) -> tuple[Path, dict[str, Path], str]:
    if not root.is_dir():
        raise DataError(
            f"{origin}{root} is not a folder: point it at a folder holding {spec.folder}/raw/"
        )
    for rel in (Path(spec.folder, "raw"), Path(spec.folder), Path("raw"), Path(".")):
        if found := _present(root / rel):
            break
    else:
        rel, found = Path(spec.folder, "raw"), {}
    missing = [name for name in FILE_NAMES if name not in found]
    if missing:
        raise DataError(
            f"{missing[0]} not found in {root / rel} (nor {missing[0]}.gz): put the "
            f"{spec.name} files there as torchvision lays them out ({spec.folder}/raw/), "
            f"or drop {origin.strip(' =')} to use the cache"
        )
    return root / rel, found, f"{origin}{root} ({rel.as_posix()})"


def _from_cache(
    spec: DatasetSpec, cache: Path, offline_why: str, progress: Progress | None, get: Downloader
) -> tuple[SourceKind, Path, dict[str, Path], str]:
    folder = cache / spec.folder / "raw"
    found = _present(folder)
    missing = [(gz, md5) for gz, md5 in spec.resources if gz.removesuffix(".gz") not in found]
    if not missing:
        return "cache", folder, found, f"cache {show_path(folder)}"
    why = offline_why
    if not why:
        mirrors = [str(mirror) for mirror in spec.tv_class.mirrors]
        try:
            hosts = sorted({fetch(mirrors, folder, gz, md5, progress, get) for gz, md5 in missing})
            what = f"{len(missing)} file{'s' if len(missing) > 1 else ''}"
            why = f"downloaded {what} from {', '.join(hosts)} into {show_path(folder)}"
            return "download", folder, _present(folder), why
        except DownloadFailed as err:
            why = f"download failed ({err})"
    if spec.name != SAMPLE_DATASET:
        raise DataError(
            f"{spec.name} files are not in {show_path(folder)} and {why}: "
            f"pass --data-dir with its files ({spec.folder}/raw/), or go online to download them"
        )
    return "sample", SAMPLE_DIR, _present(SAMPLE_DIR), why


def _load_split(
    spec: DatasetSpec, files: dict[str, Path], names: tuple[str, str], dev: torch.device, hint: str
) -> Split:
    raw, labels = read_pair(files[names[0]], files[names[1]], len(spec.classes), hint)
    return Split(normalize(raw, spec).to(dev), labels.to(torch.int64).to(dev), raw)
