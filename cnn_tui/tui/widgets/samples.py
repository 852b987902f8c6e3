"""Test digits as the tutorial's figure shows them — "Ground Truth: 7" — plus the network's
current prediction and confidence, wrong ones marked."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult

from cnn_tui.render import TileGrid, digit_tile, fit_to
from cnn_tui.render.tiling import fit_tiles
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.picture import Picture

TITLE_WIDTH = len("Ground Truth: 7")


class SampleDigits(ViewWidget):
    DRAWS = Part.SAMPLES
    EVERY = 2.0

    def draw(self, view: RunView) -> RenderResult:
        s, glyphs = view.samples, self.glyphs
        if s is None:
            return Text(f"waiting for the first predictions{glyphs.ellipsis}", style="dim")
        width, height = self.size
        fit = fit_tiles(
            len(s.indices), (28, 14), width, height, min_tile_width=TITLE_WIDTH, label_lines=2
        )
        tiles = [
            digit_tile(
                fit_to(s.images[i], fit.pixels),
                truth=s.labels[i],
                pred=s.predictions[i],
                confidence=s.confidences[i],
                glyphs=glyphs,
            )
            for i in range(min(len(s.indices), fit.capacity))
        ]
        return Picture(self.app, TileGrid(tiles, width=width, gap=1, row_gap=1, glyphs=glyphs))
