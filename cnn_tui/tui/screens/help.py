"""The ``?`` screen: every key, read from the bindings themselves, and where the run writes.

Each section lists some bindings (the app's, a screen's, its panes' widgets') much as
Textual's own key panel does, with one row per help text and its keys as the app displays
them (``App.get_key_display``). A binding's help text is its ``tooltip`` (which the footer
shows on hover) or else its description, so a new binding shows up here by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cnn_tui.tui.glyphs_app import glyphs_of


@dataclass(frozen=True)
class HelpSection:
    title: str
    bindings: Sequence[BindingType]  # in the order they are listed
    more: Sequence[tuple[str, str]] = ()  # (what, help) rows that are not keys: the mouse


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, sections: Sequence[HelpSection], run_dir: str | None) -> None:
        super().__init__()
        self.sections = sections
        self.run_dir = run_dir

    def keys_table(self, section: HelpSection) -> Table:
        rows: dict[str, list[str]] = {}  # help text: key displays, in order, once each
        for binding in Binding.make_bindings(section.bindings):
            keys = rows.setdefault(binding.tooltip or binding.description, [])
            shown = self.app.get_key_display(binding)
            if shown not in keys:
                keys.append(shown)
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=13)
        table.add_column()
        for meaning, keys in rows.items():
            table.add_row(" ".join(keys), meaning)
        for what, meaning in section.more:
            table.add_row(what, meaning)
        return table

    def compose(self) -> ComposeResult:
        glyphs = glyphs_of(self.app)
        with VerticalScroll(id="help"):
            for number, section in enumerate(self.sections):
                title = glyphs.text(section.title)
                yield Static(f"\n{title}" if number else title, classes="help-section")
                yield Static(self.keys_table(section))
            where = self.run_dir or "(not started yet)"
            yield Static(
                f"Checkpoints and events.jsonl: {where}\nEsc or ? to close", id="help-footer"
            )

    def action_close(self) -> None:
        self.dismiss(None)


def help_sections(app: App[Any]) -> list[HelpSection]:
    """The monitor's keys: the app's and the dashboard's, then the inside screen's."""
    from cnn_tui.tui.screens.dashboard import DashboardScreen
    from cnn_tui.tui.screens.inside import InsideScreen, pane_bindings
    from cnn_tui.tui.screens.view_screen import ViewScreen

    palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "command palette")
    return [
        HelpSection(
            "cnn-tui — keys",
            [*app.BINDINGS, *ViewScreen.BINDINGS, *DashboardScreen.BINDINGS, palette],
        ),
        HelpSection(
            "Inside the CNN (i)",
            [*InsideScreen.BINDINGS, *pane_bindings()],
            [("mouse", "draw: drag to ink, right button erases")],
        ),
    ]
