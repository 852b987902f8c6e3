"""The compact layout's tab bar: one panel at a time on small terminals."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

TABS = {"charts": "Charts", "digits": "Digits", "maps": "Maps", "log": "Log"}


class TabStrip(Widget):
    DEFAULT_CSS = "TabStrip { height: 1; }"

    active = reactive("charts")

    def render(self) -> Text:
        text = Text()
        for number, (key, title) in enumerate(TABS.items(), 1):
            style = "reverse bold" if key == self.active else ""
            text.append(f" {number} {title} ", style=style)
            text.append(" ")
        text.append("(tab: next)", style="dim")
        return text
