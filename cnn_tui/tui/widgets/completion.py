"""How much of the epoch and of the whole run is done, as two bars."""

from __future__ import annotations

from rich.text import Text

from cnn_tui.render import UNICODE, Glyphs, bar_text
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget


def completion_text(view: RunView, width: int, *, glyphs: Glyphs = UNICODE) -> Text:
    bar = max(4, (width - 24) // 2)
    text = Text()
    for label, fraction in (("epoch", view.epoch_fraction), ("run", view.run_fraction)):
        text.append(f"{label} ")
        text.append(bar_text(fraction, bar, glyphs=glyphs), style=glyphs.style("cyan"))
        text.append(f" {fraction:4.0%}  ")
    return text


class CompletionBars(ViewWidget):
    """``epoch ████░░ 45%  run ██░░░ 15%``, as wide as it is given."""

    DEFAULT_CSS = "CompletionBars { height: 1; }"
    DRAWS = Part.STATUS

    def draw(self, view: RunView) -> Text:
        return completion_text(view, self.size.width, glyphs=self.glyphs)
