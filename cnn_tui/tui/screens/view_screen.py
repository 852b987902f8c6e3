"""What the dashboard and the inside screen share: view widgets, synced from the run's view."""

from __future__ import annotations

from typing import Any

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Its view widgets, in the order they were mounted: each enrols itself on mount and
        # leaves on unmount. Querying the DOM at every tick (4 a second) was a sixth of what
        # a paced monitor spends.
        self.view_widgets: dict[ViewWidget, None] = {}

    def sync(
        self,
        view: RunView,
        now: float | None = None,
        at_once: frozenset[Part] = frozenset(),
        stretch: float = 1.0,
    ) -> None:
        """Hand the view to every view widget; ``now=None`` redraws whatever changed at once,
        and so do the widgets drawing a part in ``at_once``; ``stretch`` their intervals."""
        for widget in self.view_widgets:
            widget.sync(view, None if not at_once.isdisjoint(widget.draws) else now, stretch)
