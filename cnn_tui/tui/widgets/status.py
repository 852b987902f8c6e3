"""The top line: run state, data and where it came from, device (and the processes of a
distributed run: "2×cuda"), position, speed, ETA for the whole run."""

from __future__ import annotations

from rich.text import Text

from cnn_tui.engine.events import RunState
from cnn_tui.phrases import duration
from cnn_tui.render import UNICODE, Glyphs
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

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


def status_text(view: RunView, width: int, *, glyphs: Glyphs = UNICODE) -> Text:
    """The state badge, then as many facts as fit in ``width``, most important first."""
    state = view.state.value.upper()
    text = Text(no_wrap=True, overflow=glyphs.overflow)
    badge = f"[{state}]" if glyphs.ascii else f" {state} "  # the colour says it's a badge
    text.append(badge, style=glyphs.style(STATE_STYLES[view.state]))
    rate, eta = view.samples_per_second, view.eta_seconds
    epoch = min(view.epoch, view.hparams.epochs)
    facts: list[tuple[int, str]] = [  # (priority, text): lower numbers are kept longer
        (0, f"epoch {epoch}/{view.hparams.epochs}"),
        (3, f"step {view.batches_done}/{view.batches_in_epoch}" if view.batches_in_epoch else ""),
        (1, f"{view.examples_seen:,} seen"),
        (2, f"{rate:,.0f}/s" if rate else f"{glyphs.missing}/s"),
        (2, f"ETA {duration(eta) if eta is not None else glyphs.missing}"),
    ]
    started = view.started
    if started is not None:
        source = SOURCE_NAMES.get(started.source, started.source)
        device = (4, started.device)
        if started.world_size > 1:  # a torchrun job: its ranks, each on its own device
            device = (2, f"{started.world_size}{glyphs.times}{started.device.split(':')[0]}")
        facts[:0] = [(5, f"{started.dataset} ({source})"), device]
    facts = [(p, f) for p, f in facts if f]
    budget = width - text.cell_len
    while facts and sum(len(f) + len(glyphs.sep) for _, f in facts) > budget:
        facts.remove(max(facts, key=lambda pf: pf[0]))
    text.append(" " + glyphs.sep.join(f for _, f in facts))
    return text


class StatusLine(ViewWidget):
    """State, data, device, position, speed, ETA: as many as fit."""

    DEFAULT_CSS = "StatusLine { height: 1; }"
    DRAWS = Part.STATUS

    def draw(self, view: RunView) -> Text:
        return status_text(view, self.size.width, glyphs=self.glyphs)
