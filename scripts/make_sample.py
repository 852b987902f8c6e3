"""Build the MNIST sample shipped in ``cnn_tui/sample_data/`` from the full dataset.

The sample is what cnn-tui trains on when it has neither ``--data-dir`` nor a network: the
first 6,000 training digits and the first 1,000 test digits of MNIST, as gzip'd IDX files
(gzip mtime 0, no file name in the header, so a rebuild is byte-identical), plus a README
with MNIST's attribution. The source is read and validated by :func:`cnn_tui.data.load_data`.

    python scripts/make_sample.py [--source ../shared/data] [--out cnn_tui/sample_data]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import struct
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cnn_tui.data import IMAGE_MAGIC, LABEL_MAGIC, DataError, load_data  # noqa: E402

TRAIN, TEST = 6000, 1000

README = """\
# MNIST sample

The files here are the first {train:,} training digits and the first {test:,} test digits of
the MNIST database of handwritten digits, in its original IDX format, gzip-compressed.
cnn-tui trains on them when it has no `--data-dir`, no cached MNIST and no network.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges
(<http://yann.lecun.com/exdb/mnist/>), and is made available under the terms of the
[Creative Commons Attribution-Share Alike 3.0 license](https://creativecommons.org/licenses/by-sa/3.0/).
This subset is shared under the same license. Changes made: only the first {train:,}
training and {test:,} test digits and labels are kept, unaltered, in the original order;
the IDX headers give the new counts.

Built by `scripts/make_sample.py` from the full MNIST files (torchvision layout
`MNIST/raw/`), with gzip mtime 0 and no file name in the gzip header, so rebuilding gives
identical bytes:

| file | bytes | md5 |
|---|---:|---|
{rows}
"""


def idx_bytes(tensor: torch.Tensor, magic: int) -> bytes:
    """An IDX file: big-endian magic and dimensions, then the uint8 values row by row."""
    header = struct.pack(f">{1 + tensor.dim()}I", magic, *tensor.shape)
    return header + tensor.to(torch.uint8).contiguous().numpy().tobytes()


def gzipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as f:
        f.write(data)
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build(source: Path, out: Path) -> list[tuple[str, int, str]]:
    """Write the sample into ``out``; returns ``(file, bytes, md5)`` for each file."""
    data = load_data("mnist", "cpu", source)
    if len(data.train) < TRAIN or len(data.test) < TEST:
        raise DataError(f"{source} holds fewer than {TRAIN} train / {TEST} test digits")
    out.mkdir(parents=True, exist_ok=True)
    parts = {
        "train-images-idx3-ubyte.gz": idx_bytes(data.train.raw[:TRAIN], IMAGE_MAGIC),
        "train-labels-idx1-ubyte.gz": idx_bytes(data.train.labels[:TRAIN].cpu(), LABEL_MAGIC),
        "t10k-images-idx3-ubyte.gz": idx_bytes(data.test.raw[:TEST], IMAGE_MAGIC),
        "t10k-labels-idx1-ubyte.gz": idx_bytes(data.test.labels[:TEST].cpu(), LABEL_MAGIC),
    }
    made = []
    for name, raw in parts.items():
        packed = gzipped(raw)
        write_atomic(out / name, packed)
        made.append((name, len(packed), hashlib.md5(packed, usedforsecurity=False).hexdigest()))
    rows = "\n".join(f"| `{name}` | {size:,} | `{md5}` |" for name, size, md5 in made)
    write_atomic(out / "README.md", README.format(train=TRAIN, test=TEST, rows=rows).encode())
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "cnn_tui" / "sample_data")
    args = parser.parse_args(argv)
    try:
        made = build(args.source, args.out)
    except DataError as err:
        print(f"make_sample: {err}", file=sys.stderr)
        return 1
    for name, size, md5 in made:
        print(f"{args.out / name}  {size:,} bytes  md5 {md5}")
    print(f"total {sum(size for _, size, _ in made):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
