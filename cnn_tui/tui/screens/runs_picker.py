"""``o``: choose other runs to draw on this run's charts.

Lists this user's runs (the registry, newest first) with their state, best test accuracy,
hyperparameters and dataset; space ticks a run, Enter draws the ticked ones, Esc changes
nothing. Returns the chosen run directories, or None.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from cnn_tui.runs.registry import RunInfo, list_runs
from cnn_tui.tui.comparisons import MAX_OVERLAYS
from cnn_tui.tui.glyphs_app import glyphs_of


def describe(info: RunInfo) -> str:
    r, hp = info.record, info.record.hparams
    best = f"{100 * info.best_accuracy:.2f}%" if info.best_accuracy is not None else "-"
    settings = (
        f"lr {hp.get('lr', '?')} mom {hp.get('momentum', '?')} "
        f"batch {hp.get('batch_size', '?')} ep {hp.get('epochs', '?')}"
    )
    # state and accuracy first: at 80 columns the settings' tail is what gets cut
    return f"{r.id:<21} {info.state:<8} {best:>7}  {settings:<30} {r.dataset or '?'}"


class RunsPicker(ModalScreen[list[Path] | None]):
    BINDINGS = [
        Binding("enter", "choose", "Compare", priority=True),  # before the list toggles
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, current: Path | None, chosen: list[Path]) -> None:
        super().__init__()
        self.current = current.absolute() if current else None
        self.chosen = {p.absolute() for p in chosen}
        self.ids: dict[Path, str] = {}  # the listed runs' ids, by directory

    def compose(self) -> ComposeResult:
        runs = [
            r for r in reversed(list_runs(ask_live=False)) if r.run_dir.absolute() != self.current
        ]
        glyphs = glyphs_of(self.app)
        self.ids = {r.run_dir.absolute(): r.record.id for r in runs}
        with Vertical(id="picker"):
            yield Static(
                f"Compare with{glyphs.ellipsis}  (space: tick, enter: draw, esc: cancel)",
                id="picker-title",
            )
            if not runs:
                yield Static(
                    "no other runs yet: start one with cnn-tui --detach", id="picker-empty"
                )
            yield SelectionList[str](
                *(
                    Selection(
                        Text(glyphs.text(describe(r)), no_wrap=True, overflow=glyphs.overflow),
                        str(r.run_dir.absolute()),
                        r.run_dir.absolute() in self.chosen,
                    )
                    for r in runs
                ),
                id="picker-runs",
            )
            yield Static(self._ticked_text(), id="picker-help")

    def _ticked_text(self) -> str:
        """What is ticked, in words: without colour a tick does not show in the list."""
        ids = sorted(self.ids.get(p, p.name) for p in self.chosen)
        return f"ticked: {', '.join(ids) or 'none'} (at most {MAX_OVERLAYS})"

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.chosen = {Path(p) for p in event.selection_list.selected}
        self.query_one("#picker-help", Static).update(self._ticked_text())

    def action_choose(self) -> None:
        selected = self.query_one(SelectionList).selected
        self.dismiss([Path(p) for p in selected])

    def action_cancel(self) -> None:
        self.dismiss(None)
