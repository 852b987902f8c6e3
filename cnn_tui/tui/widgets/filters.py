"""The learned filters: conv1's ten 5×5 kernels and, for one conv2 filter, its ten.

Step 1 of the tutorial (convolution) slides these kernels over the image. ``FilterView``
draws them as signed heatmaps — blue negative, white zero, red positive; in ASCII
``,-=oO`` against ``.+*#@`` — magnified so each weight is a visible block. Each group has
one symmetric scale, ±max|w| over the whole layer, shown by a legend, so kernels compare
with each other, and conv2's scale stays put while ``[`` / ``]`` step through its 20
filters (each has one 5×5 kernel per conv1 map, 10 in all). The weights come with the
engine's probes, so the picture follows training. The sizes are
:func:`cnn_tui.render.filter_fit.fit_filters`'s.
"""

from __future__ import annotations

import torch
from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.binding import Binding
from textual.reactive import reactive

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.render import Heatmap, Tile, TileGrid, legend
from cnn_tui.render.filter_fit import KERNEL, GroupFit, fit_filters
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.picture import Picture

LEGEND_WIDTH = 40
STEP = "filters: previous / next conv2 filter"


def bound(weights: torch.Tensor) -> float:
    """The group's symmetric scale: ±max|w| (1 if all weights are zero)."""
    return float(weights.abs().max()) or 1.0


class FilterView(ViewWidget, can_focus=True):
    DEFAULT_CSS = "FilterView { width: 1fr; height: 1fr; }"  # drawn to fit whatever it is given
    DRAWS = (Part.PROBE, Part.DRAWN)  # the weights come with either probe
    EVERY = 2.0
    BINDINGS = [
        Binding("right_square_bracket", "channel(1)", "Filter", key_display="[ ]", tooltip=STEP),
        Binding("left_square_bracket", "channel(-1)", show=False, key_display="[ ]", tooltip=STEP),
    ]

    channel = reactive(0)

    def action_channel(self, step: int) -> None:
        self.channel = (self.channel + step) % self.channels

    @property
    def channels(self) -> int:
        probe = self.newest_probe
        return probe.conv2_weight.shape[0] if probe is not None else 20

    @property
    def newest_probe(self) -> ProbeTaken | None:
        """The test digit's probe or the drawing's, whichever the newer weights came with."""
        probes = [p for p in (self.view.probe, self.view.drawn_probe) if p is not None]
        return max(probes, key=lambda p: p.examples_seen, default=None)

    def draw(self, view: RunView) -> RenderResult:
        probe, glyphs = self.newest_probe, self.glyphs
        if probe is None:
            return Text(f"waiting for the first probe{glyphs.ellipsis}", style="dim")
        channel = self.channel % self.channels
        conv1 = probe.conv1_weight[:, 0]
        conv2 = probe.conv2_weight[channel]
        width, height = self.size
        layout = fit_filters(
            (len(conv1), len(conv2)), width, height, (len(str(len(conv1))), len("in 10"))
        )
        first, second = layout.groups
        conv1_bound, conv2_bound = bound(probe.conv1_weight), bound(probe.conv2_weight)
        x, sep = glyphs.times, glyphs.sep
        conv1_title = (f"conv1{sep}{len(conv1)} learned {KERNEL}{x}{KERNEL} filters",)
        chosen = f"conv2 filter {channel}/{self.channels}"
        conv2_title = (
            f"{chosen}{sep}its {len(conv2)} kernels, one per conv1 map{sep}[ ] other filters",
            f"{chosen}{sep}its {len(conv2)} kernels, one per conv1 map",
            f"{chosen}: {len(conv2)} kernels, 1 per conv1 map",
        )
        lines = layout.header_lines
        return Picture(
            self.app,
            *self._heading(conv1_title, "conv1", conv1_bound, lines),
            self._grid(conv1, conv1_bound, first, "{}"),
            *[Text("")] * layout.gap,
            *self._heading(conv2_title, "conv2", conv2_bound, lines),
            self._grid(conv2, conv2_bound, second, "in {}"),
        )

    def _heading(self, titles: tuple[str, ...], layer: str, limit: float, lines: int) -> list[Text]:
        """The group's title (the longest of ``titles`` that fits) and its colour key, on
        two lines, or on one when short of room."""
        width, pm, glyphs = self.size.width, self.glyphs.plus_minus, self.glyphs
        if lines == 2:
            key = legend(-limit, limit, signed=True, width=LEGEND_WIDTH, glyphs=glyphs)
            key.append(f"  one scale for all of {layer}: {pm}max|w|")
            title = next((t for t in titles if cell_len(t) <= width), titles[-1])
            return [Text(title, style="bold", no_wrap=True, overflow="crop"), key]
        key = legend(-limit, limit, signed=True, width=LEGEND_WIDTH // 2, glyphs=glyphs)
        key.append(f" ({pm}max|w|)")
        room = width - key.cell_len - 2
        title = next((t for t in titles if cell_len(t) <= room), titles[-1])
        heading = Text(title, style="bold", no_wrap=True, overflow="crop")
        return [heading.append("  ").append_text(key)]

    def _grid(self, kernels: torch.Tensor, limit: float, fit: GroupFit, name: str) -> TileGrid:
        names = [name.format(k) for k in range(len(kernels))]
        tiles = [
            Tile(
                Heatmap(
                    kernel,
                    vmin=-limit,
                    vmax=limit,
                    signed=True,
                    scale=fit.scale,
                    glyphs=self.glyphs,
                ),
                title=title,
                title_style=self.glyphs.style("bold"),
            )
            for kernel, title in zip(kernels, names, strict=True)
        ]
        tile_width = max(KERNEL * fit.scale, max(len(n) for n in names))
        grid_width = fit.per_row * (tile_width + 1) - 1
        return TileGrid(tiles, width=grid_width, gap=1, row_gap=0, glyphs=self.glyphs)
