"""What every dashboard widget shares: redraw only when its data changed, and not too often.

The app's redraw timer calls ``sync(view, now)`` on every widget a few times a second. A
widget takes new data and refreshes only if its part of the view changed and its own
interval has passed: the status line twice a second, a chart or a heatmap every 2 s. On a
CPU-bound box every millisecond the UI draws is taken from training (see
benchmarks/ui_overhead.py). ``now=None`` forces a redraw (state changes, tests).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from cnn_tui.tui.view import RunView


class Throttle:
    """Allows one redraw per ``interval`` seconds of the caller's clock."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = float("-inf")

    def allows(self, now: float | None) -> bool:
        if now is not None and now < self._next:
            return False
        self._next = (now if now is not None else float("-inf")) + self.interval
        return True


class ViewSync:
    """Mixin for widgets drawn from a :class:`RunView` part identified by ``key(view)``."""

    REDRAW_INTERVAL = 0.5
    RELAYOUT = False  # True for widgets sized by their content (width: auto)
    ascii = False  # heatmaps as ASCII ramps instead of coloured half blocks

    def init_sync(self) -> None:
        self._throttle = Throttle(self.REDRAW_INTERVAL)
        self._drawn_key: object = object()

    def sync(self, view: RunView, now: float | None = None) -> None:
        key = self.key(view)
        if key == self._drawn_key or not self._throttle.allows(now):
            return
        self._drawn_key = key
        self.take(view)
        self.refresh(layout=self.RELAYOUT)  # type: ignore[attr-defined]

    def set_ascii(self, ascii: bool) -> None:
        self.ascii = ascii
        self.refresh()  # type: ignore[attr-defined]

    def key(self, view: RunView) -> object:
        """What identifies the data drawn: a version number or the event object."""
        raise NotImplementedError

    def take(self, view: RunView) -> None:
        """Keep what ``render`` needs from ``view``."""
        raise NotImplementedError


class ViewLine(ViewSync, Widget):
    """A one-line widget drawn from the whole view whenever the run's position changes."""

    DEFAULT_CSS = "ViewLine { height: 1; }"
    PLACEHOLDER = ""

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self._view: RunView | None = None

    def key(self, view: RunView) -> object:
        return view.status_version

    def take(self, view: RunView) -> None:
        self._view = view

    def render(self) -> Text:
        if self._view is None:
            return Text(self.PLACEHOLDER)
        return self.line(self._view, self.size.width)

    def line(self, view: RunView, width: int) -> Text:
        raise NotImplementedError
