"""Test digits as the tutorial's figure shows them — "Ground Truth: 7" — plus the network's
current prediction and confidence, wrong ones marked."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from cnn_tui.engine.events import SamplesPredicted
from cnn_tui.render import Grid, digit_tile
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync
from cnn_tui.tui.widgets.tiling import fit_tiles, fit_to

TITLE_WIDTH = len("Ground Truth: 7")


class SampleDigits(ViewSync, Widget):
    REDRAW_INTERVAL = 2.0

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self._samples: SamplesPredicted | None = None

    def key(self, view: RunView) -> object:
        return view.samples_version

    def take(self, view: RunView) -> None:
        self._samples = view.samples

    def render(self) -> RenderableType:
        s = self._samples
        if s is None:
            return Text("waiting for the first predictions…", style="dim")
        width, height = self.size
        fit = fit_tiles(
            len(s.indices),
            (28, 14),
            width,
            height,
            min_tile_width=TITLE_WIDTH,
            label_lines=2,
        )
        shown = range(min(len(s.indices), fit.capacity))
        tiles = [
            digit_tile(
                fit_to(s.images[i], fit.pixels),
                truth=s.labels[i],
                pred=s.predictions[i],
                confidence=s.confidences[i],
                ascii=self.ascii,
            )
            for i in shown
        ]
        return Grid(tiles, width=width, gap=1, row_gap=1, ascii=self.ascii)
