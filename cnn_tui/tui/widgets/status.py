"""The top line: run state, data and where it came from, device, position, speed, ETA."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from cnn_tui.engine.events import RunState
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync

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


def status_text(view: RunView, *, ascii: bool) -> Text:
    state = view.state.value.upper()
    text = Text(
        f"[{state}]" if ascii else f" {state} ", style="" if ascii else STATE_STYLES[view.state]
    )
    started = view.started
    parts = []
    if started is not None:
        parts.append(f"{started.dataset} ({SOURCE_NAMES.get(started.source, started.source)})")
        parts.append(started.device)
    parts.append(f"epoch {min(view.epoch, view.hparams.epochs)}/{view.hparams.epochs}")
    if view.batches_in_epoch:
        parts.append(f"step {view.batch_index}/{view.batches_in_epoch}")
    parts.append(f"{view.examples_seen:,} seen")
    rate = view.samples_per_second
    parts.append(f"{rate:,.0f}/s" if rate else "–/s")
    parts.append(f"ETA {format_eta(view.eta_seconds)}")
    text.append(" " + " · ".join(parts))
    return text


class StatusLine(ViewSync, Widget):
    """One line; redrawn when the run's position or state changes."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self._view: RunView | None = None

    def key(self, view: RunView) -> object:
        return view.status_version

    def take(self, view: RunView) -> None:
        self._view = view

    def render(self) -> Text:
        if self._view is None:
            return Text("starting…")
        return status_text(self._view, ascii=self.ascii)
