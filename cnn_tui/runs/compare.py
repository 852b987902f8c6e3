"""``cnn-tui compare RUN…``: what differs between runs, and what it did to them.

One row per run: the settings that differ between the runs (the others are the same and
left out), the final and best test accuracy, the training loss and test accuracy at equal
examples seen (the most every run has seen: a fair point), training time and samples/s.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from typing import Any

from cnn_tui.runs.traces import Point, Trace

SETTINGS = ("dataset", "seed", "lr", "momentum", "batch_size", "epochs", "log_interval")
WINDOW = 0.05  # train loss at E: the mean over the logged batches in the last 5 % before E


def settings_of(trace: Trace) -> dict[str, Any]:
    r = trace.record
    if r is None:
        return {}
    return {"dataset": r.dataset, "seed": r.seed, **r.hparams}


def differences(traces: Sequence[Trace]) -> list[str]:
    """The settings whose values are not the same in every run."""
    values = [settings_of(t) for t in traces]
    return [k for k in SETTINGS if len({repr(v.get(k)) for v in values}) > 1]


def common_seen(traces: Sequence[Trace]) -> int:
    ends = [max((p.seen for p in t.train.values()), default=0) for t in traces]
    return min(ends, default=0)


def loss_at(trace: Trace, seen: int) -> float | None:
    window = [p.loss for p in trace.train_points() if seen * (1 - WINDOW) < p.seen <= seen]
    if not window:
        before = [p for p in trace.train_points() if p.seen <= seen]
        window = [before[-1].loss] if before else []
    return statistics.fmean(window) if window else None


def test_accuracy_at(trace: Trace, seen: int) -> float | None:
    passes = [p for p in trace.test_points() if p.seen <= seen and p.accuracy is not None]
    return passes[-1].accuracy if passes else None


def speed(trace: Trace) -> tuple[float | None, float | None]:
    """(training seconds, samples/s) over the batches whose time the log knows."""
    timed = [p for p in trace.train_points() if p.seconds is not None]
    if len(timed) < 2:
        return None, None
    first, last = timed[0], timed[-1]
    seconds = (last.seconds or 0.0) - (first.seconds or 0.0)
    return last.seconds, ((last.seen - first.seen) / seconds if seconds > 0 else None)


def table(traces: Sequence[Trace]) -> tuple[list[str], list[list[str]]]:
    differ = differences(traces)
    at = common_seen(traces)
    header = [
        "run",
        *differ,
        "final test acc",
        "best test acc",
        f"train loss @{at:,}",
        f"test acc @{at:,}",
        "training time",
        "samples/s",
    ]
    rows = []
    for trace in traces:
        tests: list[Point] = [p for p in trace.test_points() if p.accuracy is not None]
        seconds, rate = speed(trace)
        values = settings_of(trace)
        rows.append(
            [
                trace.label_id,
                *(setting_text(values.get(k)) for k in differ),
                _percent(tests[-1].accuracy if tests else None),
                _percent(max((p.accuracy or 0.0 for p in tests), default=None) if tests else None),
                _number(loss_at(trace, at), "{:.4f}"),
                _percent(test_accuracy_at(trace, at)),
                _number(seconds, "{:.1f} s"),
                _number(rate, "{:,.0f}"),
            ]
        )
    return header, rows


def as_text(header: list[str], rows: list[list[str]]) -> str:
    grid = [header, *rows]
    widths = [max(len(r[i]) for r in grid) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in grid
    )


def as_csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def setting_text(value: Any) -> str:
    """A setting as the tables and labels write it: 0.01, 64, mnist; - if unknown."""
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _number(value: float | None, shape: str) -> str:
    return "-" if value is None else shape.format(value)
