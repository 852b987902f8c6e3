"""The "Draw a digit" panel: a canvas on the left, the network's answer on the right.

``DrawPanel`` holds a :class:`~cnn_tui.tui.widgets.canvas.DigitCanvas` and a
``DrawnPrediction``. Neither talks to the engine: ``DigitCanvas.Changed`` bubbles up to the
app, which sends the image to the engine, whose answer — a ``ProbeTaken`` with source
"drawn" — lands in ``view.drawn_probe``.

``DrawnPrediction`` shows that answer: the prediction and its confidence, the 10 class
probabilities as bars, and conv1's 10 feature maps of the drawing after ReLU, each scaled
to its own maximum as the dashboard's feature maps are. Drawing is interactive, so it
redraws within 0.2 s of an answer instead of the 2 s other pictures wait. With room, the
maps go under the bars; on a small pane, beside them, at whichever size shows all ten
(:func:`cnn_tui.render.tiling.fit_answer`).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.phrases import probe_caption
from cnn_tui.render import ProbBars, TileGrid, map_tile
from cnn_tui.render.flow import Beside
from cnn_tui.render.tiling import ANSWER_BARS_WIDTH, ANSWER_SIDE_BARS_WIDTH, fit_answer
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.canvas import DigitCanvas

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


class DrawnPrediction(ViewWidget):
    """The network's answer for the drawn digit (``view.drawn_probe``)."""

    DRAWS = Part.DRAWN
    EVERY = 0.2

    # True: the hint (nothing drawn yet, or cleared); None: no canvas says, so the hint
    # shows until an answer comes.
    canvas_blank: reactive[bool | None] = reactive(None)

    def draw(self, view: RunView) -> RenderableType:
        probe = view.drawn_probe
        if self.canvas_blank or (probe is None and self.canvas_blank is None):
            return Text(HINT, style="dim", no_wrap=True, overflow="crop")
        if probe is None:
            return Text(WAITING, style="dim", no_wrap=True, overflow="crop")
        glyphs, classes = self.glyphs, view.classes
        width, height = self.size
        maps = probe.stages["conv1"].clamp(min=0)
        beside, fit = fit_answer(len(maps), width, height)
        title = Text(f"conv1 {glyphs.arrow} ReLU, {len(maps)} maps", style="bold", no_wrap=True)
        tiles = [map_tile(m, fit.pixels, glyphs=glyphs) for m in maps[: fit.capacity]]
        grid = TileGrid(tiles, gap=1, glyphs=glyphs)
        bars = ProbBars(
            probe.stages["probs"],
            classes,
            highlight=probe.prediction,
            width=ANSWER_SIDE_BARS_WIDTH if beside else min(width, ANSWER_BARS_WIDTH),
            glyphs=glyphs,
        )
        if beside:
            body = Beside(bars, Group(title, grid), ANSWER_SIDE_BARS_WIDTH)
            return Group(self._header(probe, classes), "", body)
        return Group(self._header(probe, classes), "", bars, "", title, grid)

    def _header(self, probe: ProbeTaken, classes: tuple[str, ...]) -> Text:
        caption = probe_caption(probe, classes, short=True)
        header = Text(no_wrap=True, overflow=self.glyphs.overflow)
        header.append(caption.answer, style="bold")
        header.append(f"{self.glyphs.sep}network {caption.when}", style="dim")
        return header


class DrawPanel(Horizontal):
    """The canvas and the answer; ``canvas`` is the widget to focus."""

    DEFAULT_CSS = """
    DrawPanel { height: 1fr; }
    DrawPanel > DigitCanvas { margin-right: 2; }
    DrawPanel > DrawnPrediction { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.canvas = DigitCanvas(id="digit-canvas")
        self.prediction = DrawnPrediction(id="drawn-prediction")
        self.prediction.canvas_blank = True

    def compose(self) -> ComposeResult:
        yield self.canvas
        yield self.prediction

    def on_digit_canvas_changed(self, message: DigitCanvas.Changed) -> None:
        self.prediction.canvas_blank = not bool(message.image.any())  # and it bubbles on
