"""A plotext figure handed to Textual as strips, from its character matrix.

textual-plotext draws a chart by asking plotext for an ANSI string (plotext walks its
character matrix and writes an escape sequence at every change of colour), parsing that
string back into a Rich ``Text`` and handing it to Textual, which turns it into ``Content``
and splits it into strips: four passes over the same cells, 7 of the 11 ms a chart's redraw
took. :class:`PlotStrips` reads plotext's matrix (markers and colours per cell) once, in runs
of one colour, and styles each run with the style the ANSI round trip gives it, worked out
once per colour (and widget style) by that same round trip on a single character, and
kept by the chart from frame to frame.

The matrix is plotext's internal state (``monitor.matrix``, plotext 5.3): where it is not
there, :func:`plot_visual` falls back to the ANSI string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plotext._utility import colors_to_ansi
from rich.segment import Segment
from rich.text import Text
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

Colours = tuple[object, object, object]  # plotext's (fullground, style, background) of a cell
Run = tuple[str, Colours]  # characters in one colour
CellStyles = dict[tuple[str, Style], Style]  # by escape sequence and widget style


class PlotStrips(Visual):
    """The rows of a plotext matrix, top first, each as runs of one colour."""

    def __init__(
        self,
        rows: Sequence[Sequence[Run]],
        width: int,
        ansi: dict[Colours, str],
        styles: CellStyles | None = None,
    ) -> None:
        self.rows = rows
        self.width = width
        self.ansi = ansi  # each colour's escape sequence, as plotext writes it
        self._styles = {} if styles is None else styles

    @classmethod
    def from_matrix(cls, matrix: Any, styles: CellStyles | None = None) -> PlotStrips:
        """Runs of equal colours along each row of plotext's ``matrix``, top row first.
        ``styles``: the styles worked out so far, kept by the caller from frame to frame
        (for one app theme: the theme maps ANSI colours)."""
        markers, fg, bg = matrix.marker, matrix.fullground, matrix.background
        emphasis = matrix.style  # plotext's "style": bold, italic...
        rows: list[list[Run]] = []
        ansi: dict[Colours, str] = {}
        for r in range(len(markers) - 1, -1, -1):
            cells = list(zip(fg[r], emphasis[r], bg[r], strict=True))
            runs: list[Run] = []
            start = 0
            for c in range(1, len(cells) + 1):
                if c == len(cells) or cells[c] != cells[start]:
                    colours = cells[start]
                    if colours not in ansi:
                        ansi[colours] = colors_to_ansi(*colours)
                    runs.append(("".join(markers[r][start:c]), colours))
                    start = c
            rows.append(_merge_plain(runs, ansi))
        width = len(markers[0]) if markers else 0
        return cls(rows, width, ansi, styles)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        rows = self.rows if height is None else self.rows[:height]
        strips = []
        for y, runs in enumerate(rows):
            segments, x = [], 0
            for text, colours in runs:
                # the offset, as Content gives it, is what text selection reads
                cell = self._style(colours, style, options).rich_style_with_offset(x, y)
                segments.append(Segment(text, cell))
                x += len(text)
            strip = Strip(segments)
            strips.append(strip.crop(0, width) if strip.cell_length > width else strip)
        return strips

    def _style(self, colours: Colours, base: Style, options: RenderOptions) -> Style:
        """The style a run in ``colours`` gets through the ANSI string, Rich's ``Text`` and
        Textual's ``Content`` (which maps ANSI colours through the app's theme)."""
        code = self.ansi[colours]
        key = (code, base)
        found = self._styles.get(key)
        if found is None:
            text = Text.from_ansi(f"{code}x\x1b[0m" if code else "x")
            content = Content.from_rich_text(text)
            _, cell_style = next(iter(content.render(base, end="", parse_style=options.get_style)))
            found = self._styles[key] = base + cell_style
        return found

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.rows)


def _merge_plain(runs: list[Run], ansi: dict[Colours, str]) -> list[Run]:
    """Neighbouring runs with no escape sequence at all are one span of plain text in the
    parsed string, hence one segment: merge them as the parse does."""
    merged: list[Run] = []
    for text, colours in runs:
        if merged and not ansi[colours] and not ansi[merged[-1][1]]:
            merged[-1] = (merged[-1][0] + text, merged[-1][1])
        else:
            merged.append((text, colours))
    return merged
