"""The run's story in lines: data source, tests, applied changes, checkpoints, warnings."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync

LEVEL_STYLES = {"info": "", "warning": "yellow", "error": "bold red"}


class EventLog(ViewSync, Widget):
    """The newest lines that fit, wrapped to the width, newest at the bottom."""

    REDRAW_INTERVAL = 1.0

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self._view: RunView | None = None

    def key(self, view: RunView) -> object:
        return view.log_version

    def take(self, view: RunView) -> None:
        self._view = view

    def render(self) -> RenderableType:
        if self._view is None:
            return Text("")
        width, height = self.size
        lines: list[Text] = []
        for entry in reversed(self._view.log):
            text = Text(entry.text, style=LEVEL_STYLES.get(entry.level, ""))
            lines[:0] = text.wrap(self.app.console, max(1, width))
            if len(lines) >= height:
                break
        return Group(*lines[-height:] if height else [])
