"""An app whose widgets all draw with one glyph set, chosen once and switched as a whole."""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from cnn_tui.render import ASCII, UNICODE, Glyphs

ReturnType = TypeVar("ReturnType")


class GlyphsApp(App[ReturnType]):
    """``glyphs`` is the set every :class:`~cnn_tui.tui.widgets.base.GlyphWidget` draws with,
    as ``App.theme`` is the colours every widget is styled with."""

    glyphs: reactive[Glyphs] = reactive(UNICODE)

    def get_key_display(self, binding: Binding) -> str:
        shown = super().get_key_display(binding)
        if not self.glyphs.ascii or shown.isascii():
            return shown
        # Textual's own symbol for a key (⏎) reads as the key's name in ASCII (enter)
        return self.glyphs.keys(shown) if binding.key_display else binding.key

    def watch_glyphs(self) -> None:
        self.refresh_bindings()  # the footer's keys are drawn in the glyph set too

    def action_toggle_glyphs(self) -> None:
        """ASCII and no colour, or Unicode and colour."""
        self.glyphs = UNICODE if self.glyphs.ascii else ASCII


def glyphs_of(app: App[Any]) -> Glyphs:
    """The glyph set ``app`` draws with (Unicode for an app that does not choose)."""
    return app.glyphs if isinstance(app, GlyphsApp) else UNICODE
