"""The second screen: inside the CNN, the tutorial's five steps on the network being trained.

Five panes behind keys 1–5: the pipeline (every stage for the probe digit), the learned
filters, the confusion matrix of the last test pass (Enter on a cell opens its mistakes),
a canvas to draw a digit on, and every layer's health (norms, update ratio, dead units,
weights over the run). Every number comes from the engine's events (probes, test
passes); a drawn digit goes to the app, which sends it to the engine, which probes it between
training steps and answers with an event, so this screen never runs the model itself. Only
the visible pane renders, so opening it costs training little (see
benchmarks/ui_overhead.py).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent, TabPane

from cnn_tui.tui.screens.gallery import GalleryScreen
from cnn_tui.tui.screens.view_screen import ViewScreen
from cnn_tui.tui.widgets.canvas import DigitCanvas
from cnn_tui.tui.widgets.confusion import ConfusionMatrix
from cnn_tui.tui.widgets.drawn import DrawPanel
from cnn_tui.tui.widgets.filters import FilterView
from cnn_tui.tui.widgets.health import HealthPane
from cnn_tui.tui.widgets.pipeline import PipelineView
from cnn_tui.tui.widgets.status import StatusLine

PANES = {
    "pipeline": "Pipeline",
    "filters": "Filters",
    "confusion": "Confusion",
    "draw": "Draw",
    "health": "Health",
}
PANES_HELP = "pipeline / filters / confusion / draw / health"


def pane_bindings() -> list[BindingType]:
    """The keys of the panes' widgets, for the help screen."""
    panes = (PipelineView, FilterView, ConfusionMatrix, DigitCanvas)
    return [binding for pane in panes for binding in pane.BINDINGS]


class InsideScreen(ViewScreen):
    BINDINGS = [
        *(
            Binding(str(n), f"show_pane('{key}')", title, show=False, tooltip=PANES_HELP)
            for n, (key, title) in enumerate(PANES.items(), 1)
        ),
        Binding("i", "app.toggle_inside", "Dashboard", tooltip="back to the dashboard"),
        Binding(
            "escape", "app.toggle_inside", "Dashboard", show=False, tooltip="back to the dashboard"
        ),
    ]

    def compose(self) -> ComposeResult:
        yield StatusLine(id="inside-status")
        with TabbedContent(initial="pipeline", id="inside-tabs"):
            with TabPane(f"1 {PANES['pipeline']}", id="pipeline"):
                yield PipelineView(id="pipeline-view")
            with TabPane(f"2 {PANES['filters']}", id="filters"):
                yield FilterView(id="filter-view")
            with TabPane(f"3 {PANES['confusion']}", id="confusion"):
                yield ConfusionMatrix(id="confusion-matrix")
            with TabPane(f"4 {PANES['draw']}", id="draw"):
                yield DrawPanel(id="draw-panel")
            with TabPane(f"5 {PANES['health']}", id="health"):
                yield HealthPane(id="health-pane")
        # the panes' own keys need the room at 80 columns; ctrl+p still works (and ? says so)
        yield Footer(compact=True, show_command_palette=False)

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

    @on(ConfusionMatrix.CellChosen)
    def _open_gallery(self, chosen: ConfusionMatrix.CellChosen) -> None:
        self.app.push_screen(GalleryScreen.of_cell(chosen))
