"""``Picture``: a widget's parts handed to Textual as finished lines, skipping Rich's stream.

Textual draws a Rich renderable by streaming it through the console — a generator per level
of nesting per segment — styling every segment with the widget's style on the way and
splitting the stream back into lines. For the dashboard's feature maps (~550 segments) that
was 8 of the 10 ms a redraw took, against 1 ms to make the picture. A ``Picture`` asks a
:class:`~cnn_tui.render.TileGrid` for its lines as they are, renders anything else (a
caption line) through Rich as before, and styles the lines in one pass: the same segments
Textual would have made, cropped the same way, without the stream.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.segment import Segment
from textual.app import App
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from cnn_tui.render import TileGrid


class Picture(Visual):
    """``parts`` one under the other, as Rich's ``Group`` would stack them, drawn with
    ``app``'s console as Textual would draw them."""

    def __init__(self, app: App[object], *parts: RenderableType) -> None:
        self.app = app
        self.parts = parts

    def lines(self, console: Console, options: ConsoleOptions) -> list[list[Segment]]:
        """The parts' lines, unstyled: a grid's as it makes them, anything else rendered."""
        lines: list[list[Segment]] = []
        for part in self.parts:
            if isinstance(part, TileGrid):
                lines += part.segment_lines(console, options)
            else:
                lines += console.render_lines(part, options, pad=False, new_lines=False)
        return lines

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        lines = self.lines(*self._console(width))
        base = style.rich_style
        strips: list[Strip] = []
        for line in lines if height is None else lines[:height]:
            # as Textual's _Styled and Rich's line splitting: every segment styled and kept
            # (an empty one too), the line cropped to the width
            segments = list(Segment.apply_style(line, base))
            length = Segment.get_line_length(segments)
            if length > width:
                segments = Segment.adjust_line_length(segments, width, pad=False)
                length = width
            strips.append(Strip(segments, length))
        return strips

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        console, options = self._console(container_width)
        return max((Measurement.get(console, options, p).maximum for p in self.parts), default=0)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(*self._console(width)))

    def _console(self, width: int) -> tuple[Console, ConsoleOptions]:
        """The console and the options Textual renders a Rich renderable with, without a
        height: render_lines would pad each part to it, where a Group stacks them."""
        options = self.app.console_options.update(highlight=False, width=width, height=None)
        return self.app.console, options
