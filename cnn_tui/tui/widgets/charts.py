"""The tutorial's "Train Loss / Test Loss" figure and an accuracy chart, live, in plotext.

Both are textual-plotext widgets that rebuild the plot from the view's curves inside
``render`` (plotext's ``build`` changes its own data, so building twice from the same
figure is not safe; building from scratch is). x is examples seen, in thousands, as in the
tutorial's figure. Hyperparameter changes are vertical lines.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from cnn_tui.render.series import downsample, smooth
from cnn_tui.runview import Curves, Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

MIN_LOG = 1e-4


def _k(values: list[int] | list[float]) -> list[float]:
    return [v / 1000 for v in values]


class CurvesChart(ViewWidget, PlotextPlot):
    """A plot of the view's curves, redrawn at most every 2 s, when they change."""

    DRAWS = Part.CURVES
    EVERY = 2.0

    @property
    def point_budget(self) -> int:
        """Two points per column: plotext draws every point it is given, on every frame."""
        return max(8, 2 * self.size.width)

    def draw(self, view: RunView) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.xlabel("examples seen (thousands)")
        self.plot(view.curves)
        for seen, _ in view.curves.markers:
            plt.vline(seen / 1000, "magenta")
        return PlotextPlot.render(self)

    def plot(self, curves: Curves) -> None:
        raise NotImplementedError


class LossChart(CurvesChart):
    """Training loss against examples seen, test loss as points; log scale and smoothing."""

    log_scale = reactive(False)
    smoothing = reactive(False)

    def plot(self, curves: Curves) -> None:
        plt, g = self.plt, self.glyphs
        flags = ", ".join(
            name for name, on in (("log y", self.log_scale), ("smoothed", self.smoothing)) if on
        )
        plt.title(f"Loss{f' ({flags})' if flags else ''}: train {g.line}, test {g.point}")
        plt.yscale("log" if self.log_scale else "linear")
        fix = (lambda ys: [max(y, MIN_LOG) for y in ys]) if self.log_scale else list
        if curves.train_x:
            xs, ys = downsample(_k(curves.train_x), curves.train_loss, self.point_budget)
            if self.smoothing:
                plt.plot(xs, fix(ys), marker="braille", color="gray")
                plt.plot(xs, fix(smooth(ys)), marker="braille", color="cyan")
            else:
                plt.plot(xs, fix(ys), marker="braille", color="cyan")
        if curves.test_x:
            plt.scatter(_k(curves.test_x), fix(curves.test_loss), marker=g.point, color="red")


class AccuracyChart(CurvesChart):
    """Test accuracy at each test pass (the first before training), running train accuracy."""

    def plot(self, curves: Curves) -> None:
        plt, g = self.plt, self.glyphs
        plt.title(f"Accuracy %: train {g.line}, test {g.point}")
        plt.ylim(0, 100)
        if curves.train_x:
            train = [100 * a for a in curves.train_acc]
            xs, ys = downsample(_k(curves.train_x), train, self.point_budget)
            plt.plot(xs, ys, marker="braille", color="cyan")
        if curves.test_x:
            test = [100 * a for a in curves.test_acc]
            plt.scatter(_k(curves.test_x), test, marker=g.point, color="red")
