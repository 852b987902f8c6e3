"""The confusion matrix as a rich renderable: counts in a coloured grid, laid out to fit.

Rows are the true classes, columns the predictions, every cell printing its count; beside
each row is its accuracy (diagonal / row sum). Colours (see :mod:`.confusion_key`) tell right
answers from mistakes; the ASCII glyph set prints the same counts with no colour: ``(97)`` on the
diagonal, ``.`` for none, ``[12]`` at the cursor. :func:`fit_layout` picks the cell size for
the space (up to 8×3 cells, down to one line a row) and adds the extras only where they fit:
a side list of the most frequent mistakes, a line about the cursor's cell, a key. Plain ints
in, segments out: it never sees a tensor, so the widget and the tests share one layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from cnn_tui.render.confusion_key import (
    CURSOR,
    CURSOR_ASCII,
    RIGHT_PALETTE,
    WRONG_FLOOR,
    WRONG_PALETTE,
    key_lines,
    legend_line,
    text_color,
)
from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.scaling import MAX_LEVEL
from cnn_tui.render.text import centre

Matrix = Sequence[Sequence[int]]
Cell = tuple[int, int]
Line = list[Segment]

ACC_WIDTH = 6  # " 99.0%"
MIN_LABEL_WIDTH = len("true ↓")
MAX_LABEL_WIDTH = 11
MIN_CELL, MAX_CELL = 3, 8
MAX_CELL_HEIGHT, MAX_CELL_HEIGHT_ASCII = 3, 2  # tall cells only help when they are coloured
TOP_LISTED = 12
SIDE_WIDTH, SIDE_GAP, MIN_SIDE_CELL = 22, 3, 6
TOP_LINES = 3  # title, axis labels, class names


@dataclass(frozen=True)
class Layout:
    """Where everything goes for a given size: cell size, optional lines and side panel."""

    classes: int
    label_width: int
    cell_width: int
    cell_height: int
    side: bool
    axis: bool
    footer: bool
    legend: bool

    @property
    def cells_x(self) -> int:
        return self.label_width + 1

    @property
    def cells_y(self) -> int:
        return TOP_LINES - (0 if self.axis else 1)

    @property
    def matrix_width(self) -> int:
        return self.cells_x + self.classes * self.cell_width + ACC_WIDTH

    def cell_at(self, x: int, y: int) -> Cell | None:
        """The (true, predicted) cell under a point of the picture, if any."""
        col, row = (x - self.cells_x) // self.cell_width, (y - self.cells_y) // self.cell_height
        inside = x >= self.cells_x and y >= self.cells_y
        return (row, col) if inside and row < self.classes and col < self.classes else None


def fit_layout(
    width: int, height: int, classes: Sequence[str], *, glyphs: Glyphs = UNICODE
) -> Layout:
    """The biggest cells that fit ``width`` × ``height``; extras only where there is room."""
    n = len(classes)
    label = min(MAX_LABEL_WIDTH, max([MIN_LABEL_WIDTH, *(cell_len(c) for c in classes)]))
    fixed = label + 1 + ACC_WIDTH
    room_beside = width - fixed - SIDE_GAP - SIDE_WIDTH
    side = room_beside >= n * MIN_SIDE_CELL
    cells = room_beside if side else width - fixed
    cell_width = max(MIN_CELL, min(MAX_CELL, cells // n))
    axis = height >= n + TOP_LINES + 1
    footer = height >= n + TOP_LINES + 1 - (0 if axis else 1)
    legend = not side and height >= n + TOP_LINES + 2
    spare = height - (TOP_LINES - (0 if axis else 1)) - footer - legend
    tallest = MAX_CELL_HEIGHT_ASCII if glyphs.ascii else MAX_CELL_HEIGHT
    cell_height = max(1, min(tallest, spare // n))
    return Layout(n, label, cell_width, cell_height, side, axis, footer, legend)


def row_accuracy(confusion: Matrix, row: int) -> float | None:
    """The share of a true class predicted right (diagonal / row sum); None if the row is empty."""
    total = sum(confusion[row])
    return confusion[row][row] / total if total else None


def worst_cell(confusion: Matrix) -> Cell:
    """The most frequent mistake (first in reading order on a tie); (0, 0) if there is none."""
    n = len(confusion)
    best = max((confusion[t][p], -t, -p) for t in range(n) for p in range(n) if t != p)
    return (-best[1], -best[2]) if best[0] > 0 else (0, 0)


def top_mistakes(confusion: Matrix, count: int) -> list[tuple[int, int, int]]:
    """Up to ``count`` (true, predicted, n) off-diagonal cells, most frequent first."""
    n = len(confusion)
    cells = [(confusion[t][p], t, p) for t in range(n) for p in range(n) if t != p]
    chosen = sorted((c for c in cells if c[0] > 0), key=lambda c: (-c[0], c[1], c[2]))
    return [(t, p, k) for k, t, p in chosen[:count]]


def format_count(count: int, width: int) -> str:
    """``count`` in at most ``width`` characters: 1135, else 11k, else the leading digits."""
    text = str(count)
    if len(text) > width and count >= 1000:
        text = f"{count // 1000}k"
    return text[:width] if len(text) > width else text


def cursor_summary(
    confusion: Matrix, classes: Sequence[str], cell: Cell, *, glyphs: Glyphs = UNICODE
) -> str:
    """One line about the cell under the cursor: ``true 2 → predicted 1: 58 of 116 (50.0%)``."""
    t, p = cell
    count, total = confusion[t][p], sum(confusion[t])
    line = f"true {classes[t]} {glyphs.arrow} predicted {classes[p]}: "
    if not count:
        return line + ("none" if t != p else f"none of {total} right")
    line += f"{count} of {total}{' right' if t == p else ''} ({count / total:.1%})"
    return line + ("" if t == p else f"{glyphs.sep}Enter shows them")


class ConfusionPicture:
    """The whole confusion panel for one size (``__rich_console__``); ``layout`` for hit tests."""

    def __init__(
        self,
        confusion: Matrix,
        classes: Sequence[str],
        *,
        title: str,
        cursor: Cell,
        width: int,
        height: int,
        glyphs: Glyphs = UNICODE,
    ) -> None:
        self.confusion, self.classes, self.title = confusion, classes, title
        self.cursor, self.width, self.glyphs = cursor, width, glyphs
        self.layout = fit_layout(width, height, classes, glyphs=glyphs)
        n = len(confusion)
        self.top = max((confusion[t][p] for t in range(n) for p in range(n) if t != p), default=0)
        self._log_top = math.log1p(self.top) or 1.0

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = min(self.width, options.max_width)
        for line in self.lines():
            yield from Segment.adjust_line_length(line, width)
            yield Segment.line()

    def lines(self) -> list[Line]:
        lay = self.layout
        lines = [[Segment(self.title, Style(bold=True))]]
        if lay.axis:
            lines.append(self._axis_line())
        lines.append(self._names_line())
        for t in range(lay.classes):
            lines.extend(self._row_lines(t))
        if lay.side:
            self._add_side(lines)
        if lay.footer:
            text = cursor_summary(self.confusion, self.classes, self.cursor, glyphs=self.glyphs)
            lines.append([Segment(text)])
        if lay.legend:
            lines.append(legend_line(self.top, glyphs=self.glyphs))
        return lines

    # -- the matrix -----------------------------------------------------------------------
    def _axis_line(self) -> Line:
        lay = self.layout
        span = lay.classes * lay.cell_width
        predicted = centre(f"predicted {self.glyphs.arrow}", span)
        true = f"true {self.glyphs.down}".ljust(lay.cells_x)
        return [Segment(true, Style(bold=True)), Segment(predicted.rstrip(), Style(bold=True))]

    def _names_line(self) -> Line:
        lay = self.layout
        line = [Segment(" " * lay.cells_x)]
        for p, name in enumerate(self.classes):
            text = set_cell_size(name, min(cell_len(name), lay.cell_width - 1))
            cell = " " * (lay.cell_width - 1 - cell_len(text)) + text + " "
            line.append(Segment(cell, Style(bold=True, reverse=p == self.cursor[1])))
        line.append(Segment("acc".rjust(ACC_WIDTH), Style(bold=True)))
        return line

    def _row_lines(self, t: int) -> list[Line]:
        lay = self.layout
        middle = lay.cell_height // 2
        rows: list[Line] = []
        for k in range(lay.cell_height):
            shown = k == middle
            name = self.classes[t] if shown else ""
            if cell_len(name) > lay.label_width:
                name = set_cell_size(name, lay.label_width)
            label = " " * (lay.label_width - cell_len(name)) + name
            line = [Segment(label, Style(bold=True, reverse=shown and t == self.cursor[0]))]
            line.append(Segment(" "))
            line.extend(self._cell(t, p, shown) for p in range(lay.classes))
            accuracy = self._accuracy(t) if shown else ""
            line.append(Segment(accuracy, Style(bold=t == self.cursor[0])))
            rows.append(line)
        return rows

    def _accuracy(self, t: int) -> str:
        accuracy = row_accuracy(self.confusion, t)
        text = "-" if accuracy is None else f"{100 * accuracy:.1f}%"
        return text.rjust(ACC_WIDTH)

    def _cell(self, t: int, p: int, shown: bool) -> Segment:
        width, count = self.layout.cell_width, self.confusion[t][p]
        at_cursor, diagonal = (t, p) == self.cursor, t == p
        text = ""
        if shown:
            text = self.glyphs.no_count
            if count or diagonal:
                text = format_count(count, width - 2)
            if at_cursor:
                text = f"[{text}]"
            elif diagonal and self.glyphs.ascii:
                text = f"({text})"
            else:
                text += " "
        cell = " " * (width - cell_len(text)) + text if len(text) <= width else text[-width:]
        return Segment(cell, self._cell_style(t, p, at_cursor))

    def _cell_style(self, t: int, p: int, at_cursor: bool) -> Style:
        if at_cursor:
            return CURSOR_ASCII if self.glyphs.ascii else CURSOR
        level = self.level(t, p)
        if self.glyphs.ascii:
            return Style()
        if level is None:
            return Style(dim=True)
        palette = RIGHT_PALETTE if t == p else WRONG_PALETTE
        return Style(color=text_color(palette, level), bgcolor=palette.color(level))

    def level(self, t: int, p: int) -> int | None:
        """The palette level of a cell; None for a cell with no mistakes (drawn plain)."""
        count = self.confusion[t][p]
        if t == p:
            accuracy = row_accuracy(self.confusion, t)
            return round(MAX_LEVEL * accuracy) if accuracy is not None else None
        if count == 0:
            return None
        unit = WRONG_FLOOR + (1 - WRONG_FLOOR) * math.log1p(count) / self._log_top
        return round(MAX_LEVEL * min(1.0, unit))

    # -- beside the matrix: the most frequent mistakes and the key ----------------------------
    def _add_side(self, lines: list[Line]) -> None:
        side = self._side_lines(len(lines) - 1)
        pad = self.layout.matrix_width + SIDE_GAP
        for y, extra in zip(range(1, len(lines)), side, strict=False):
            used = sum(s.cell_length for s in lines[y])
            lines[y] = [*lines[y], Segment(" " * max(0, pad - used)), *extra]

    def _side_lines(self, room: int) -> list[Line]:
        bold = Style(bold=True)
        key = key_lines(self.top, glyphs=self.glyphs)
        head: list[Line] = [[Segment("most frequent mistakes", bold)]]
        listed = top_mistakes(self.confusion, max(0, min(TOP_LISTED, room - len(key) - 2)))
        for t, p, k in listed:
            text = f"{self.classes[t]} {self.glyphs.arrow} {self.classes[p]}"
            mark = Style(reverse=(t, p) == self.cursor)
            head.append([Segment(set_cell_size(text, SIDE_WIDTH - 6), mark), Segment(f"{k:>6}")])
        if not listed:
            head.append([Segment("none", Style(dim=True))])
        return [*head, [], *key]
