"""The system panel: each process of the run (each rank of a torchrun job) — where it is, how
fast it trains, its CPU, memory and GPU — with a straggler marked. It shows once the run
has sent a sample (a hosted run does, once a second; a replay does not)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from cnn_tui.render.system import system_lines
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget


class SystemPanel(ViewWidget):
    DEFAULT_CSS = "SystemPanel { height: auto; max-height: 5; }"
    DRAWS = Part.SYSTEM
    EVERY = 1.0
    RELAYOUT = True  # one line per rank: its height follows the run's

    def extent(self, view: RunView) -> object:
        return None if view.system is None else len(view.system.ranks)

    def draw(self, view: RunView) -> Group | Text:
        if view.system is None:
            return Text("")
        height = self.styles.max_height
        rows = int(height.value) if height is not None else 5
        return Group(*system_lines(view.system, self.size.width, rows, glyphs=self.glyphs))
