"""The tutorial's "Train Loss / Test Loss" figure and an accuracy chart, live, in plotext.

Both are textual-plotext widgets that keep a reference to the view's curves and rebuild the
plot inside ``render`` (plotext's ``build`` changes its own data, so building twice from the
same figure is not safe; building from scratch is). x is examples seen, in thousands, as in
the tutorial's figure. Hyperparameter changes are vertical lines.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from cnn_tui.tui.view import Curves, RunView
from cnn_tui.tui.widgets.base import ViewSync
from cnn_tui.tui.widgets.series import downsample, smooth

MIN_LOG = 1e-4


def _k(values: list[int] | list[float]) -> list[float]:
    return [v / 1000 for v in values]


class CurvesChart(ViewSync, PlotextPlot):
    """A plot of the view's curves, redrawn at most once a second, when they change."""

    REDRAW_INTERVAL = 2.0

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self.curves = Curves()

    def key(self, view: RunView) -> object:
        return view.curves.version

    def take(self, view: RunView) -> None:
        self.curves = view.curves

    @property
    def point_budget(self) -> int:
        return max(8, 2 * self.size.width)

    def draw_markers(self) -> None:
        for seen, _ in self.curves.markers:
            self.plt.vline(seen / 1000, "magenta")

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.xlabel("examples seen (thousands)")
        self.draw()
        return super().render()

    def draw(self) -> None:
        raise NotImplementedError


class LossChart(CurvesChart):
    """Training loss against examples seen, test loss as points; log scale and smoothing."""

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(ascii=ascii, id=id)
        self.log_scale = False
        self.smoothing = False

    def toggle_log_scale(self) -> bool:
        self.log_scale = not self.log_scale
        self.refresh()
        return self.log_scale

    def toggle_smoothing(self) -> bool:
        self.smoothing = not self.smoothing
        self.refresh()
        return self.smoothing

    def draw(self) -> None:
        plt, c = self.plt, self.curves
        flags = [
            name for name, on in (("log y", self.log_scale), ("smoothed", self.smoothing)) if on
        ]
        test = "x" if self.ascii else "●"
        plt.title(f"Loss{' (' + ', '.join(flags) + ')' if flags else ''}: train ─, test {test}")
        plt.yscale("log" if self.log_scale else "linear")
        fix = (lambda ys: [max(y, MIN_LOG) for y in ys]) if self.log_scale else list
        if c.train_x:
            xs, ys = downsample(_k(c.train_x), c.train_loss, self.point_budget)
            if self.smoothing:
                plt.plot(xs, fix(ys), marker="braille", color="gray")
                plt.plot(xs, fix(smooth(ys)), marker="braille", color="cyan")
            else:
                plt.plot(xs, fix(ys), marker="braille", color="cyan")
        if c.test_x:
            plt.scatter(_k(c.test_x), fix(c.test_loss), marker=test, color="red")
        self.draw_markers()


class AccuracyChart(CurvesChart):
    """Test accuracy at each test pass (the first before training), running train accuracy."""

    def draw(self) -> None:
        plt, c = self.plt, self.curves
        test = "x" if self.ascii else "●"
        plt.title(f"Accuracy %: train ─, test {test}")
        plt.ylim(0, 100)
        if c.train_x:
            xs, ys = downsample(_k(c.train_x), [100 * a for a in c.train_acc], self.point_budget)
            plt.plot(xs, ys, marker="braille", color="cyan")
        if c.test_x:
            plt.scatter(_k(c.test_x), [100 * a for a in c.test_acc], marker=test, color="red")
        self.draw_markers()
