"""The probe digit's feature maps: conv1's 10 or conv2's 20, after ReLU, as heatmaps.

Each map is scaled to its own strongest activation, so every map shows what it responds
to (a map that is zero everywhere stays black). The digit itself leads the grid (its
2-pixel border cropped, where MNIST has no ink) at the maps' size.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.render import Grid, Heatmap, Tile
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync
from cnn_tui.tui.widgets.tiling import fit_tiles, fit_to

LAYERS: dict[str, tuple[int, ...]] = {"conv1": (24, 12, 8, 6), "conv2": (16, 8, 4)}


def probe_caption(probe: ProbeTaken) -> str:
    who = f"test #{probe.index}" if probe.source == "test" else "your digit"
    truth = f", Ground Truth: {probe.label}" if probe.label is not None else ""
    return f"{who}{truth} · pred {probe.prediction} ({probe.confidence:.0%})"


class FeatureMaps(ViewSync, Widget):
    REDRAW_INTERVAL = 2.0

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self.stage = "conv1"
        self._probe: ProbeTaken | None = None

    def sync(self, view: RunView, now: float | None = None) -> None:
        chosen = (
            view.probe is not None
            and self._probe is not None
            and view.probe.index != self._probe.index
        )
        super().sync(view, None if chosen else now)  # a digit the user chose shows at once

    def key(self, view: RunView) -> object:
        return view.probe_version

    def take(self, view: RunView) -> None:
        self._probe = view.probe

    def next_layer(self) -> str:
        names = list(LAYERS)
        self.stage = names[(names.index(self.stage) + 1) % len(names)]
        self.refresh()
        return self.stage

    def render(self) -> RenderableType:
        probe = self._probe
        if probe is None:
            return Text("waiting for the first probe…", style="dim")
        maps = probe.stages[self.stage].clamp(min=0)
        width, height = self.size
        fit = fit_tiles(len(maps) + 1, LAYERS[self.stage], width, height - 1)
        digit = probe.stages["input"][0, 2:26, 2:26]
        tiles = [Tile(Heatmap(fit_to(digit, fit.pixels), ascii=self.ascii))]
        tiles += [
            Tile(
                Heatmap(
                    fit_to(m, fit.pixels),
                    vmin=0.0,
                    vmax=float(m.max()) or 1.0,
                    palette="magma",
                    ascii=self.ascii,
                )
            )
            for m in maps[: fit.capacity - 1]
        ]
        header = Text(
            f"{self.stage} → ReLU, {len(maps)} maps · ",
            style="bold",
            no_wrap=True,
            overflow="ellipsis",
        )
        header.append(probe_caption(probe), style="")
        return Group(header, Grid(tiles, width=width, gap=1, row_gap=1, ascii=self.ascii))
