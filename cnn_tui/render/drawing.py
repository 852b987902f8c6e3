"""Drawing a digit: a soft MNIST-like brush, strokes between two pixels, and the canvas
picture with a cursor on one pixel.

MNIST digits are white ink on black, stored as uint8, with strokes about 2–3 pixels wide
and anti-aliased edges. :func:`stamp` puts down :data:`BRUSH` — 255 at its centre, 176 on
the four neighbours, 80 on the diagonals — and only ever raises pixels (``max``), so going
over a stroke again changes nothing; erasing is the mirror image and only lowers them.

:class:`CanvasPicture` draws the 28×28 image as a gray half-block heatmap (28 columns by 14
lines, two pixel rows per cell) and marks the cursor's pixel: in colour the cursor's half of
its cell (``▀`` upper, ``▄`` lower) is coloured, with the ASCII glyph set the cell shows
``^`` (upper) or ``v`` (lower). Only numpy and rich are used, so the canvas widget stays thin.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style

from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.halfblock import UPPER_HALF
from cnn_tui.render.heatmap import Heatmap
from cnn_tui.render.palettes import get_palette
from cnn_tui.render.scaling import MAX_LEVEL

UInt8Array = npt.NDArray[np.uint8]

SIDE = 28
INK = 255
BRUSH: UInt8Array = np.array([[80, 176, 80], [176, INK, 176], [80, 176, 80]], dtype=np.uint8)
ERASER: UInt8Array = INK - BRUSH  # 0 at the centre: erasing is min(image, ERASER)
RADIUS = BRUSH.shape[0] // 2

LOWER_HALF = "▄"
ASCII_UPPER, ASCII_LOWER = "^", "v"
CURSOR_COLOR = {False: "#00c8ff", True: "#ff3b30"}  # pen up: cyan; pen down: red


def blank() -> UInt8Array:
    """An empty (black) 28×28 canvas."""
    return np.zeros((SIDE, SIDE), dtype=np.uint8)


def on_canvas(x: int, y: int) -> bool:
    return 0 <= x < SIDE and 0 <= y < SIDE


def stamp(image: UInt8Array, x: int, y: int, *, erase: bool = False) -> bool:
    """The brush centred on pixel (x, y) (column, row), in place; True if a pixel changed.

    Ink only raises pixels and erasing only lowers them. The part of the brush off the
    canvas is dropped; a centre off the canvas paints nothing.
    """
    if not on_canvas(x, y):
        return False
    top, left = max(0, y - RADIUS), max(0, x - RADIUS)
    bottom, right = min(SIDE, y + RADIUS + 1), min(SIDE, x + RADIUS + 1)
    region = image[top:bottom, left:right]
    brush = (ERASER if erase else BRUSH)[
        top - (y - RADIUS) : bottom - (y - RADIUS), left - (x - RADIUS) : right - (x - RADIUS)
    ]
    result = np.minimum(region, brush) if erase else np.maximum(region, brush)
    if np.array_equal(result, region):
        return False
    region[...] = result
    return True


def line(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """The pixels from (x0, y0) to (x1, y1), both ends included (Bresenham), so a fast
    mouse drag leaves a stroke rather than dots."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x1 > x0 else -1), (1 if y1 > y0 else -1)
    error = dx + dy
    points = [(x0, y0)]
    while (x0, y0) != (x1, y1):
        twice = 2 * error
        if twice >= dy:
            error += dy
            x0 += sx
        if twice <= dx:
            error += dx
            y0 += sy
        points.append((x0, y0))
    return points


def cell_to_pixel(column: float, row: float) -> tuple[int, int]:
    """The pixel under a pointer at (column, row) cells from the picture's top left.

    A cell holds two pixel rows. Terminals that report the pointer by cell give whole
    numbers, which land on the cell's upper pixel; terminals that report pixels give
    fractions, and the lower half of a cell is its lower pixel.
    """
    return math.floor(column), math.floor(row * 2)


def _gray(value: int) -> Style:
    level = round(value / INK * MAX_LEVEL)
    return get_palette("gray").background(level)


class CanvasPicture:
    """The canvas as a rich renderable: 28 cells by 14 lines, the cursor marked.

    Args:
        image: (28, 28) uint8, white ink on black.
        cursor: the (x, y) pixel the cursor is on, or None for no cursor.
        pen_down: colour the cursor as drawing (colour mode only).
        glyphs: ASCII draws plain ASCII characters and no styles.
    """

    def __init__(
        self,
        image: UInt8Array,
        cursor: tuple[int, int] | None = None,
        *,
        pen_down: bool = False,
        glyphs: Glyphs = UNICODE,
    ) -> None:
        self.image = image.copy()
        self.cursor = cursor
        self.pen_down = pen_down
        self.glyphs = glyphs
        self.width, self.height = image.shape[1], (image.shape[0] + 1) // 2

    def lines(self) -> list[list[Segment]]:
        heatmap = Heatmap(self.image, vmin=0, vmax=INK, glyphs=self.glyphs)
        lines = list(heatmap.lines())  # shared with the heatmap cache: replace, never mutate
        if self.cursor is None or not on_canvas(*self.cursor):
            return lines
        x, y = self.cursor
        before, _, after = Segment.divide(lines[y // 2], [x, x + 1, self.width])
        lines[y // 2] = [*before, self._cursor_cell(x, y), *after]
        return lines

    def _cursor_cell(self, x: int, y: int) -> Segment:
        upper = y % 2 == 0
        if self.glyphs.ascii:
            return Segment(ASCII_UPPER if upper else ASCII_LOWER)
        other = y + 1 if upper else y - 1
        behind = int(self.image[other, x]) if 0 <= other < SIDE else 0
        style = _gray(behind) + Style(color=CURSOR_COLOR[self.pen_down])
        return Segment(UPPER_HALF if upper else LOWER_HALF, style)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        new_line = Segment.line()
        for segments in self.lines():
            yield from Segment.adjust_line_length(segments, min(self.width, options.max_width))
            yield new_line
