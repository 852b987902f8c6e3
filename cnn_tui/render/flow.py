"""Blocks drawn left to right with arrows between them: one row of a pipeline diagram; and
:class:`Beside`, two renderables side by side.

A :class:`Block` is a body (a heatmap, a grid of them, bars) of a known size with a few
label lines above it. :class:`Flow` puts blocks side by side, ``label → body → body``:
labels sit at the bottom of a shared label area (so they hug their bodies), bodies are
centred vertically in the row, and an arrow sits in the gap at the bodies' middle line.

Every block is exactly its ``width`` cells wide, so the caller decides the layout (see
:mod:`cnn_tui.render.stage_fit`) and this module only stitches lines; nothing is measured
or wrapped here except the labels, cut to their block's width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment

from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.heatmap import Heatmap
from cnn_tui.render.text import centre


def wrap_words(text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` cells; a longer word is cut."""
    lines: list[str] = []
    for word in text.split():
        word = set_cell_size(word, width) if cell_len(word) > width else word
        if lines and cell_len(lines[-1]) + 1 + cell_len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


@dataclass(frozen=True, slots=True)
class Block:
    """A body ``body_width`` cells by ``height`` lines, centred in a block ``width`` cells
    wide, with label lines ``(text, style)`` above it."""

    body: RenderableType
    width: int
    height: int
    body_width: int
    labels: tuple[tuple[str, str], ...] = ()


class Flow:
    """Blocks left to right joined by arrows (``__rich_console__`` + ``__rich_measure__``).

    Args:
        blocks: the blocks, in order.
        label_lines: height of the label area above the bodies (labels are bottom-aligned).
        glyphs: the glyph set; its ``connector`` joins two blocks on the bodies' middle line.
        indent: blank cells before the first block (to centre the row).
    """

    def __init__(
        self,
        blocks: Sequence[Block],
        *,
        label_lines: int,
        glyphs: Glyphs = UNICODE,
        indent: int = 0,
    ) -> None:
        self.blocks = tuple(blocks)
        self.label_lines = label_lines
        self.arrow = glyphs.connector
        self.indent = indent

    @property
    def width(self) -> int:
        gaps = cell_len(self.arrow) * max(0, len(self.blocks) - 1)
        return self.indent + sum(b.width for b in self.blocks) + gaps

    @property
    def body_height(self) -> int:
        return max((b.height for b in self.blocks), default=0)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = [self._block_lines(console, options, block) for block in self.blocks]
        middle = self.label_lines + self.body_height // 2
        arrow = Segment(self.arrow)
        blank_arrow = Segment(" " * cell_len(self.arrow))
        indent = [Segment(" " * self.indent)] if self.indent else []
        for row in range(self.label_lines + self.body_height):
            line: list[Segment] = list(indent)
            for index, column in enumerate(columns):
                if index:
                    line.append(arrow if row == middle else blank_arrow)
                line.extend(column[row])
            if self.width > options.max_width:
                line = Segment.adjust_line_length(line, options.max_width)
            yield from line
            yield Segment.line()

    def _block_lines(
        self, console: Console, options: ConsoleOptions, block: Block
    ) -> list[list[Segment]]:
        width = block.width
        blank = [Segment(" " * width)]
        lines: list[list[Segment]] = [blank] * (self.label_lines - len(block.labels))
        for text, style in block.labels[-self.label_lines :] if self.label_lines else ():
            lines.append([Segment(centre(text, width), console.get_style(style))])
        body = _body_lines(console, options, block)
        above = (self.body_height - len(body)) // 2
        lines.extend([blank] * above)
        lines.extend(body)
        lines.extend([blank] * (self.body_height - above - len(body)))
        return lines


def _body_lines(console: Console, options: ConsoleOptions, block: Block) -> list[list[Segment]]:
    """The body as lines exactly ``block.width`` cells wide (centred), at most its height.

    Heatmap lines and padded rendered lines have a known width, so the padding is added
    without measuring every segment (measuring was half the cost of drawing a pipeline).
    """
    width, body = block.width, block.body
    if isinstance(body, Heatmap):
        raw, content = body.lines(), body.width
    else:
        options = options.update(width=block.body_width, height=None)
        raw, content = console.render_lines(body, options, pad=True), block.body_width
    raw = raw[: block.height]
    if content > width:
        return [Segment.adjust_line_length(line, width) for line in raw]
    left = (width - content) // 2
    before = [Segment(" " * left)] if left else []
    after = [Segment(" " * (width - content - left))] if width > content + left else []
    return [before + line + after for line in raw]


class Beside:
    """Two renderables side by side, the left one ``left_width`` cells wide."""

    def __init__(
        self, left: RenderableType, right: RenderableType, left_width: int, gap: int = 2
    ) -> None:
        self.left, self.right, self.left_width, self.gap = left, right, left_width, gap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        right_width = max(1, options.max_width - self.left_width - self.gap)
        left = console.render_lines(self.left, options.update_width(self.left_width))
        right = console.render_lines(self.right, options.update_width(right_width), pad=False)
        spacer = Segment(" " * self.gap)
        blank = [Segment(" " * self.left_width)]
        new_line = Segment.line()
        for row in range(max(len(left), len(right))):
            yield from left[row] if row < len(left) else blank
            yield spacer
            if row < len(right):
                yield from right[row]
            yield new_line
