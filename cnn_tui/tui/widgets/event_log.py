"""The run's story in lines: data source, tests, applied changes, checkpoints, warnings."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from cnn_tui.render import Glyphs
from cnn_tui.runview import LOG_LINES, Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

LEVEL_STYLES = {"info": "", "warning": "yellow", "error": "bold red"}


class EventLog(ViewWidget, RichLog):
    """Textual's log, wrapped to the width, fed the view's new lines once a second."""

    # No scrollbar: it would take a column from lines already wrapped to the full width, and
    # the newest lines, at the bottom, are what the panel is for (the wheel still scrolls).
    # overflow-y must still allow scrolling: the base widget's ``hidden`` won over RichLog's,
    # and the panel stayed on the oldest lines.
    DEFAULT_CSS = """
    EventLog { background: transparent; overflow-y: auto; scrollbar-size-vertical: 0; }
    """
    DRAWS = Part.LOG
    EVERY = 1.0

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines, self.min_width, self.wrap = 4 * LOG_LINES, 1, True  # RichLog's own
        self._written = 0  # the view's log_version up to which lines are written

    def show(self, view: RunView) -> None:
        """A log appends: only the lines the view gained since the last sync are written."""
        self.view = view
        new = min(view.log_version - self._written, len(view.log))
        for entry in list(view.log)[len(view.log) - new :]:
            text = self.glyphs.text(entry.text)
            self.write(Text(text, style=self.glyphs.style(LEVEL_STYLES.get(entry.level, ""))))
        self._written = view.log_version

    def render(self) -> RenderableType:
        return ""  # never asked for: a log is drawn line by line (RichLog.render_line)

    def rewrite(self) -> None:
        """Every line again: after a resize (wrapped to the new width) or a glyph change."""
        self.clear()
        self._written = self.view.log_version - len(self.view.log)
        self.show(self.view)

    def watch_glyphs(self, glyphs: Glyphs) -> None:
        self.rewrite()

    def on_resize(self, event: Resize) -> None:
        self.rewrite()
