"""The compact layout's tab bar: one panel at a time on small terminals."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

TABS = {"charts": "Charts", "digits": "Digits", "maps": "Maps", "log": "Log"}


class TabStrip(Widget):
    DEFAULT_CSS = "TabStrip { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = "charts"

    def select(self, tab: str) -> None:
        self.active = tab
        self.refresh()

    def render(self) -> Text:
        text = Text()
        for number, (key, title) in enumerate(TABS.items(), 1):
            style = "reverse bold" if key == self.active else ""
            text.append(f" {number} {title} ", style=style)
            text.append(" ")
        text.append("(tab: next)", style="dim")
        return text
