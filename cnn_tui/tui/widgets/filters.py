"""The learned filters: conv1's ten 5×5 kernels and, for one conv2 filter, its ten.

Step 1 of the tutorial (convolution) slides these kernels over the image. ``FilterView``
draws them as signed heatmaps — blue negative, white zero, red positive; in ASCII mode
``,-=oO`` against ``.+*#@`` — magnified so each weight is a visible block. Each group has
one symmetric scale, ±max|w| over the whole layer, shown by a legend, so kernels compare
with each other, and conv2's scale stays put while ``[`` / ``]`` step through its 20
filters (each has one 5×5 kernel per conv1 map, 10 in all). The weights come with the
engine's probes, so the picture follows training.

Sizes: the two groups stack; :func:`choose_layout` picks the largest magnification that
fits both (then conv1's, the layer the tutorial explains), in rows balanced to the width;
short of room, each group's legend moves onto its title line and the blank line between
the groups goes. At 80×18 conv1 is drawn at 2 cells a weight, conv2 at 1.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.render import Grid, Heatmap, Tile, legend
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync

SCALES = (4, 3, 2, 1)
KERNEL = 5
LEGEND_WIDTH = 40


@dataclass(frozen=True, slots=True)
class GroupFit:
    scale: int
    per_row: int
    height: int  # lines, headers included


@dataclass(frozen=True, slots=True)
class FilterLayout:
    groups: tuple[GroupFit, GroupFit]
    header_lines: int  # 2: title, then legend; 1: both on one line
    gap: int  # blank lines between the groups

    def key(self) -> tuple[int, int, int, int]:
        first, second = (g.scale for g in self.groups)
        return (min(first, second), first, self.header_lines, self.gap)


def fit_group(count: int, scale: int, width: int, title_width: int, header: int) -> GroupFit:
    """``count`` kernels at ``scale`` in rows of equal length that fit ``width``."""
    tile = max(KERNEL * scale, title_width)
    most = max(1, min(count, (width + 1) // (tile + 1)))
    rows = math.ceil(count / most)
    per_row = math.ceil(count / rows)  # balanced: 5 + 5 rather than 7 + 3
    return GroupFit(scale, per_row, header + rows * (1 + math.ceil(KERNEL * scale / 2)))


def choose_layout(
    counts: tuple[int, int], width: int, height: int, title_widths: tuple[int, int]
) -> FilterLayout:
    """The largest scales that fit ``height`` (the smaller of the two first, then conv1's),
    then roomier headers; the smallest, most compact layout if nothing fits."""
    best: FilterLayout | None = None
    for header, gap, first, second in itertools.product((2, 1), (1, 0), SCALES, SCALES):
        layout = FilterLayout(
            (
                fit_group(counts[0], first, width, title_widths[0], header),
                fit_group(counts[1], second, width, title_widths[1], header),
            ),
            header,
            gap,
        )
        fits = sum(g.height for g in layout.groups) + gap <= height
        if fits and (best is None or layout.key() > best.key()):
            best = layout
    if best is None:
        smallest = SCALES[-1]
        return FilterLayout(
            (
                fit_group(counts[0], smallest, width, title_widths[0], 1),
                fit_group(counts[1], smallest, width, title_widths[1], 1),
            ),
            1,
            0,
        )
    return best


def bound(weights: torch.Tensor) -> float:
    """The group's symmetric scale: ±max|w| (1 if all weights are zero)."""
    return float(weights.abs().max()) or 1.0


class FilterView(ViewSync, Widget):
    DEFAULT_CSS = "FilterView { width: 1fr; height: 1fr; }"  # drawn to fit whatever it is given
    REDRAW_INTERVAL = 2.0
    can_focus = True
    BINDINGS = [
        Binding("right_square_bracket", "channel(1)", "Filter", key_display="[ ]"),
        Binding("left_square_bracket", "channel(-1)", "Filter", show=False),
    ]

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self.channel = 0
        self._probe: ProbeTaken | None = None

    def key(self, view: RunView) -> object:
        return (view.probe_version, view.drawn_version)

    def take(self, view: RunView) -> None:
        """The weights of whichever probe is newer (the test digit's, or a drawing's)."""
        probes = [p for p in (view.probe, view.drawn_probe) if p is not None]
        self._probe = max(probes, key=lambda p: p.examples_seen, default=None)

    @property
    def channels(self) -> int:
        return self._probe.conv2_weight.shape[0] if self._probe is not None else 20

    def action_channel(self, step: int) -> None:
        self.channel = (self.channel + step) % self.channels
        self.refresh()

    # -- drawing ----------------------------------------------------------------------
    def render(self) -> RenderableType:
        probe = self._probe
        if probe is None:
            return Text("waiting for the first probe" + ("..." if self.ascii else "…"), style="dim")
        self.channel %= self.channels
        conv1 = probe.conv1_weight[:, 0]
        conv2 = probe.conv2_weight[self.channel]
        width, height = self.size
        layout = choose_layout(
            (len(conv1), len(conv2)), width, height, (len(str(len(conv1))), len("in 10"))
        )
        first, second = layout.groups
        conv1_bound, conv2_bound = bound(probe.conv1_weight), bound(probe.conv2_weight)
        x, dot = ("x", " | ") if self.ascii else ("×", " · ")
        conv1_title = (f"conv1{dot}{len(conv1)} learned {KERNEL}{x}{KERNEL} filters",)
        chosen = f"conv2 filter {self.channel}/{self.channels}"
        conv2_title = (
            f"{chosen}{dot}its {len(conv2)} kernels, one per conv1 map{dot}[ ] other filters",
            f"{chosen}{dot}its {len(conv2)} kernels, one per conv1 map",
            f"{chosen}: {len(conv2)} kernels, 1 per conv1 map",
        )
        lines = layout.header_lines
        return Group(
            *self._heading(conv1_title, "conv1", conv1_bound, lines),
            self._grid(conv1, conv1_bound, first, "{}"),
            *[Text("")] * layout.gap,
            *self._heading(conv2_title, "conv2", conv2_bound, lines),
            self._grid(conv2, conv2_bound, second, "in {}"),
        )

    def _heading(self, titles: tuple[str, ...], layer: str, limit: float, lines: int) -> list[Text]:
        """The group's title (the longest of ``titles`` that fits) and its colour key, on
        two lines, or on one when short of room."""
        width, pm = self.size.width, "+/-" if self.ascii else "±"
        if lines == 2:
            key = legend(-limit, limit, signed=True, width=LEGEND_WIDTH, ascii=self.ascii)
            key.append(f"  one scale for all of {layer}: {pm}max|w|")
            title = next((t for t in titles if cell_len(t) <= width), titles[-1])
            return [Text(title, style="bold", no_wrap=True, overflow="crop"), key]
        key = legend(-limit, limit, signed=True, width=LEGEND_WIDTH // 2, ascii=self.ascii)
        key.append(f" ({pm}max|w|)")
        room = width - key.cell_len - 2
        title = next((t for t in titles if cell_len(t) <= room), titles[-1])
        heading = Text(title, style="bold", no_wrap=True, overflow="crop")
        return [heading.append("  ").append_text(key)]

    def _grid(self, kernels: torch.Tensor, limit: float, fit: GroupFit, name: str) -> Grid:
        names = [name.format(k) for k in range(len(kernels))]
        tiles = [
            Tile(
                Heatmap(
                    kernel,
                    vmin=-limit,
                    vmax=limit,
                    signed=True,
                    scale=fit.scale,
                    ascii=self.ascii,
                ),
                title=title,
                title_style="" if self.ascii else "bold",
            )
            for kernel, title in zip(kernels, names, strict=True)
        ]
        tile_width = max(KERNEL * fit.scale, max(len(n) for n in names))
        grid_width = fit.per_row * (tile_width + 1) - 1
        return Grid(tiles, width=grid_width, gap=1, row_gap=0, ascii=self.ascii)
