"""The Health pane: every layer's figures now, and its weights over the whole run.

A table — weight norm, gradient norm, the update/weight ratio of the last real step, the
share of dead ReLU units, and the gradient norm over the run as a sparkline — then one
heatmap strip per layer: the distribution of its weights at each sample, left to right
from the run's start (TensorBoard's "distributions"). Figures that would raise an alert
(a mostly dead layer, a gradient that vanished or is not finite) are marked ``!``. Every
number comes from the engine's :class:`~cnn_tui.engine.events.HealthSampled` events; the
layout is :func:`cnn_tui.render.distribution.fit_health`'s.
"""

from __future__ import annotations

import math

from rich.console import Group, RenderableType
from rich.text import Text

from cnn_tui.engine.events import HealthSampled, LayerHealth
from cnn_tui.engine.health import DEAD_SHARE, PROBE_SIZE, RELU_STAGES, VANISH_RATIO
from cnn_tui.health_history import HealthHistory
from cnn_tui.render import Heatmap
from cnn_tui.render.distribution import (
    LABEL_WIDTH,
    HealthFit,
    density_strip,
    fit_health,
    sparkline,
)
from cnn_tui.render.legend import format_value
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

# (title, width) of the table's columns after the layer's name
COLUMNS = (("weight norm", 12), ("grad norm", 12), ("update/weight", 15), ("dead ReLU", 11))
NAME_WIDTH = 6
TREND = "grad norm over the run"
MIN_TREND = 8


class HealthPane(ViewWidget):
    DEFAULT_CSS = "HealthPane { width: 1fr; height: 1fr; }"
    DRAWS = Part.HEALTH
    EVERY = 2.0

    def draw(self, view: RunView) -> RenderableType:
        history, glyphs = view.health, self.glyphs
        latest = history.latest
        if latest is None:
            return Text(f"waiting for the first logging batch{glyphs.ellipsis}", style="dim")
        width, height = self.size
        fit = fit_health(height, len(latest.layers))
        heading = Text(no_wrap=True, overflow=glyphs.overflow)
        heading.append("Layer health", style=glyphs.style("bold"))
        where = f"epoch {latest.epoch}, batch {latest.batch_index}"
        heading.append(f"  after {latest.examples_seen:,} examples{glyphs.sep}{where}")
        parts: list[RenderableType] = [heading, *self._table(history, width)]
        if fit.note:
            parts.append(self._note(view))
        if fit.blank:
            parts.append(Text(""))
        parts.extend(self._strips(history.columns, width, fit))
        return Group(*parts)

    # -- the table ------------------------------------------------------------------------
    def _table(self, history: HealthHistory, width: int) -> list[Text]:
        latest = history.latest
        assert latest is not None
        dead_from = history.last_dead or latest
        dead = {layer.layer: layer.dead_relu for layer in dead_from.layers}
        trend = width - NAME_WIDTH - sum(w for _, w in COLUMNS) - 2
        show_trend = trend >= MIN_TREND
        header = Text("layer".ljust(NAME_WIDTH), style=self.glyphs.style("bold"), no_wrap=True)
        for title, column in COLUMNS:
            header.append(title.rjust(column))
        if show_trend:
            header.append("  " + TREND[:trend])
        lines = [header]
        series = {
            layer.layer: [s.grad_norm for s in self._layer_series(history, layer.layer)]
            for layer in latest.layers
        }
        for layer in latest.layers:
            line = Text(layer.layer.ljust(NAME_WIDTH), no_wrap=True, overflow="crop")
            cells = self._cells(layer, dead.get(layer.layer))
            for (text, alert), (_, column) in zip(cells, COLUMNS, strict=True):
                line.append(
                    text.rjust(column), style=self.glyphs.style("bold red" if alert else "")
                )
            if show_trend:
                line.append("  " + sparkline(series[layer.layer], trend, self.glyphs))
            lines.append(line)
        return lines

    @staticmethod
    def _layer_series(history: HealthHistory, name: str) -> list[LayerHealth]:
        return [layer for s in history.columns for layer in s.layers if layer.layer == name]

    def _cells(self, layer: LayerHealth, dead: float | None) -> list[tuple[str, bool]]:
        grad, missing = layer.grad_norm, self.glyphs.missing
        vanished = math.isfinite(grad) and grad <= VANISH_RATIO * layer.weight_norm
        grad_alert = not math.isfinite(grad) or vanished
        dead_alert = dead is not None and dead > DEAD_SHARE
        if layer.layer not in RELU_STAGES:
            dead_text = "n/a"
        elif dead is None:
            dead_text = missing
        else:
            dead_text = f"{100 * dead:.0f}%"
        return [
            (f"{layer.weight_norm:.3f}", not math.isfinite(layer.weight_norm)),
            (f"{grad:.3g}{'!' if grad_alert else ''}", grad_alert),
            (f"{layer.update_ratio:.1e}", not math.isfinite(layer.update_ratio)),
            (f"{dead_text}{'!' if dead_alert else ''}", dead_alert),
        ]

    def _note(self, view: RunView) -> Text:
        probe = PROBE_SIZE if view.started is None else min(PROBE_SIZE, view.started.test_size)
        measured = view.health.last_dead
        when = f"{self.glyphs.sep}measured @{measured.examples_seen:,}" if measured else ""
        note = f"dead: a unit (a conv channel) zero on all {probe} probe digits, in eval mode"
        return Text(note + when, style="dim", no_wrap=True, overflow=self.glyphs.overflow)

    # -- the strips -----------------------------------------------------------------------
    def _strips(self, columns: list[HealthSampled], width: int, fit: HealthFit) -> list[Text]:
        glyphs = self.glyphs
        strip_width = max(1, width - LABEL_WIDTH)
        title = "weights over the run: one column per sample, brighter = more weights there"
        parts: list[Text] = [Text(title, style="dim", no_wrap=True, overflow=glyphs.overflow)]
        names = [layer.layer for layer in columns[-1].layers]
        for k, name in enumerate(names):
            hists = [
                (layer.hist_low, layer.hist_high, layer.histogram)
                for sample in columns
                for layer in sample.layers
                if layer.layer == name
            ]
            strip, low, high = density_strip(hists, 2 * fit.strip_rows, strip_width)
            picture = Heatmap(strip, vmin=0.0, vmax=1.0, palette="magma", glyphs=glyphs)
            labels = [f"{name:<6}{format_value(high):>7} ", *[""] * (fit.strip_rows - 1)]
            labels[-1] = labels[-1][:6].ljust(6) + f"{format_value(low):>7} "
            for label, segments in zip(labels, picture.lines(), strict=True):
                line = Text(label.ljust(LABEL_WIDTH), no_wrap=True, overflow="crop")
                for segment in segments:
                    line.append(segment.text, style=segment.style or "")
                parts.append(line)
            if k < len(names) - 1:
                parts.extend(Text("") for _ in range(fit.gap))
        first, last = columns[0].examples_seen, columns[-1].examples_seen
        right = f"{last:,} examples"
        axis = f"{first:,}".ljust(max(1, strip_width - len(right))) + right
        parts.append(Text(" " * LABEL_WIDTH + axis, style="dim", no_wrap=True, overflow="crop"))
        return parts
