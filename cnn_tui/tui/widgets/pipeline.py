"""The probe digit going through the network, stage by stage, left to right.

``PipelineView`` draws every stage of :data:`cnn_tui.model.STAGES` for one digit (the test
digit chosen with n/p, or with ``source="drawn"`` the digit drawn on the Draw tab), each
labelled with the tutorial's step and the tensor's shape:

    input 28×28 → conv1 10×24×24 → pool1 10×12×12 → conv2 20×8×8 → pool2 20×4×4
     (Input)      (1 Convolution)  (2 ReLU + pooling) (1 Convolution) (2 ReLU + pooling)
    flatten 320 → fc1 50 → fc2 10 → probs 10: bars for the classes, the prediction marked
    (3 Flattening) (4 Full connection) ×2  (Softmax)

Feature maps are grids of heatmaps; conv outputs are signed (blue < 0 < red, white at zero),
stages after a ReLU are non-negative (magma), the input is grey. Each stage has one colour
scale for all its maps, so a quiet channel looks quiet. The flattened 320 values and fc1's
50 are strips wrapped into rows; fc2's 10 logits are a column lined up with the class bars.

Sizes come from :func:`cnn_tui.render.stage_fit.plan`: it tries every combination of pixel
sizes (magnified, native, or shrunk by block means) and keeps the one that loses the least
detail. At 120 columns both rows fit on one page. When they do not (80×18), the stages are
split into pages — consecutive stages, never across the two rows — rather than drawn too
small to read (at 80×18: the digit and conv1; pool1, conv2 and pool2; the vectors and
bars); ←/→ turn the pages (the widget is focusable; the keys show in the footer only when
there are pages) and the header says which page is shown. Only when one stage alone cannot
fit are some of its maps left out, with "+N more".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.events import Resize
from textual.widget import Widget

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.model import STAGES
from cnn_tui.render import Grid, Heatmap, ProbBars, Tile
from cnn_tui.render.flow import ARROW, ARROW_ASCII, Block, Flow, wrap_words
from cnn_tui.render.scaling import ArrayLike, to_numpy
from cnn_tui.render.stage_fit import COLUMN_WIDTH, Choice, Plan, RowFit, Stage, plan
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync
from cnn_tui.tui.widgets.tiling import fit_to

ROWS = (("input", "conv1", "pool1", "conv2", "pool2"), ("flatten", "fc1", "fc2", "probs"))
STEP_TITLES = {
    "input": "Input",
    "convolution": "1 Convolution",
    "ReLU + max-pool": "2 ReLU + pooling",
    "flattening": "3 Flattening",
    "full connection": "4 Full connection",
    "probabilities": "Softmax",
}
SIGNED = frozenset({"conv1", "conv2", "fc2"})  # taken before a ReLU
HEADER_LINES = 1


def shape_text(shape: tuple[int, ...], *, ascii: bool = False) -> str:
    """``10×24×24``; a single channel is left out (the input is ``28×28``)."""
    dims = shape[1:] if len(shape) == 3 and shape[0] == 1 else shape
    return ("x" if ascii else "×").join(str(d) for d in dims)


@lru_cache(maxsize=2)
def stage_rows(ascii: bool) -> tuple[tuple[Stage, ...], ...]:
    """The two rows of the diagram, described for the layout planner."""
    classes = STAGES["probs"][1][0]
    rows: list[tuple[Stage, ...]] = []
    for names in ROWS:
        stages = []
        for name in names:
            step, shape = STAGES[name]
            caption = f"{name} {shape_text(shape, ascii=ascii)}"
            title = STEP_TITLES.get(step, step)
            if len(shape) == 3:
                stages.append(Stage(name, title, caption, "maps", shape[0], shape[1]))
            else:
                kind = "bars" if name == "probs" else "column" if shape[0] == classes else "strip"
                stages.append(Stage(name, title, caption, kind, shape[0]))
        rows.append(tuple(stages))
    return tuple(rows)


def probe_header(
    probe: ProbeTaken, classes: tuple[str, ...], *, width: int, page: str = "", ascii: bool
) -> str:
    """Which digit, what the network says, the page shown and when, as fits ``width``
    (the least useful parts are left out first)."""

    def name(k: int) -> str:
        return classes[k] if k < len(classes) else str(k)

    who = "your digit" if probe.source == "drawn" else f"test #{probe.index}"
    if probe.label is not None:
        who += f", Ground Truth: {name(probe.label)}"
    parts = [who, f"prediction {name(probe.prediction)} ({probe.confidence:.0%})"]
    parts += [page] if page else []
    parts.append(f"after {probe.examples_seen:,} examples")
    sep = " | " if ascii else " · "
    while len(parts) > 2 and cell_len(sep.join(parts)) > width:
        parts.pop()
    return sep.join(parts)


@dataclass(frozen=True, slots=True)
class StageColours:
    """One colour scale for a whole stage, so its maps compare with each other."""

    low: float
    high: float
    palette: str
    signed: bool = False

    @classmethod
    def of(cls, name: str, data: torch.Tensor) -> StageColours:
        if name in SIGNED:
            bound = float(data.abs().max()) or 1.0
            return cls(-bound, bound, "diverging", signed=True)
        if name == "input":
            return cls(float(data.min()), float(data.max()), "gray")
        return cls(0.0, float(data.max()) or 1.0, "magma")

    def draw(self, image: ArrayLike, scale: int, ascii: bool) -> Heatmap:
        return Heatmap(
            image,
            vmin=self.low,
            vmax=self.high,
            signed=self.signed,
            palette=self.palette,
            scale=scale,
            ascii=ascii,
        )


class PipelineView(ViewSync, Widget):
    DEFAULT_CSS = "PipelineView { width: 1fr; height: 1fr; }"  # drawn to fit whatever it is given
    REDRAW_INTERVAL = 2.0
    can_focus = True
    BINDINGS = [
        Binding("right", "page(1)", "Pages", key_display="←→"),  # one footer entry: 80 columns
        Binding("left", "page(-1)", "Pages", show=False),
    ]

    def __init__(self, *, source: str = "test", ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        if source not in ("test", "drawn"):
            raise ValueError(f"source is 'test' or 'drawn', not {source!r}")
        self.source = source
        self.ascii = ascii
        self.page = 0
        self._probe: ProbeTaken | None = None
        self._class_names: tuple[str, ...] = ()

    # -- data -------------------------------------------------------------------------
    def sync(self, view: RunView, now: float | None = None) -> None:
        chosen = self.source == "drawn" or (
            view.probe is not None
            and self._probe is not None
            and view.probe.index != self._probe.index
        )
        super().sync(view, None if chosen else now)  # a digit the user chose shows at once

    def key(self, view: RunView) -> object:
        return view.drawn_version if self.source == "drawn" else view.probe_version

    def take(self, view: RunView) -> None:
        self._probe = view.drawn_probe if self.source == "drawn" else view.probe
        self._class_names = view.classes

    # -- pages ------------------------------------------------------------------------
    def layout_plan(self) -> Plan | None:
        width, height = self.size
        if width < 1 or height <= HEADER_LINES:
            return None
        return plan(stage_rows(self.ascii), width, height - HEADER_LINES)

    @property
    def page_count(self) -> int:
        fitted = self.layout_plan()
        return len(fitted.pages) if fitted is not None else 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            return self.page_count > 1
        return True

    def action_page(self, step: int) -> None:
        self.page = (self.page + step) % self.page_count
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        self.refresh_bindings()

    # -- drawing ----------------------------------------------------------------------
    def render(self) -> RenderableType:
        probe = self._probe
        if probe is None:
            waiting = "draw a digit to see it" if self.source == "drawn" else "waiting for a probe"
            return Text(waiting + ("..." if self.ascii else "…"), style="dim")
        fitted = self.layout_plan()
        if fitted is None:
            return Text("too small for the pipeline", style="dim")
        pages = len(fitted.pages)
        self.page = min(self.page, pages - 1)
        page = f"page {self.page + 1}/{pages} {'<-/->' if self.ascii else '←/→'}"
        title = probe_header(
            probe,
            self._class_names,
            width=self.size.width,
            page=page if pages > 1 else "",
            ascii=self.ascii,
        )
        parts: list[RenderableType] = [Text(title, style="bold", no_wrap=True, overflow="crop")]
        for index, row in enumerate(fitted.pages[self.page]):
            if index and fitted.gap:
                parts.append(Text(""))
            parts.append(self._flow(probe, row, self.size.width))
        return Group(*parts)

    def _flow(self, probe: ProbeTaken, row: RowFit, width: int) -> Flow:
        blocks = [
            self._block(probe, stage, choice, block_width, row.label_lines)
            for stage, choice, block_width in zip(row.stages, row.choices, row.widths, strict=True)
        ]
        arrow = ARROW_ASCII if self.ascii else ARROW
        return Flow(
            blocks, label_lines=row.label_lines, arrow=arrow, indent=(width - row.width) // 2
        )

    def _block(
        self, probe: ProbeTaken, stage: Stage, choice: Choice, width: int, lines: int
    ) -> Block:
        caption_lines = wrap_words(stage.caption, width)
        title_lines = wrap_words(stage.title, width)[: max(0, lines - len(caption_lines))]
        labels = tuple((t, "bold") for t in title_lines) + tuple((c, "dim") for c in caption_lines)
        data = probe.stages[stage.name]
        body: RenderableType
        body_width = choice.width
        if stage.kind == "maps":
            body = self._maps(stage, data, choice)
        elif stage.kind == "strip":
            body = self._strip(stage, data, choice)
        elif stage.kind == "column":
            column = np.repeat(to_numpy(data).reshape(-1, 1), 2, axis=0)  # a value per line
            column = np.repeat(column, COLUMN_WIDTH, axis=1)
            body = StageColours.of(stage.name, data).draw(column, 1, self.ascii)
        else:
            body_width = width
            body = ProbBars(
                data, self._class_names, highlight=probe.prediction, width=width, ascii=self.ascii
            )
        return Block(body, width, choice.height, body_width, labels)

    def _maps(self, stage: Stage, data: torch.Tensor, choice: Choice) -> RenderableType:
        colours = StageColours.of(stage.name, data)
        side, pixels = stage.side, choice.pixels
        scale = max(1, pixels // side)
        tiles = [
            Tile(colours.draw(m if scale > 1 else fit_to(m, pixels), scale, self.ascii))
            for m in data.reshape(-1, side, side)[: choice.shown]
        ]
        grid = Grid(tiles, width=choice.width, gap=1, row_gap=1, ascii=self.ascii)
        if choice.shown >= stage.count:
            return grid
        return Group(grid, Text(f"+{stage.count - choice.shown} more", style="dim"))

    def _strip(self, stage: Stage, data: torch.Tensor, choice: Choice) -> Heatmap:
        rows = math.ceil(stage.count / choice.per_row)
        values = data.reshape(rows, choice.per_row)
        return StageColours.of(stage.name, data).draw(values, choice.pixels, self.ascii)
