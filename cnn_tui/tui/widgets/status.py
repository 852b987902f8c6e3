"""The top line: run state, data and where it came from, device, position, speed, ETA."""

from __future__ import annotations

from rich.text import Text

from cnn_tui.engine.events import RunState
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewLine

STATE_STYLES = {
    RunState.STARTING: "bold black on grey70",
    RunState.RUNNING: "bold black on green3",
    RunState.TESTING: "bold black on cyan3",
    RunState.PAUSED: "bold black on yellow3",
    RunState.DIVERGED: "bold white on red3",
    RunState.DONE: "bold white on blue3",
    RunState.STOPPED: "bold black on grey62",
    RunState.FAILED: "bold white on red3",
}
SOURCE_NAMES = {
    "data-dir": "data dir",
    "cache": "cache",
    "download": "downloaded",
    "sample": "sample",
}


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def status_text(view: RunView, width: int, *, ascii: bool) -> Text:
    """The state badge, then as many facts as fit in ``width``, most important first."""
    state = view.state.value.upper()
    text = Text(no_wrap=True, overflow="ellipsis")
    badge_style = "" if ascii else STATE_STYLES[view.state]
    text.append(f"[{state}]" if ascii else f" {state} ", style=badge_style)
    rate = view.samples_per_second
    epoch = min(view.epoch, view.hparams.epochs)
    facts: list[tuple[int, str]] = [  # (priority, text): lower numbers are kept longer
        (0, f"epoch {epoch}/{view.hparams.epochs}"),
        (3, f"step {view.batches_done}/{view.batches_in_epoch}" if view.batches_in_epoch else ""),
        (1, f"{view.examples_seen:,} seen"),
        (2, f"{rate:,.0f}/s" if rate else "–/s"),
        (2, f"ETA {format_eta(view.eta_seconds)}"),
    ]
    started = view.started
    if started is not None:
        source = SOURCE_NAMES.get(started.source, started.source)
        facts[:0] = [(5, f"{started.dataset} ({source})"), (4, started.device)]
    facts = [(p, f) for p, f in facts if f]
    budget = width - text.cell_len
    while facts and sum(len(f) + 3 for _, f in facts) > budget:
        facts.remove(max(facts, key=lambda pf: pf[0]))
    text.append(" " + " · ".join(f for _, f in facts))
    return text


class StatusLine(ViewLine):
    """State, data, device, position, speed, ETA: as many as fit."""

    PLACEHOLDER = "starting…"

    def line(self, view: RunView, width: int) -> Text:
        return status_text(view, width, ascii=self.ascii)
