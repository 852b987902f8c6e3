"""The ``?`` screen: every key, what it does, and where the run writes."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("space", "pause / resume training"),
    ("s", "one step (a batch) while paused"),
    ("e", "edit hyperparameters (applied at the next step)"),
    ("f", "feature maps: switch conv1 / conv2"),
    ("n / p", "next / previous probe digit"),
    ("i", "inside the CNN (its keys below)"),
    ("l", "loss chart: log scale on/off"),
    ("m", "loss chart: smoothing on/off (raw stays visible)"),
    ("a", "heatmaps: ASCII / colour"),
    ("c", "save a checkpoint now"),
    ("r", "after the run ends: continue for more epochs"),
    ("1–4, tab", "small terminals: switch panel"),
    ("ctrl+p", "command palette"),
    ("q", "quit: stop training, save a checkpoint"),
)

INSIDE_KEYS = (
    ("1–4", "pipeline / filters / confusion / draw"),
    ("← / →", "pipeline: turn pages (small terminals)"),
    ("[ / ]", "filters: previous / next conv2 filter"),
    ("arrows, enter", "confusion: pick a cell, show its mistakes"),
    ("arrows, space", "draw: move, ink (shift+arrows or d: draw)"),
    ("backspace, x", "draw: erase at the cursor, clear"),
    ("mouse", "draw: drag to ink, right button erases"),
    ("i, esc", "back to the dashboard"),
)


def keys_table(keys: tuple[tuple[str, str], ...] = KEYS) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=13)
    table.add_column()
    for key, meaning in keys:
        table.add_row(key, meaning)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, run_dir: str | None) -> None:
        super().__init__()
        self.run_dir = run_dir

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("cnn-tui — keys", id="help-title")
            yield Static(keys_table())
            yield Static("\nInside the CNN (i)", classes="help-section")
            yield Static(keys_table(INSIDE_KEYS))
            where = self.run_dir or "(not started yet)"
            yield Static(
                f"\nCheckpoints and events.jsonl: {where}\nEsc or ? to close", id="help-footer"
            )

    def action_close(self) -> None:
        self.dismiss(None)
