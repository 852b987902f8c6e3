"""A run as TensorBoard event files: ``cnn-tui export RUN --tensorboard DIR``.

The metrics come from the same checked reading as the CSV export
(:func:`~cnn_tui.engine.export.read_metrics`); the step of every point is ``examples_seen``,
the x axis of the monitor's charts. Scalars: ``train/loss``, ``train/accuracy``,
``test/loss``, ``test/accuracy`` and, per layer, ``weight_norm/LAYER``, ``grad_norm/LAYER``,
``update_ratio/LAYER`` and ``dead_relu/LAYER`` (where measured); histograms
``weights/LAYER`` from the health samples' bins, which TensorBoard's Distributions and
Histograms tabs draw over time. TensorBoard stores a scalar as a 32-bit float, so a value
reads back as the log's, rounded to float32. A histogram's ``sum`` is estimated from its
bins' centres (the log keeps the bins and ‖w‖², not the sum).

TensorBoard is an optional extra (``pip install 'cnn-tui[tensorboard]'``), imported only
here, when asked for. Everything is written to a temporary folder inside ``DIR`` and then
renamed to one fixed file name, so exporting again replaces the previous export rather than
doubling every curve, and a failure leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_tui.engine.export import Exported, Histogram, Metrics, RunLogError, read_metrics
from cnn_tui.engine.privatefs import make_private_dir, os_reason

EVENTS_FILE = "events.out.tfevents.cnn-tui"
MISSING = "TensorBoard export needs the tensorboard package: pip install 'cnn-tui[tensorboard]'"
HEALTH_FIGURES = ("weight_norm", "grad_norm", "update_ratio", "dead_relu")

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter


def writer_class() -> type[SummaryWriter]:
    """TensorBoard's writer, or a RunLogError saying how to install the extra."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise RunLogError(MISSING) from None
    return SummaryWriter


def export_tensorboard(run_dir: Path, out_dir: Path) -> Exported:
    """Write ``run_dir``'s metrics as one TensorBoard event file in ``out_dir``."""
    writer_type = writer_class()
    exported = Exported()
    metrics = read_metrics(run_dir, exported.notes)
    hint = "pass a folder you can write"
    if out_dir.exists() and not out_dir.is_dir():
        raise RunLogError(f"--tensorboard {out_dir} is a file, not a folder: {hint}")
    target = out_dir / EVENTS_FILE
    scratch: str | None = None
    try:
        make_private_dir(out_dir)
        scratch = tempfile.mkdtemp(prefix=".cnn-tui-export.", dir=out_dir)
        writer = writer_type(log_dir=scratch)
        try:
            _write(writer, metrics)
        finally:
            writer.close()
        (written,) = Path(scratch).iterdir()
        os.chmod(written, 0o600)
        os.replace(written, target)
    except OSError as err:
        raise RunLogError(f"cannot write {out_dir}: {os_reason(err)}: {hint}") from None
    finally:
        if scratch is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(scratch)
    exported.paths = [target]
    return exported


def _write(writer: SummaryWriter, metrics: Metrics) -> None:
    add_scalar = writer.add_scalar
    for _epoch, _batch, seen, loss, accuracy in metrics.train:
        add_scalar("train/loss", loss, seen)
        if accuracy != "":
            add_scalar("train/accuracy", accuracy, seen)
    for test in metrics.tests:
        _epoch, seen, loss, _correct, _total, accuracy = test["row"]
        add_scalar("test/loss", loss, seen)
        add_scalar("test/accuracy", accuracy, seen)
    for seen, layer, *figures in metrics.health:
        for name, value in zip(HEALTH_FIGURES, figures, strict=True):
            if value != "":
                add_scalar(f"{name}/{layer}", value, seen)
    for histogram in metrics.histograms:
        writer.add_histogram_raw(
            f"weights/{histogram.layer}", global_step=histogram.examples_seen, **_raw(histogram)
        )


def _raw(h: Histogram) -> dict[str, Any]:
    """TensorBoard's raw histogram: bucket i holds (limit[i-1], limit[i]], the first from min."""
    bins = len(h.counts)
    width = (h.high - h.low) / bins
    limits = [h.low + (i + 1) * width for i in range(bins)]
    limits[-1] = h.high
    centres = [h.low + (i + 0.5) * width for i in range(bins)]
    return {
        "min": h.low,
        "max": h.high,
        "num": sum(h.counts),
        "sum": sum(c * x for c, x in zip(h.counts, centres, strict=True)),
        "sum_squares": h.sum_squares,
        "bucket_limits": limits,
        "bucket_counts": h.counts,
    }
