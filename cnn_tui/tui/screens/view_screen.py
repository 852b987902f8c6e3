"""What the dashboard and the inside screen share: view widgets, synced from the run's view."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget


class ViewScreen(Screen[None]):
    """A screen of view widgets, synced by the app's redraw timer; ``a`` switches the app
    between ASCII and Unicode with colour."""

    BINDINGS = [
        Binding("a", "app.toggle_glyphs", "ASCII", show=False, tooltip="ASCII / Unicode and colour")
    ]

    def sync(
        self,
        view: RunView,
        now: float | None = None,
        at_once: frozenset[Part] = frozenset(),
        stretch: float = 1.0,
    ) -> None:
        """Hand the view to every view widget; ``now=None`` redraws whatever changed at once,
        and so do the widgets drawing a part in ``at_once``; ``stretch`` their intervals.

        The widgets are looked up at each sync, not kept: panes can be mounted later."""
        for widget in self.query(ViewWidget):
            widget.sync(view, None if not at_once.isdisjoint(widget.draws) else now, stretch)
