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

import numpy as np
from textual.app import RenderResult
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from cnn_tui.render.series import downsample, envelope, smooth
from cnn_tui.runview import Curves, Overlay, Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

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

    @property
    def point_budget(self) -> int:
        """Two points per column: plotext draws every point it is given, on every frame."""
        return max(8, 2 * self.size.width)

    def draw(self, view: RunView) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        self.per = 60.0 if longest_training(view) >= MINUTES_FROM else 1.0
        unit = "minutes" if self.per == 60.0 else "seconds"
        plt.xlabel(AXES[self.axis] if self.axis == "seen" else f"{AXES[self.axis]} ({unit})")
        self.plot(view.curves, view.overlays)
        if self.axis == "seen":
            for seen, _ in view.curves.markers:
                plt.vline(seen / 1000, "magenta")
        return PlotextPlot.render(self)

    def x(self, seen: Sequence[float], seconds: Sequence[float]) -> list[float]:
        """Where points go on the chosen axis (NaN: unknown, left out)."""
        if self.axis == "seen":
            return [s / 1000 for s in seen]
        return [t / self.per for t in seconds]

    def test_x(self, curves: Curves) -> list[float]:
        """A test pass's x: its examples seen, or the training time of the batch before it."""
        if self.axis == "seen":
            return [s / 1000 for s in curves.test_x]
        return [t / self.per for t in times_at(curves.test_x, curves.train_x, curves.train_seconds)]

    def overlay_style(self, index: int) -> dict[str, str]:
        if self.glyphs.ascii:
            return {"marker": OVERLAY_MARKERS[index % len(OVERLAY_MARKERS)]}
        return {"marker": "braille", "color": OVERLAY_COLOURS[index % len(OVERLAY_COLOURS)]}

    def overlay_x(self, overlay: Overlay, tests: bool) -> list[float]:
        if not tests:
            return self.x(overlay.seen, overlay.seconds)
        if self.axis == "seen":
            return [s / 1000 for s in overlay.test_seen]
        return [t / self.per for t in times_at(overlay.test_seen, overlay.seen, overlay.seconds)]

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
            tx = self.test_x(curves)
            plt.scatter(tx, self.fix(curves.test_loss), marker=g.point, color="red")
        for index, overlay in enumerate(overlays):
            style = self.overlay_style(index)
            self.train_line(self.overlay_x(overlay, False), overlay.loss, style, overlay.label)
            if overlay.test_seen:
                plt.scatter(self.overlay_x(overlay, True), self.fix(overlay.test_loss), **style)

    def train_line(
        self, xs: list[float], ys: Sequence[float], style: dict[str, str], label: str | None
    ) -> None:
        plt, budget = self.plt, self.point_budget
        if not xs:
            return
        dx, dy = downsample(xs, ys, budget)
        if not dx:
            return
        if self.smoothing:
            if self.band:
                ex, low, high = envelope(xs, ys, budget)
                plt.plot(ex, self.fix(low), marker="braille", color="gray")
                plt.plot(ex, self.fix(high), marker="braille", color="gray")
            else:
                plt.plot(dx, self.fix(dy), marker="braille", color="gray")
            dy = smooth(dy)
        named = {"label": label} if label else {}
        plt.plot(dx, self.fix(dy), **style, **named)

    def fix(self, ys: Sequence[float]) -> list[float]:
        return [max(y, MIN_LOG) for y in ys] if self.log_scale else list(ys)


class AccuracyChart(CurvesChart):
    """Test accuracy at each test pass (the first before training), running train accuracy."""

    def plot(self, curves: Curves, overlays: tuple[Overlay, ...]) -> None:
        plt, g = self.plt, self.glyphs
        plt.title(f"Accuracy %: train {g.line}, test {g.point}")
        plt.ylim(0, 100)
        label = {"label": "this run"} if overlays else {}
        if curves.train_x:
            train = [100 * a for a in curves.train_acc]
            xs = self.x(curves.train_x, curves.train_seconds)
            dx, dy = downsample(xs, train, self.point_budget)
            if dx:  # a restored history has no accuracies; a legend entry needs a point
                plt.plot(dx, dy, marker="braille", color="cyan", **label)
        if curves.test_x:
            test = [100 * a for a in curves.test_acc]
            plt.scatter(self.test_x(curves), test, marker=g.point, color="red")
        for index, overlay in enumerate(overlays):
            style = self.overlay_style(index)
            xs = self.overlay_x(overlay, False)
            dx, dy = downsample(xs, [100 * a for a in overlay.accuracy], self.point_budget)
            if dx:
                plt.plot(dx, dy, label=overlay.label, **style)
            if overlay.test_seen:
                test = [100 * a for a in overlay.test_accuracy]
                plt.scatter(self.overlay_x(overlay, True), test, **style)


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
