"""The main screen: status, progress, charts, event log, sample digits and feature maps.

One set of widgets, two layouts chosen by CSS from the terminal size: everything at once
from 110×34, otherwise one panel at a time behind a tab strip (keys 1–4, tab). Below 60×16
a notice asks for a bigger terminal instead of drawing a broken screen.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from cnn_tui.tui.screens.view_screen import ViewScreen
from cnn_tui.tui.widgets.charts import AccuracyChart, LossChart
from cnn_tui.tui.widgets.event_log import EventLog
from cnn_tui.tui.widgets.feature_maps import FeatureMaps
from cnn_tui.tui.widgets.progress import HParamsLine, RunProgress
from cnn_tui.tui.widgets.samples import SampleDigits
from cnn_tui.tui.widgets.status import StatusLine
from cnn_tui.tui.widgets.tab_strip import TABS, TabStrip

MIN_SIZE = (60, 16)


class DashboardScreen(ViewScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (MIN_SIZE[0], "-medium"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (MIN_SIZE[1], "-medium-height"), (34, "-tall")]
    BINDINGS = [
        Binding("f", "next_layer", "Layer"),
        Binding("l", "toggle_log_scale", "Log y", show=False),
        Binding("m", "toggle_smoothing", "Smooth", show=False),
        Binding("tab", "next_tab", "Panel", show=False),
        *(Binding(str(n), f"show_tab('{key}')", show=False) for n, key in enumerate(TABS, 1)),
    ]

    def __init__(self, *, ascii: bool = False) -> None:
        super().__init__(ascii=ascii)
        self.tab = "charts"

    def compose(self) -> ComposeResult:
        yield StatusLine(ascii=self.ascii, id="status")
        with Horizontal(id="progress-row"):
            yield RunProgress(ascii=self.ascii, id="progress")
            yield HParamsLine(id="hparams")
        yield HParamsLine(id="hparams-compact")
        yield TabStrip(id="tabs")
        with Horizontal(id="charts-row"):
            yield LossChart(ascii=self.ascii, id="loss")
            yield AccuracyChart(ascii=self.ascii, id="accuracy")
            yield EventLog(id="log")
        with Horizontal(id="pictures-row"):
            yield SampleDigits(ascii=self.ascii, id="samples")
            yield FeatureMaps(ascii=self.ascii, id="maps")
        yield Static(
            f"The terminal is too small for cnn-tui: make it at least {MIN_SIZE[0]}×{MIN_SIZE[1]}.",
            id="too-small",
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_show_tab(self.tab)

    # -- panel keys -------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        for key in TABS:
            self.set_class(key == tab, f"-tab-{key}")
        self.tab = tab
        self.query_one(TabStrip).select(tab)

    def action_next_tab(self) -> None:
        keys = list(TABS)
        self.action_show_tab(keys[(keys.index(self.tab) + 1) % len(keys)])

    def action_next_layer(self) -> None:
        layer = self.query_one(FeatureMaps).next_layer()
        self.notify(f"feature maps: {layer}", timeout=2)

    def action_toggle_log_scale(self) -> None:
        on = self.query_one(LossChart).toggle_log_scale()
        self.notify(f"loss chart: log scale {'on' if on else 'off'}", timeout=2)

    def action_toggle_smoothing(self) -> None:
        on = self.query_one(LossChart).toggle_smoothing()
        self.notify(f"loss chart: smoothing {'on' if on else 'off'}", timeout=2)
