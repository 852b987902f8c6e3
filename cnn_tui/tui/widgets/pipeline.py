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
from textual.reactive import reactive

from cnn_tui.engine.events import ProbeTaken
from cnn_tui.model import STAGES
from cnn_tui.phrases import probe_caption
from cnn_tui.render import UNICODE, Glyphs, Heatmap, ProbBars, Tile, TileGrid, fit_to
from cnn_tui.render.flow import Block, Flow, wrap_words
from cnn_tui.render.scaling import ArrayLike, to_numpy
from cnn_tui.render.stage_fit import COLUMN_WIDTH, Choice, Plan, RowFit, Stage, plan
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

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
PAGES = "pipeline: turn pages (small terminals)"


def shape_text(shape: tuple[int, ...], *, glyphs: Glyphs = UNICODE) -> str:
    """``10×24×24``; a single channel is left out (the input is ``28×28``)."""
    dims = shape[1:] if len(shape) == 3 and shape[0] == 1 else shape
    return glyphs.times.join(str(d) for d in dims)


@lru_cache(maxsize=2)
def stage_rows(glyphs: Glyphs = UNICODE) -> tuple[tuple[Stage, ...], ...]:
    """The two rows of the diagram, described for the layout planner."""
    classes = STAGES["probs"][1][0]
    rows: list[tuple[Stage, ...]] = []
    for names in ROWS:
        stages = []
        for name in names:
            step, shape = STAGES[name]
            caption = f"{name} {shape_text(shape, glyphs=glyphs)}"
            title = STEP_TITLES.get(step, step)
            if len(shape) == 3:
                stages.append(Stage(name, title, caption, "maps", shape[0], shape[1]))
            else:
                kind = "bars" if name == "probs" else "column" if shape[0] == classes else "strip"
                stages.append(Stage(name, title, caption, kind, shape[0]))
        rows.append(tuple(stages))
    return tuple(rows)


def probe_header(
    probe: ProbeTaken, classes: tuple[str, ...], *, width: int, page: str = "", glyphs: Glyphs
) -> str:
    """Which digit, what the network says, the page shown and when, as fits ``width``
    (the least useful parts are left out first)."""
    caption = probe_caption(probe, classes, short=False)
    parts = [caption.who, caption.answer, *([page] if page else []), caption.when]
    sep = glyphs.sep
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

    def draw(self, image: ArrayLike, scale: int, glyphs: Glyphs) -> Heatmap:
        return Heatmap(
            image,
            vmin=self.low,
            vmax=self.high,
            signed=self.signed,
            palette=self.palette,
            scale=scale,
            glyphs=glyphs,
        )


class PipelineView(ViewWidget, can_focus=True):
    DEFAULT_CSS = "PipelineView { width: 1fr; height: 1fr; }"  # drawn to fit whatever it is given
    DRAWS = Part.PROBE
    EVERY = 2.0
    BINDINGS = [
        # one footer entry for both, so the inside screen's footer fits 80 columns
        Binding("right", "page(1)", "Pages", key_display="←→", tooltip=PAGES),
        Binding("left", "page(-1)", "Pages", show=False, key_display="←→", tooltip=PAGES),
    ]

    page = reactive(0)

    def __init__(self, *, source: str = "test", id: str | None = None) -> None:
        super().__init__(id=id)
        if source not in ("test", "drawn"):
            raise ValueError(f"source is 'test' or 'drawn', not {source!r}")
        self.source = source
        self.draws = (Part.DRAWN,) if source == "drawn" else (Part.PROBE,)

    # -- pages ------------------------------------------------------------------------
    def layout_plan(self) -> Plan | None:
        width, height = self.size
        if width < 1 or height <= HEADER_LINES:
            return None
        return plan(stage_rows(self.glyphs), width, height - HEADER_LINES)

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

    def on_resize(self, event: Resize) -> None:
        self.refresh_bindings()

    # -- drawing ----------------------------------------------------------------------
    def draw(self, view: RunView) -> RenderableType:
        probe, glyphs = (view.drawn_probe if self.source == "drawn" else view.probe), self.glyphs
        if probe is None:
            waiting = "draw a digit to see it" if self.source == "drawn" else "waiting for a probe"
            return Text(waiting + glyphs.ellipsis, style="dim")
        fitted = self.layout_plan()
        if fitted is None:
            return Text("too small for the pipeline", style="dim")
        pages = len(fitted.pages)
        page_shown = min(self.page, pages - 1)
        page = f"page {page_shown + 1}/{pages} {glyphs.left_right}"
        title = probe_header(
            probe,
            view.classes,
            width=self.size.width,
            page=page if pages > 1 else "",
            glyphs=glyphs,
        )
        parts: list[RenderableType] = [Text(title, style="bold", no_wrap=True, overflow="crop")]
        for index, row in enumerate(fitted.pages[page_shown]):
            if index and fitted.gap:
                parts.append(Text(""))
            parts.append(self._flow(probe, view.classes, row, self.size.width))
        return Group(*parts)

    def _flow(self, probe: ProbeTaken, classes: tuple[str, ...], row: RowFit, width: int) -> Flow:
        blocks = [
            self._block(probe, classes, stage, choice, block_width, row.label_lines)
            for stage, choice, block_width in zip(row.stages, row.choices, row.widths, strict=True)
        ]
        indent = (width - row.width) // 2
        return Flow(blocks, label_lines=row.label_lines, glyphs=self.glyphs, indent=indent)

    def _block(
        self,
        probe: ProbeTaken,
        classes: tuple[str, ...],
        stage: Stage,
        choice: Choice,
        width: int,
        lines: int,
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
            body = StageColours.of(stage.name, data).draw(column, 1, self.glyphs)
        else:
            body_width = width
            body = ProbBars(
                data, classes, highlight=probe.prediction, width=width, glyphs=self.glyphs
            )
        return Block(body, width, choice.height, body_width, labels)

    def _maps(self, stage: Stage, data: torch.Tensor, choice: Choice) -> RenderableType:
        colours = StageColours.of(stage.name, data)
        side, pixels = stage.side, choice.pixels
        scale = max(1, pixels // side)
        tiles = [
            Tile(colours.draw(m if scale > 1 else fit_to(m, pixels), scale, self.glyphs))
            for m in data.reshape(-1, side, side)[: choice.shown]
        ]
        grid = TileGrid(tiles, width=choice.width, gap=1, row_gap=1, glyphs=self.glyphs)
        if choice.shown >= stage.count:
            return grid
        return Group(grid, Text(f"+{stage.count - choice.shown} more", style="dim"))

    def _strip(self, stage: Stage, data: torch.Tensor, choice: Choice) -> Heatmap:
        rows = math.ceil(stage.count / choice.per_row)
        values = data.reshape(rows, choice.per_row)
        return StageColours.of(stage.name, data).draw(values, choice.pixels, self.glyphs)
