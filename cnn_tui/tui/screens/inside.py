"""The second screen: inside the CNN, the tutorial's five steps on the network being trained.

Four panes behind keys 1–4: the pipeline (every stage for the probe digit), the learned
filters, the confusion matrix of the last test pass (Enter on a cell opens its mistakes),
and a canvas to draw a digit on. Every number comes from the engine's events (probes, test
passes); a drawn digit is sent to the engine, which probes it between training steps and
answers with an event, so this screen never runs the model itself. Only the visible pane
renders, so opening it costs training little (see benchmarks/ui_overhead.py).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent, TabPane

from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync
from cnn_tui.tui.widgets.canvas import DigitCanvas
from cnn_tui.tui.widgets.confusion import ConfusionMatrix
from cnn_tui.tui.widgets.drawn import DrawPanel
from cnn_tui.tui.widgets.filters import FilterView
from cnn_tui.tui.widgets.pipeline import PipelineView
from cnn_tui.tui.widgets.status import StatusLine

PANES = {"pipeline": "Pipeline", "filters": "Filters", "confusion": "Confusion", "draw": "Draw"}


class InsideScreen(Screen[None]):
    BINDINGS = [
        Binding("i", "app.toggle_inside", "Dashboard"),
        Binding("escape", "app.toggle_inside", "Dashboard", show=False),
        *(
            Binding(str(n), f"show_pane('{key}')", title, show=False)
            for n, (key, title) in enumerate(PANES.items(), 1)
        ),
        Binding("a", "toggle_ascii", "ASCII", show=False),
    ]

    def __init__(self, *, ascii: bool = False) -> None:
        super().__init__()
        self.ascii = ascii

    def compose(self) -> ComposeResult:
        yield StatusLine(ascii=self.ascii, id="inside-status")
        with TabbedContent(initial="pipeline", id="inside-tabs"):
            with TabPane(f"1 {PANES['pipeline']}", id="pipeline"):
                yield PipelineView(ascii=self.ascii, id="pipeline-view")
            with TabPane(f"2 {PANES['filters']}", id="filters"):
                yield FilterView(ascii=self.ascii, id="filter-view")
            with TabPane(f"3 {PANES['confusion']}", id="confusion"):
                yield ConfusionMatrix(ascii=self.ascii, id="confusion-matrix")
            with TabPane(f"4 {PANES['draw']}", id="draw"):
                yield DrawPanel(ascii=self.ascii, id="draw-panel")
        # the panes' own keys need the room at 80 columns; ctrl+p still works (and ? says so)
        yield Footer(compact=True, show_command_palette=False)

    def sync(self, view: RunView, now: float | None = None) -> None:
        """Hand the view to every widget; ``now=None`` redraws whatever changed at once."""
        for widget in self.query("*"):
            if isinstance(widget, ViewSync):
                widget.sync(view, now)

    def action_show_pane(self, pane: str) -> None:
        self.query_one("#inside-tabs", TabbedContent).active = pane
        self._focus_pane(pane)

    @on(TabbedContent.TabActivated)
    def _pane_shown(self, event: TabbedContent.TabActivated) -> None:
        self._focus_pane(event.pane.id or "")

    def _focus_pane(self, pane: str) -> None:
        focusable: dict[str, type[Widget]] = {
            "pipeline": PipelineView,
            "filters": FilterView,
            "confusion": ConfusionMatrix,
            "draw": DigitCanvas,
        }
        if pane in focusable:
            self.query_one(focusable[pane]).focus()

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        for widget in self.query("*"):
            setter = getattr(widget, "set_ascii", None)
            if callable(setter):
                setter(self.ascii)

    @on(DigitCanvas.Changed)
    def _send_drawing(self, message: DigitCanvas.Changed) -> None:
        control = getattr(self.app, "control", None)
        if control is not None:
            control.probe_image(message.image)
