"""The tutorial's "Train Loss / Test Loss" figure and an accuracy chart, live, in plotext.

Both are textual-plotext widgets that rebuild the plot from the view inside ``render``
(plotext's ``build`` changes its own data, so building twice from the same figure is not
safe; building from scratch is). x is examples seen, in thousands, as in the tutorial's
figure — or training time (pauses left out), in minutes (``t``). Hyperparameter changes are
vertical lines. Other runs chosen to compare (``o``) are drawn on the same axes, each in a
colour (a marker of its own in ASCII) with a legend naming what differs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from textual.app import RenderResult
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from cnn_tui.render.series import downsample, envelope, smooth
from cnn_tui.runview import Curves, Overlay, Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.plot_strips import CellStyles, PlotStrips

MIN_LOG = 1e-4
OVERLAY_COLOURS = ("orange", "green", "white", "yellow", "blue")  # apart from cyan, red, gray
OVERLAY_MARKERS = ("+", "o", "*", "#", "%")  # in ASCII, where colours do not tell them apart
AXES = {"seen": "examples seen (thousands)", "time": "training time"}
MINUTES_FROM = 120.0  # seconds of training from which the time axis counts minutes


class CurvesChart(ViewWidget, PlotextPlot):
    """A plot of the view's curves (and the overlays), redrawn at most every 2 s."""

    DRAWS = (Part.CURVES, Part.OVERLAYS)
    EVERY = 2.0
    axis = reactive("seen")  # "seen" or "time"
    per = 60.0  # seconds per unit of the time axis: minutes, or seconds for a short run

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plot_styles: dict[str, CellStyles] = {}  # by app theme: see PlotStrips

    @property
    def point_budget(self) -> int:
        """Two points per column: plotext draws every point it is given, on every frame."""
        return max(8, 2 * self.size.width)

    def draw(self, view: RunView) -> RenderResult:
        self.plot_view(view)
        return self.figure()

    def plot_view(self, view: RunView) -> None:
        """Give plotext the view's data afresh (a build changes it: build once per plot)."""
        plt = self.plt
        plt.clear_data()
        self.per = 60.0 if longest_training(view) >= MINUTES_FROM else 1.0
        unit = "minutes" if self.per == 60.0 else "seconds"
        plt.xlabel(AXES[self.axis] if self.axis == "seen" else f"{AXES[self.axis]} ({unit})")
        self.plot(view.curves, view.overlays)
        if self.axis == "seen":
            for seen, _ in view.curves.markers:
                plt.vline(seen / 1000, "magenta")

    def figure(self) -> RenderResult:
        """The built plot as strips (see plot_strips), or as textual-plotext draws it where
        plotext keeps no character matrix."""
        plt, (width, height) = self.plt, self.size
        # textual-plotext's render, up to its build: the size (twice: its issue #5), the theme
        plt.plotsize(width, height)
        plt._set_size(width, height)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        figure: Any = plt  # plotext's figure, past its typed surface
        if not all(hasattr(figure, name) for name in ("_set_sizes", "_build_matrix", "monitor")):
            return PlotextPlot.render(self)
        figure._set_sizes()
        figure._build_matrix()
        styles = self.plot_styles.setdefault(self.app.theme, {})
        return PlotStrips.from_matrix(figure.monitor.matrix, styles)

    def x(self, seen: Sequence[float], seconds: Sequence[float]) -> list[float]:
        """Where points go on the chosen axis (NaN: unknown, left out)."""
        if self.axis == "seen":
            return [s / 1000 for s in seen]
        return [t / self.per for t in seconds]

    def tests_x(
        self, test_seen: Sequence[float], seen: Sequence[float], seconds: Sequence[float]
    ) -> list[float]:
        """Test passes' x: their examples seen, or the training time of the batch before."""
        if self.axis == "seen":
            return [s / 1000 for s in test_seen]
        return [t / self.per for t in times_at(test_seen, seen, seconds)]

    def line(
        self, xs: list[float], ys: Sequence[float], style: dict[str, str], label: str | None
    ) -> None:
        """``ys`` downsampled to the width; nothing, not even a legend entry, without a point
        (plotext fails on a labelled line with none: a restored history has no accuracies)."""
        dx, dy = downsample(xs, ys, self.point_budget)
        if dx:
            self.plt.plot(dx, dy, **style, **({"label": label} if label else {}))

    def overlay_style(self, index: int) -> dict[str, str]:
        if self.glyphs.ascii:
            return {"marker": OVERLAY_MARKERS[index % len(OVERLAY_MARKERS)]}
        return {"marker": "braille", "color": OVERLAY_COLOURS[index % len(OVERLAY_COLOURS)]}

    def plot(self, curves: Curves, overlays: tuple[Overlay, ...]) -> None:
        raise NotImplementedError


class LossChart(CurvesChart):
    """Training loss, test loss as points; log scale, smoothing and the raw envelope."""

    log_scale = reactive(False)
    smoothing = reactive(False)
    band = reactive(False)  # with smoothing: the min/max of the raw points around the line

    def plot(self, curves: Curves, overlays: tuple[Overlay, ...]) -> None:
        plt, g = self.plt, self.glyphs
        on = (("log y", self.log_scale), ("smoothed", self.smoothing), ("band", self.band))
        flags = ", ".join(name for name, flag in on if flag)
        plt.title(f"Loss{f' ({flags})' if flags else ''}: train {g.line}, test {g.point}")
        plt.yscale("log" if self.log_scale else "linear")
        xs = self.x(curves.train_x, curves.train_seconds)
        label = "this run" if overlays else None
        self.train_line(xs, curves.train_loss, {"marker": "braille", "color": "cyan"}, label)
        if curves.test_x:
            tx = self.tests_x(curves.test_x, curves.train_x, curves.train_seconds)
            plt.scatter(tx, self.fix(curves.test_loss), marker=g.point, color="red")
        for index, o in enumerate(overlays):
            style = self.overlay_style(index)
            self.train_line(self.x(o.seen, o.seconds), o.loss, style, o.label)
            if o.test_seen:
                tx = self.tests_x(o.test_seen, o.seen, o.seconds)
                plt.scatter(tx, self.fix(o.test_loss), **style)

    def train_line(
        self, xs: list[float], ys: Sequence[float], style: dict[str, str], label: str | None
    ) -> None:
        """A training curve: as it is, or smoothed over its raw points (or their band)."""
        plt, budget = self.plt, self.point_budget
        if not self.smoothing:
            self.line(xs, self.fix(ys), style, label)
            return
        dx, dy = downsample(xs, ys, budget)
        if not dx:
            return
        if self.band:
            ex, low, high = envelope(xs, ys, budget)
            plt.plot(ex, self.fix(low), marker="braille", color="gray")
            plt.plot(ex, self.fix(high), marker="braille", color="gray")
        else:
            plt.plot(dx, self.fix(dy), marker="braille", color="gray")
        self.line(dx, self.fix(smooth(dy)), style, label)

    def fix(self, ys: Sequence[float]) -> list[float]:
        return [max(y, MIN_LOG) for y in ys] if self.log_scale else list(ys)


class AccuracyChart(CurvesChart):
    """Test accuracy at each test pass (the first before training), running train accuracy."""

    def plot(self, curves: Curves, overlays: tuple[Overlay, ...]) -> None:
        plt, g = self.plt, self.glyphs
        plt.title(f"Accuracy %: train {g.line}, test {g.point}")
        plt.ylim(0, 100)
        train = [100 * a for a in curves.train_acc]
        xs = self.x(curves.train_x, curves.train_seconds)
        self.line(
            xs, train, {"marker": "braille", "color": "cyan"}, "this run" if overlays else None
        )
        if curves.test_x:
            test = [100 * a for a in curves.test_acc]
            tx = self.tests_x(curves.test_x, curves.train_x, curves.train_seconds)
            plt.scatter(tx, test, marker=g.point, color="red")
        for index, o in enumerate(overlays):
            style = self.overlay_style(index)
            self.line(self.x(o.seen, o.seconds), [100 * a for a in o.accuracy], style, o.label)
            if o.test_seen:
                test = [100 * a for a in o.test_accuracy]
                plt.scatter(self.tests_x(o.test_seen, o.seen, o.seconds), test, **style)


def times_at(
    seen: Sequence[float], train_seen: Sequence[float], train_seconds: Sequence[float]
) -> list[float]:
    """The training time (seconds) at each of ``seen``, read off the logged batches."""
    known = [(s, t) for s, t in zip(train_seen, train_seconds, strict=True) if not math.isnan(t)]
    if not known:
        return [math.nan] * len(seen)
    xp = np.array([s for s, _ in known], dtype=float)
    fp = np.array([t for _, t in known], dtype=float)
    at = np.interp(np.asarray(seen, dtype=float), xp, fp)
    return [float(t) for t in at]


def longest_training(view: RunView) -> float:
    """The most training time (seconds) any curve on the charts has."""
    times = [*view.curves.train_seconds, *(t for o in view.overlays for t in o.seconds)]
    return max((t for t in times if not math.isnan(t)), default=0.0)
