"""Reading MNIST-style IDX files, and the error every unusable data file becomes.

Provides :class:`DataError` (defined here, re-exported by :mod:`cnn_tui.data`, so that this
module and :mod:`cnn_tui.fetch` can raise it without importing the loader) and
:func:`read_pair`, which reads one split's image and label files, plain or ``.gz``, and
checks them against what their headers say: magic number, 28x28 images, no empty files,
byte length, as many labels as images, labels in range. Any failure is a one-line
:class:`DataError` naming the file, what is wrong, and the caller's ``hint`` of what to do,
rather than a traceback from deep inside gzip or torch.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import torch

IMAGE_MAGIC, LABEL_MAGIC, SIDE = 2051, 2049, 28


class DataError(Exception):
    """Data that cannot be used; ``str(err)`` is one line naming the file and what to do."""


def show_path(path: Path) -> str:
    """``path`` as a user reads it: under the home folder as ``~/...``."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text


def read_pair(
    image_path: Path, label_path: Path, n_classes: int, hint: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """One split's digits (N, 28, 28) and labels (N,), both uint8 on the CPU, validated.

    Raises :class:`DataError` ending in ``hint`` if either file is unusable, if their
    counts differ, or if a label is not below ``n_classes``.
    """
    raw = _parse(image_path, IMAGE_MAGIC, 3, hint)
    labels = _parse(label_path, LABEL_MAGIC, 1, hint)
    if len(raw) != len(labels):
        what = f"has {len(labels)} labels but {image_path.name} has {len(raw)} images"
        raise _bad(label_path, what, hint)
    if len(bad := (labels >= n_classes).nonzero()):
        at = int(bad[0, 0])
        what = f"has label {int(labels[at])} at index {at}, expected 0-{n_classes - 1}"
        raise _bad(label_path, what, hint)
    return raw, labels


def _bad(path: Path, what: str, hint: str) -> DataError:
    return DataError(f"{path.name} in {show_path(path.parent)} {what}: {hint}")


def _read(path: Path, hint: str) -> bytearray:
    try:
        if path.suffix != ".gz":
            return bytearray(path.read_bytes())
        with gzip.open(path, "rb") as f:
            return bytearray(f.read())
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise _bad(path, f"is not a valid gzip file ({err})", hint) from None
    except OSError as err:
        raise _bad(path, f"cannot be read ({err.strerror or err})", hint) from None


def _parse(path: Path, magic: int, ndim: int, hint: str) -> torch.Tensor:
    """The IDX file at ``path`` as a uint8 tensor, after checking it against its header."""
    data = _read(path, hint)
    size = 4 * (1 + ndim)
    if len(data) < size:
        raise _bad(path, f"is truncated ({size}-byte header expected, {len(data)} found)", hint)
    found, *dims = struct.unpack(f">{1 + ndim}I", data[:size])
    kind = "image" if ndim == 3 else "label"
    if found != magic:
        raise _bad(path, f"has magic number {found}, expected {magic} (IDX {kind}s)", hint)
    if ndim == 3 and dims[1:] != [SIDE, SIDE]:
        raise _bad(path, f"holds {dims[1]}x{dims[2]} images, expected 28x28", hint)
    if dims[0] == 0:
        raise _bad(path, f"holds no {kind}s", hint)
    expected = size + dims[0] * (SIDE * SIDE if ndim == 3 else 1)
    if len(data) != expected:
        word = "is truncated" if len(data) < expected else "is longer than its header says"
        raise _bad(path, f"{word} ({expected} bytes expected, {len(data)} found)", hint)
    return torch.frombuffer(data, dtype=torch.uint8, offset=size).view(dims)
