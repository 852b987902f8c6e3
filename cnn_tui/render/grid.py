"""Laying out titled heatmaps (digits, feature maps, filters) in rows that fit a width.

A :class:`Tile` is a body (usually a :class:`~cnn_tui.render.heatmap.Heatmap`) with up to
two centred lines above it — e.g. ``Ground Truth: 7`` and ``pred 7 (98%) ✗``. A
:class:`TileGrid` puts as many equal-width tiles side by side as the available width allows
(the console's, or a fixed ``width``) and wraps the rest onto further rows. Titles are cut
to the tile width, so nothing ever wraps at narrow widths; a tile wider than the whole
grid is cropped.

The grid stitches the tiles' segments line by line itself instead of going through
``rich.table.Table``: the table's measuring and wrapping machinery costs far more than a
12-digit grid redrawn several times a second can afford.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import StyleType

from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.heatmap import Heatmap
from cnn_tui.render.scaling import ArrayLike, as_image, fit_to
from cnn_tui.render.text import centre


@dataclass(frozen=True, slots=True)
class Tile:
    """One cell of a :class:`TileGrid`: a body with an optional title and caption above it."""

    body: RenderableType
    title: str = ""
    caption: str = ""
    title_style: StyleType = "bold"
    caption_style: StyleType = ""


def digit_tile(
    image: ArrayLike,
    *,
    truth: int | str | None,
    pred: int | str | None = None,
    confidence: float | None = None,
    glyphs: Glyphs = UNICODE,
    palette: str = "gray",
) -> Tile:
    """A digit with ``Ground Truth: 7`` over it and ``pred 7 (98%)`` marked ✗ if wrong, ✓ if
    right (ASCII marks only mistakes, with ``x``, and uses no colour)."""
    title = "" if truth is None else f"Ground Truth: {truth}"
    caption = ""
    caption_style: StyleType = ""
    if pred is not None:
        caption = f"pred {pred}" + ("" if confidence is None else f" ({confidence:.0%})")
        if truth is not None:
            wrong = str(pred) != str(truth)
            mark = glyphs.wrong_mark if wrong else glyphs.right_mark
            caption += f" {mark}" if mark else ""
            caption_style = glyphs.style("bold red" if wrong else "green")
    return Tile(
        Heatmap(image, glyphs=glyphs, palette=palette),
        title=title,
        caption=caption,
        title_style=glyphs.style("bold"),
        caption_style=caption_style,
    )


def map_tile(activation: ArrayLike, pixels: int, *, glyphs: Glyphs = UNICODE) -> Tile:
    """A feature map after ReLU at ``pixels`` a side, scaled to its own strongest activation
    so every map shows what it responds to (a map that is zero everywhere stays black)."""
    image = as_image(activation)
    peak = float(image.max()) if image.size else 0.0
    return Tile(
        Heatmap(fit_to(image, pixels), vmin=0.0, vmax=peak or 1.0, palette="magma", glyphs=glyphs)
    )


class TileGrid:
    """Tiles in rows fitting the width (``__rich_console__`` + ``__rich_measure__``).

    Args:
        tiles: the tiles, laid out left to right, top to bottom.
        width: the most cells a row may use; default the console's available width.
        gap: blank cells between tiles in a row.
        row_gap: blank lines between rows of tiles.
        glyphs: the glyph set: how a long title is cut short.
    """

    def __init__(
        self,
        tiles: Iterable[Tile],
        *,
        width: int | None = None,
        gap: int = 2,
        row_gap: int = 1,
        glyphs: Glyphs = UNICODE,
    ) -> None:
        self.tiles: tuple[Tile, ...] = tuple(tiles)
        self.width = width
        self.gap = gap
        self.row_gap = row_gap
        self.glyphs = glyphs

    def _body_width(self, console: Console, options: ConsoleOptions, body: RenderableType) -> int:
        if isinstance(body, Heatmap):
            return body.width
        return Measurement.get(console, options, body).maximum

    def _tile_width(self, console: Console, options: ConsoleOptions) -> int:
        widths = [
            max(self._body_width(console, options, t.body), cell_len(t.title), cell_len(t.caption))
            for t in self.tiles
        ]
        return max(widths, default=0)

    def columns(self, tile_width: int, available: int) -> int:
        """How many tiles of ``tile_width`` fit side by side in ``available`` cells (≥ 1)."""
        return max(1, (available + self.gap) // (tile_width + self.gap))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        tile = self._tile_width(console, options)
        full = len(self.tiles) * (tile + self.gap) - self.gap if self.tiles else 0
        limit = options.max_width if self.width is None else min(self.width, options.max_width)
        return Measurement(min(tile, limit), min(full, limit))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        new_line = Segment.line()
        for line in self.segment_lines(console, options):
            yield from line
            yield new_line

    def segment_lines(self, console: Console, options: ConsoleOptions) -> list[list[Segment]]:
        """The grid's lines, each a list of segments: what ``__rich_console__`` yields, for a
        caller that takes lines as they are (a widget handing Textual finished strips)."""
        if not self.tiles:
            return []
        available = options.max_width if self.width is None else min(self.width, options.max_width)
        tile_width = min(self._tile_width(console, options), available)
        per_row = self.columns(tile_width, available)
        body_options = options.update_width(tile_width)
        has_title = any(t.title for t in self.tiles)
        has_caption = any(t.caption for t in self.tiles)
        gap = Segment(" " * self.gap)
        blank = [Segment(" " * tile_width)]
        lines: list[list[Segment]] = []
        for start in range(0, len(self.tiles), per_row):
            if start:
                lines.extend([] for _ in range(self.row_gap))
            blocks = [
                self._tile_lines(console, body_options, tile, tile_width, has_title, has_caption)
                for tile in self.tiles[start : start + per_row]
            ]
            for row in range(max(len(block) for block in blocks)):
                line: list[Segment] = []
                for column, block in enumerate(blocks):
                    if column:
                        line.append(gap)
                    line.extend(block[row] if row < len(block) else blank)
                lines.append(line)
        return lines

    def _tile_lines(
        self,
        console: Console,
        options: ConsoleOptions,
        tile: Tile,
        width: int,
        has_title: bool,
        has_caption: bool,
    ) -> list[list[Segment]]:
        lines: list[list[Segment]] = []
        for wanted, text, style in (
            (has_title, tile.title, tile.title_style),
            (has_caption, tile.caption, tile.caption_style),
        ):
            if wanted:
                lines.append(
                    [Segment(centre(text, width, cut=self.glyphs.cut), console.get_style(style))]
                )
        body = tile.body
        if isinstance(body, Heatmap):
            body_lines: Sequence[list[Segment]] = body.lines()
            body_width = body.width  # every line is exactly this wide: no measuring needed
        else:
            body_lines = console.render_lines(body, options, pad=False)
            body_width = max((Segment.get_line_length(line) for line in body_lines), default=0)
        if body_width > width:
            lines.extend(Segment.adjust_line_length(line, width) for line in body_lines)
            return lines
        left = (width - body_width) // 2
        before = [Segment(" " * left)] if left else []
        after = [Segment(" " * (width - body_width - left))] if width > body_width + left else []
        if isinstance(body, Heatmap):
            lines.extend(before + line + after for line in body_lines)
        else:  # measured lines may be ragged: pad each to the tile width
            lines.extend(Segment.adjust_line_length(before + line, width) for line in body_lines)
        return lines
