"""Horizontal probability bars: one line per class, ``>`` marking the highlighted one.

Used for the 10-class probability chart beside a digit. Each line is
``marker label bar percent``; the bar uses eighth-blocks (``▏▎▍▌▋▊▉█``) for sub-cell
resolution in colour mode and ``#`` in ASCII mode. The highlight is shown by the ``>``
marker in both modes (and also by colour when colour is on), so nothing depends on colour.

:class:`ProbBars` yields its segments directly rather than building a ``rich.text.Text``:
rendering a Text goes through wrapping and span division that cost several times more than
the bars themselves, and this chart is redrawn with every probe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import StyleType

from cnn_tui.render.glyphs import UNICODE, Glyphs
from cnn_tui.render.scaling import ArrayLike, to_numpy

EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
FULL_BLOCK = "█"
MARKER = ">"
PERCENT_WIDTH = 6  # " 98.1%", "100.0%"
MIN_WIDTH = 12


def bar_text(fraction: float, width: int, *, glyphs: Glyphs = UNICODE) -> str:
    """A left-aligned bar of ``fraction`` (clamped to 0..1) padded to exactly ``width`` cells."""
    fraction = min(max(fraction, 0.0), 1.0) if fraction == fraction else 0.0  # NaN -> 0
    if glyphs.ascii:
        return ("#" * round(fraction * width)).ljust(width)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    return (FULL_BLOCK * full + EIGHTHS[part]).ljust(width)


class ProbBars:
    """One bar per probability in ``probs`` (values in 0..1), each line ``width`` cells.

    ``width`` defaults to the space the renderable is given. ``labels`` default to
    ``"0"``, ``"1"``, ...; long ones (Fashion-MNIST names) are cut to a third of the width.
    ``highlight`` is the index marked with ``>`` (the prediction). With the ASCII glyph set
    it emits plain ASCII with no styles.
    """

    def __init__(
        self,
        probs: ArrayLike,
        labels: Sequence[str] | None = None,
        *,
        highlight: int | None = None,
        width: int | None = None,
        glyphs: Glyphs = UNICODE,
        bar_style: StyleType = "cyan",
        highlight_style: StyleType = "bold green",
    ) -> None:
        self.values: list[float] = np.clip(to_numpy(probs).ravel(), 0.0, 1.0).tolist()
        count = len(self.values)
        names = [str(i) for i in range(count)] if labels is None else [str(s) for s in labels]
        names += [str(i) for i in range(len(names), count)]
        self.labels = [glyphs.text(n) for n in names[:count]]
        self.highlight = highlight
        self.width = width
        self.glyphs = glyphs
        self.bar_style = bar_style
        self.highlight_style = highlight_style

    def layout(self, width: int) -> tuple[int, int]:
        """(label width, bar width) for lines ``width`` cells wide."""
        longest = max((cell_len(n) for n in self.labels), default=1)
        label_width = min(longest, max(1, width // 3))
        return label_width, max(1, width - label_width - PERCENT_WIDTH - 3)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = options.max_width if self.width is None else min(self.width, options.max_width)
        return Measurement(min(MIN_WIDTH, width), width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width if self.width is None else min(self.width, options.max_width)
        label_width, bar_width = self.layout(width)
        plain = console.get_style(self.glyphs.style(self.bar_style))
        marked = console.get_style(self.glyphs.style(self.highlight_style))
        new_line = Segment.line()
        for index, value in enumerate(self.values):
            is_marked = index == self.highlight
            label = set_cell_size(self.labels[index], label_width)
            bar = bar_text(value, bar_width, glyphs=self.glyphs)
            percent = f" {value * 100:5.1f}%"
            if is_marked:
                yield Segment(f"{MARKER}{label} ", marked)
                yield Segment(bar, marked)
                yield Segment(percent, marked)
            else:
                yield Segment(f" {label} ")
                yield Segment(bar, plain)
                yield Segment(percent)
            yield new_line
