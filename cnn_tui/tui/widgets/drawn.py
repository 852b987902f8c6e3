"""The "Draw a digit" panel: a canvas on the left, the network's answer on the right.

``DrawPanel`` holds a :class:`~cnn_tui.tui.widgets.canvas.DigitCanvas` and a
``DrawnPrediction``. The panel never talks to the engine: the screen handles
``DigitCanvas.Changed`` (it bubbles through the panel) and sends the image to the engine,
whose answer — a ``ProbeTaken`` with source "drawn" — lands in ``view.drawn_probe``.

``DrawnPrediction`` shows that answer: the prediction and its confidence, the 10 class
probabilities as bars, and conv1's 10 feature maps of the drawing after ReLU, each scaled
to its own maximum as the dashboard's feature maps are. Drawing is interactive, so it
redraws within 0.2 s of an answer instead of the 2 s other pictures wait. With room, the
maps go under the bars; on a small pane, beside them, at whichever size shows all ten.
"""

from __future__ import annotations

import torch
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.render import Grid, Heatmap, ProbBars, Tile
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync
from cnn_tui.tui.widgets.canvas import DigitCanvas
from cnn_tui.tui.widgets.tiling import Fit, fit_tiles, fit_to

MAP_SIZES = (24, 12, 8, 6)  # conv1's maps are 24×24; smaller sizes are block means
BARS_WIDTH = 40  # stacked: the bars' width at most
SIDE_BARS_WIDTH = 24  # beside the maps: "·7 ██████████████  93.0%"
BARS_LINES = 10
HINT = (
    "Draw a digit on the left.\n\n"
    "mouse: press and drag (right button erases)\n"
    "keys:  arrows or hjkl move, space inks,\n"
    "       shift+arrows or d (pen down) draw,\n"
    "       backspace erases, x clears\n\n"
    "The network's answer shows here, with what\n"
    "its first convolution sees."
)
WAITING = "asking the network..."


def choose_layout(count: int, width: int, height: int) -> tuple[bool, Fit]:
    """(beside, fit): the maps under the bars or beside them, whichever shows all ``count``
    at the larger size; under wins a tie, as the bars then get the whole width."""
    under = fit_tiles(count, MAP_SIZES, width, height - BARS_LINES - 4)
    beside = fit_tiles(count, MAP_SIZES, width - SIDE_BARS_WIDTH - 2, height - 3)

    def score(fit: Fit) -> tuple[bool, int, int]:
        shows_all = fit.capacity >= count
        return shows_all, fit.pixels, 0 if shows_all else fit.capacity

    return (True, beside) if score(beside) > score(under) else (False, under)


class Beside:
    """Two renderables side by side, the left one ``left_width`` cells wide."""

    def __init__(
        self, left: RenderableType, right: RenderableType, left_width: int, gap: int = 2
    ) -> None:
        self.left, self.right, self.left_width, self.gap = left, right, left_width, gap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        right_width = max(1, options.max_width - self.left_width - self.gap)
        left = console.render_lines(self.left, options.update_width(self.left_width))
        right = console.render_lines(self.right, options.update_width(right_width), pad=False)
        spacer = Segment(" " * self.gap)
        blank = [Segment(" " * self.left_width)]
        new_line = Segment.line()
        for row in range(max(len(left), len(right))):
            yield from left[row] if row < len(left) else blank
            yield spacer
            if row < len(right):
                yield from right[row]
            yield new_line


class DrawnPrediction(ViewSync, Widget):
    """The network's answer for the drawn digit (``view.drawn_probe``)."""

    REDRAW_INTERVAL = 0.2

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        # True: the hint (nothing drawn yet, or cleared); None: no canvas says, so the hint
        # shows until an answer comes.
        self.canvas_blank: bool | None = None
        self._probe: ProbeTaken | None = None
        self._class_names: tuple[str, ...] = tuple(str(k) for k in range(10))

    def key(self, view: RunView) -> object:
        return view.drawn_version

    def take(self, view: RunView) -> None:
        self._probe = view.drawn_probe
        self._class_names = view.classes

    def set_canvas_blank(self, blank: bool | None) -> None:
        if blank != self.canvas_blank:
            self.canvas_blank = blank
            self.refresh()

    def render(self) -> RenderableType:
        probe = self._probe
        if self.canvas_blank or (probe is None and self.canvas_blank is None):
            return Text(HINT, style="dim", no_wrap=True, overflow="crop")
        if probe is None:
            return Text(WAITING, style="dim", no_wrap=True, overflow="crop")
        width, height = self.size
        maps = probe.stages["conv1"].clamp(min=0)
        beside, fit = choose_layout(len(maps), width, height)
        arrow = "->" if self.ascii else "→"
        title = Text(f"conv1 {arrow} ReLU, {len(maps)} maps", style="bold", no_wrap=True)
        grid = Grid(self._map_tiles(maps[: fit.capacity], fit.pixels), gap=1, ascii=self.ascii)
        bars = ProbBars(
            probe.stages["probs"],
            self._class_names,
            highlight=probe.prediction,
            width=SIDE_BARS_WIDTH if beside else min(width, BARS_WIDTH),
            ascii=self.ascii,
        )
        if beside:
            body: RenderableType = Beside(bars, Group(title, grid), SIDE_BARS_WIDTH)
            return Group(self._header(probe), "", body)
        return Group(self._header(probe), "", bars, "", title, grid)

    def _map_tiles(self, maps: torch.Tensor, pixels: int) -> list[Tile]:
        """Each map scaled to its own strongest activation (all-zero stays black)."""
        return [
            Tile(
                Heatmap(
                    fit_to(m, pixels),
                    vmin=0.0,
                    vmax=float(m.max()) or 1.0,
                    palette="magma",
                    ascii=self.ascii,
                )
            )
            for m in maps
        ]

    def _header(self, probe: ProbeTaken) -> Text:
        names, k = self._class_names, probe.prediction
        label = names[k] if k < len(names) else str(k)
        header = Text(no_wrap=True, overflow="crop" if self.ascii else "ellipsis")
        header.append(f"pred {label} ({probe.confidence:.0%})", style="bold")
        dot = "-" if self.ascii else "·"
        header.append(f" {dot} network after {probe.examples_seen:,} examples", style="dim")
        return header


class DrawPanel(Horizontal):
    """The canvas and the answer. ``sync`` forwards to the ``DrawnPrediction`` (the only
    ViewSync inside); ``canvas`` is the widget to focus."""

    DEFAULT_CSS = """
    DrawPanel { height: 1fr; }
    DrawPanel > DigitCanvas { margin-right: 2; }
    DrawPanel > DrawnPrediction { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._canvas = DigitCanvas(ascii=ascii, id="digit-canvas")
        self._prediction = DrawnPrediction(ascii=ascii, id="drawn-prediction")
        self._prediction.canvas_blank = True

    def compose(self) -> ComposeResult:
        yield self._canvas
        yield self._prediction

    @property
    def canvas(self) -> DigitCanvas:
        return self._canvas

    @property
    def prediction(self) -> DrawnPrediction:
        return self._prediction

    def sync(self, view: RunView, now: float | None = None) -> None:
        self._prediction.sync(view, now)

    def on_digit_canvas_changed(self, message: DigitCanvas.Changed) -> None:
        self._prediction.set_canvas_blank(not bool(message.image.any()))  # and it bubbles on
