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
        self._synced: list[ViewSync] | None = None

    def sync(self, view: RunView, now: float | None = None) -> None:
        """Hand the view to every widget; ``now=None`` redraws whatever changed at once."""
        if self._synced is None:
            if not self.is_mounted:
                return
            # composed once and never remounted: find the widgets once, not at every tick
            self._synced = [w for w in self.query("*") if isinstance(w, ViewSync)]
        for widget in self._synced:
            widget.sync(view, now)

    def action_toggle_ascii(self) -> None:
        self.ascii = not self.ascii
        for widget in self.query("*"):
            setter = getattr(widget, "set_ascii", None)
            if callable(setter):
                setter(self.ascii)
