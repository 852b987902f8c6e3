"""The digits behind one cell of the confusion matrix, most confident mistakes first.

Enter on a cell of the matrix opens this dialog (the inside screen does, on the matrix's
``CellChosen``): every test digit of class ``true`` the
network predicted as ``predicted`` in that test pass, drawn from the raw test images with
its index and confidence. It is built from plain data (the pair, the mistakes, the images,
the class names), so it needs no engine. Before training one cell can hold a thousand
digits, so the wall of tiles is a line-API ``ScrollView`` that builds only the rows of
tiles on screen (and keeps a few), never the whole wall.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import torch
from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from cnn_tui.engine.events import EpochTested, Mistake
from cnn_tui.phrases import test_when
from cnn_tui.render import UNICODE, Glyphs, Heatmap, Tile, TileGrid, fit_to
from cnn_tui.render.scaling import FloatArray
from cnn_tui.render.text import centre
from cnn_tui.render.tiling import fit_tiles
from cnn_tui.tui.glyphs_app import glyphs_of

if TYPE_CHECKING:
    from cnn_tui.tui.widgets.confusion import ConfusionMatrix

SIZES = (28, 14)  # pixels a side: whole digits, or 2×2 block means
GAP, ROW_GAP = 2, 1
ROW_CACHE = 48  # rows of tiles kept rendered


def mistakes_for(test: EpochTested, true: int, predicted: int) -> list[Mistake]:
    """The test digits of class ``true`` predicted as ``predicted``, most confident first."""
    return pair_mistakes(test.mistakes, true, predicted)


def pair_mistakes(mistakes: Iterable[Mistake], true: int, predicted: int) -> list[Mistake]:
    return sort_mistakes(m for m in mistakes if m.label == true and m.predicted == predicted)


def sort_mistakes(mistakes: Iterable[Mistake]) -> list[Mistake]:
    """Most confident first; the test index breaks ties, so the order is always the same."""
    return sorted(mistakes, key=lambda m: (-m.confidence, m.index))


def caption(mistake: Mistake, *, glyphs: Glyphs = UNICODE) -> str:
    """``#1234 · 87%``: the test index and the confidence in the wrong answer."""
    return f"#{mistake.index}{glyphs.tight_sep}{mistake.confidence:.0%}"


class DigitWall(ScrollView, can_focus=True):
    """Digit tiles in rows that fit the width, built row by row as they scroll into view."""

    DEFAULT_CSS = "DigitWall { height: 1fr; scrollbar-gutter: stable; background: $surface; }"

    def __init__(
        self,
        mistakes: Sequence[Mistake],
        images: torch.Tensor | None,
        *,
        glyphs: Glyphs = UNICODE,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.mistakes = tuple(mistakes)
        self.images = images
        self.glyphs = glyphs
        self.captions = [caption(m, glyphs=glyphs) for m in self.mistakes]
        self.pixels = 0  # 0: no images, captions only
        self.tile_width = max(map(cell_len, self.captions), default=1)
        self.per_row = 1
        self.rows_built: set[int] = set()  # rows of tiles built since the last layout
        self._rows: dict[int, list[Strip]] = {}
        self._laid_out = False

    @property
    def tile_height(self) -> int:
        return 1 + (self.pixels + 1) // 2

    @property
    def pitch(self) -> int:
        return self.tile_height + (ROW_GAP if self.pixels else 0)

    @property
    def row_count(self) -> int:
        return math.ceil(len(self.mistakes) / self.per_row)

    def on_resize(self, event: events.Resize) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Choose the tile size for the current size: whole digits if they all fit."""
        width, height = self.scrollable_content_region.size
        label = max(map(cell_len, self.captions), default=1)
        if self.images is not None:
            fit = fit_tiles(
                len(self.mistakes),
                SIZES,
                width,
                height,
                min_tile_width=label,
                label_lines=1,
                gap=GAP,
                row_gap=ROW_GAP,
            )
            self.pixels = fit.pixels
        self.tile_width = max(self.pixels, label)
        self.per_row = max(1, (width + GAP) // (self.tile_width + GAP))
        self.virtual_size = Size(width, max(0, self.row_count * self.pitch - ROW_GAP))
        self._rows.clear()
        self.rows_built.clear()
        self._laid_out = True
        self.refresh()

    def tile_image(self, position: int) -> FloatArray:
        """The pixels drawn for the ``position``-th digit shown (0–255, at the tile size)."""
        if self.images is None:
            raise LookupError("no test images to draw")
        return fit_to(self.images[self.mistakes[position].index], self.pixels)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row, within = divmod(y + scroll_y, self.pitch)
        if not self._laid_out or row >= self.row_count or within >= self.tile_height:
            return Strip.blank(width, self.rich_style)
        line = self.row_lines(row)[within]
        return line.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def row_lines(self, row: int) -> list[Strip]:
        """The lines of one row of tiles, built on first use and kept for a while."""
        lines = self._rows.get(row)
        if lines is None:
            if len(self._rows) >= ROW_CACHE:
                del self._rows[next(iter(self._rows))]
            lines = self._rows[row] = self._build_row(row)
            self.rows_built.add(row)
        return lines

    def _build_row(self, row: int) -> list[Strip]:
        shown = range(row * self.per_row, min(len(self.mistakes), (row + 1) * self.per_row))
        if self.pixels == 0:
            gap = " " * GAP
            text = gap.join(centre(self.captions[k], self.tile_width) for k in shown)
            return [Strip([Segment(text)]).apply_style(self.rich_style)]
        tiles = [
            Tile(
                Heatmap(self.tile_image(k), vmin=0.0, vmax=255.0, glyphs=self.glyphs),
                title=self.captions[k],
                title_style=self.glyphs.style("bold"),
            )
            for k in shown
        ]
        console = self.app.console
        width = self.scrollable_content_region.width
        grid = TileGrid(tiles, width=width, gap=GAP, row_gap=0, glyphs=self.glyphs)
        options = console.options.update_width(width)
        lines = console.render_lines(grid, options, pad=True)
        return [Strip(line).apply_style(self.rich_style) for line in lines]


class GalleryScreen(ModalScreen[None]):
    """Every test digit of one (true, predicted) cell, in a scrollable grid."""

    DEFAULT_CSS = """
    #gallery { margin: 1 2; border: round $accent; background: $surface; padding: 0 1; }
    #gallery-title { text-style: bold; }
    #gallery-help, #gallery-note { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    GalleryScreen.-ascii #gallery-help, GalleryScreen.-ascii #gallery-note { text-overflow: clip; }
    #gallery-empty { height: 1fr; content-align: center middle; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(
        self,
        true: int,
        predicted: int,
        mistakes: Sequence[Mistake],
        images: torch.Tensor | None,
        classes: Sequence[str],
        *,
        correct: int | None = None,
        epoch: int | None = None,
    ) -> None:
        """``mistakes`` may be the whole test pass's: only this pair's are kept.
        ``correct`` is the diagonal count, said when ``true == predicted``."""
        super().__init__()
        self.true, self.predicted = true, predicted
        self.mistakes = pair_mistakes(mistakes, true, predicted)
        self.images = images
        self.class_names = tuple(classes)
        self.glyphs = UNICODE  # the app's, once mounted
        self.correct = correct
        self.epoch = epoch

    @classmethod
    def from_test(
        cls,
        test: EpochTested,
        true: int,
        predicted: int,
        *,
        images: torch.Tensor | None,
        classes: Sequence[str],
    ) -> GalleryScreen:
        correct = test.confusion[true][true] if true == predicted else None
        return cls(
            true, predicted, test.mistakes, images, classes, correct=correct, epoch=test.epoch
        )

    @classmethod
    def of_cell(cls, chosen: ConfusionMatrix.CellChosen) -> GalleryScreen:
        """The gallery of the cell chosen on a confusion matrix."""
        return cls.from_test(
            chosen.test,
            chosen.true,
            chosen.predicted,
            images=chosen.images,
            classes=chosen.classes,
        )

    @property
    def indices(self) -> tuple[int, ...]:
        """The test indices shown, in order (most confident first)."""
        return tuple(m.index for m in self.mistakes)

    def heading(self) -> str:
        true, predicted = self.class_names[self.true], self.class_names[self.predicted]
        pair = f"true {true} predicted as {predicted} {self.glyphs.dash} "
        if self.true == self.predicted:
            return pair + f"these are the correct ones: {self.correct or 0}"
        count = len(self.mistakes)
        return pair + (f"{count} digit{'s' if count != 1 else ''}" if count else "no mistakes here")

    def help_text(self) -> str:
        parts = [] if self.epoch is None else [f"test {test_when(self.epoch)}"]
        if self.mistakes:
            parts += ["most confident first", f"{self.glyphs.up_down} PgDn scroll"]
        return self.glyphs.sep.join([*parts, "Esc closes"])

    def empty_text(self) -> str:
        true, predicted = self.class_names[self.true], self.class_names[self.predicted]
        if self.true == self.predicted:
            return (
                f"These are the correct ones: {self.correct or 0} test digits of {true} "
                f"were predicted as {true}.\nOnly mistakes are shown here: "
                "pick a cell off the diagonal."
            )
        return f"No mistakes here: no test digit of {true} was predicted as {predicted}."

    def compose(self) -> ComposeResult:
        self.glyphs = glyphs_of(self.app)
        self.set_class(self.glyphs.ascii, "-ascii")
        with Vertical(id="gallery"):
            yield Static(self.heading(), id="gallery-title", markup=False)
            yield Static(self.help_text(), id="gallery-help", markup=False)
            if not self.mistakes:
                yield Static(self.empty_text(), id="gallery-empty", markup=False)
                return
            if self.images is None:
                note = "the test images are not available: test indices only"
                yield Static(note, id="gallery-note", markup=False)
            yield DigitWall(self.mistakes, self.images, glyphs=self.glyphs, id="gallery-wall")

    def on_mount(self) -> None:
        for wall in self.query(DigitWall):
            wall.focus()

    def action_close(self) -> None:
        self.dismiss(None)
