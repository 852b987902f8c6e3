"""The main screen: status, completion bars, charts, event log, sample digits, feature maps,
and the processes' system panel (once the run sends samples).

One set of widgets, two layouts chosen by CSS from the terminal size: everything at once
from 110×34, otherwise one panel at a time behind a tab strip (keys 1–4, tab). Below 60×16
a notice asks for a bigger terminal instead of drawing a broken screen.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer

from cnn_tui.runview import Part, RunView
from cnn_tui.tui.screens.view_screen import ViewScreen
from cnn_tui.tui.widgets.base import GlyphWidget
from cnn_tui.tui.widgets.charts import AXES, AccuracyChart, CurvesChart, LossChart
from cnn_tui.tui.widgets.completion import CompletionBars
from cnn_tui.tui.widgets.event_log import EventLog
from cnn_tui.tui.widgets.feature_maps import FeatureMaps
from cnn_tui.tui.widgets.hparams_line import HParamsLine
from cnn_tui.tui.widgets.samples import SampleDigits
from cnn_tui.tui.widgets.status import StatusLine
from cnn_tui.tui.widgets.system import SystemPanel
from cnn_tui.tui.widgets.tab_strip import TABS, TabStrip

MIN_SIZE = (60, 16)
SMOOTHING_HELP = "loss chart: smoothing on/off (raw stays visible)"
BAND_HELP = "loss chart: smoothed, with the raw points' min/max band"
AXIS_HELP = "charts: x as examples seen or training time"
PANEL_HELP = "small terminals: switch panel"


class DashboardScreen(ViewScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (MIN_SIZE[0], "-medium"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (MIN_SIZE[1], "-medium-height"), (34, "-tall")]
    BINDINGS = [
        Binding("f", "next_layer", "Layer", tooltip="feature maps: switch conv1 / conv2"),
        Binding(
            "l", "toggle_log_scale", "Log y", show=False, tooltip="loss chart: log scale on/off"
        ),
        Binding("m", "toggle_smoothing", "Smooth", show=False, tooltip=SMOOTHING_HELP),
        Binding("v", "toggle_band", "Band", show=False, tooltip=BAND_HELP),
        Binding("t", "toggle_axis", "x: time", show=False, tooltip=AXIS_HELP),
        *(
            Binding(str(n), f"show_tab('{key}')", show=False, tooltip=PANEL_HELP)
            for n, key in enumerate(TABS, 1)
        ),
        Binding("tab", "next_tab", "Panel", show=False, tooltip=PANEL_HELP),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tab = "charts"

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="completion-row"):
            yield CompletionBars(id="completion")
            yield HParamsLine(id="hparams")
        yield HParamsLine(id="hparams-compact")
        yield SystemPanel(id="system")
        yield TabStrip(id="tabs")
        with Horizontal(id="charts-row"):
            yield LossChart(id="loss")
            yield AccuracyChart(id="accuracy")
            yield EventLog(id="log")
        with Horizontal(id="pictures-row"):
            yield SampleDigits(id="samples")
            yield FeatureMaps(id="maps")
        yield TooSmall(id="too-small")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_show_tab(self.tab)

    def sync(
        self,
        view: RunView,
        now: float | None = None,
        at_once: frozenset[Part] = frozenset(),
        stretch: float = 1.0,
    ) -> None:
        # The system panel takes room only once the run sends samples (a hosted run does).
        self.set_class(view.system is not None, "-system")
        super().sync(view, now, at_once, stretch)

    # -- panel keys -------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        for key in TABS:
            self.set_class(key == tab, f"-tab-{key}")
        self.tab = tab
        self.query_one(TabStrip).active = tab

    def action_next_tab(self) -> None:
        keys = list(TABS)
        self.action_show_tab(keys[(keys.index(self.tab) + 1) % len(keys)])

    def action_next_layer(self) -> None:
        layer = self.query_one(FeatureMaps).next_layer()
        self.notify(f"feature maps: {layer}", timeout=2)

    def action_toggle_log_scale(self) -> None:
        chart = self.query_one(LossChart)
        chart.log_scale = not chart.log_scale
        self.notify(f"loss chart: log scale {'on' if chart.log_scale else 'off'}", timeout=2)

    def action_toggle_smoothing(self) -> None:
        chart = self.query_one(LossChart)
        chart.smoothing = not chart.smoothing
        self.notify(f"loss chart: smoothing {'on' if chart.smoothing else 'off'}", timeout=2)

    def action_toggle_band(self) -> None:
        chart = self.query_one(LossChart)
        chart.band = not chart.band
        if chart.band and not chart.smoothing:
            chart.smoothing = True  # the band is around the smoothed line
        self.notify(f"loss chart: raw min/max band {'on' if chart.band else 'off'}", timeout=2)

    def action_toggle_axis(self) -> None:
        axis = "time" if self.query_one(LossChart).axis == "seen" else "seen"
        for chart in self.query(CurvesChart):
            chart.axis = axis
        self.notify(f"charts: x is {AXES[axis]}", timeout=2)


class TooSmall(GlyphWidget):
    """What a terminal below the smallest size sees instead of a broken screen."""

    def render(self) -> str:
        size = f"{MIN_SIZE[0]}{self.glyphs.times}{MIN_SIZE[1]}"
        return f"The terminal is too small for cnn-tui: make it at least {size}."
