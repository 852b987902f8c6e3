"""The probe digit's feature maps: conv1's 10 or conv2's 20, after ReLU, as heatmaps.

Each map is scaled to its own strongest activation, so every map shows what it responds
to (a map that is zero everywhere stays black). The digit itself leads the grid (its
2-pixel border cropped, where MNIST has no ink) at the maps' size.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive

from cnn_tui.phrases import probe_caption
from cnn_tui.render import Heatmap, Tile, TileGrid, fit_to, map_tile
from cnn_tui.render.tiling import fit_tiles
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.picture import Picture

LAYERS: dict[str, tuple[int, ...]] = {"conv1": (24, 12, 8, 6), "conv2": (16, 8, 4)}


class FeatureMaps(ViewWidget):
    DRAWS = Part.PROBE
    EVERY = 2.0

    stage = reactive("conv1")

    def next_layer(self) -> str:
        names = list(LAYERS)
        self.stage = names[(names.index(self.stage) + 1) % len(names)]
        return self.stage

    def draw(self, view: RunView) -> RenderResult:
        probe, glyphs = view.probe, self.glyphs
        if probe is None:
            return Text(f"waiting for the first probe{glyphs.ellipsis}", style="dim")
        maps = probe.stages[self.stage].clamp(min=0)
        width, height = self.size
        fit = fit_tiles(len(maps) + 1, LAYERS[self.stage], width, height - 1)
        digit = probe.stages["input"][0, 2:26, 2:26]
        tiles = [Tile(Heatmap(fit_to(digit, fit.pixels), glyphs=glyphs))]
        tiles += [map_tile(m, fit.pixels, glyphs=glyphs) for m in maps[: fit.capacity - 1]]
        header = Text(
            f"{self.stage} {glyphs.arrow} ReLU, {len(maps)} maps{glyphs.sep}",
            style="bold",
            no_wrap=True,
            overflow=glyphs.overflow,
        )
        caption = probe_caption(probe, view.classes, short=True)
        header.append(f"{caption.who}{glyphs.sep}{caption.answer}", style="")
        return Picture(
            self.app, header, TileGrid(tiles, width=width, gap=1, row_gap=1, glyphs=glyphs)
        )
