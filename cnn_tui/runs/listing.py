"""``cnn-tui runs``: this user's runs as a table, newest last."""

from __future__ import annotations

from collections.abc import Sequence

from cnn_tui.runs.registry import RunInfo

COLUMNS = ("ID", "DATASET", "STATE", "EPOCH", "BEST", "VIEWERS", "AGE", "PID", "PARENT")


def format_age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def row(info: RunInfo) -> tuple[str, ...]:
    r = info.record
    epochs = r.hparams.get("epochs")
    epoch = min(info.epoch, epochs) if isinstance(epochs, int) else info.epoch
    return (
        r.id,
        r.dataset or "?",
        info.state,
        f"{epoch}/{epochs}" if isinstance(epochs, int) else str(epoch),
        f"{100 * info.best_accuracy:.2f}%" if info.best_accuracy is not None else "-",
        str(info.viewers) if info.viewers is not None else "-",
        format_age(info.age_seconds),
        str(r.pid) if info.live else "-",
        _parent(info),
    )


def _parent(info: RunInfo) -> str:
    parent = info.record.parent
    if not parent:
        return ""
    at = info.record.fork_point
    name = parent.rstrip("/").rsplit("/", 1)[-1]
    return f"{name} @{at:,}" if at is not None else name


def table(runs: Sequence[RunInfo]) -> str:
    rows = [COLUMNS, *(row(r) for r in runs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines)
