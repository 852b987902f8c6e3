"""What the dashboard and the inside screen share: widgets drawn from the run's view."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync


class ViewScreen(Screen[None]):
    """A screen of :class:`ViewSync` widgets, synced by the app's redraw timer; ``a``
    switches its heatmaps between colour and ASCII."""

    BINDINGS = [Binding("a", "toggle_ascii", "ASCII", show=False)]

    def __init__(self, *, ascii: bool = False) -> None:
        super().__init__()
        self.ascii = ascii

    def sync(self, view: RunView, now: float | None = None) -> None:
        """Hand the view to every widget; ``now=None`` redraws whatever changed at once."""
        for widget in self.query("*"):
            if isinstance(widget, ViewSync):
                widget.sync(view, now)

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        for widget in self.query("*"):
            setter = getattr(widget, "set_ascii", None)
            if callable(setter):
                setter(self.ascii)
