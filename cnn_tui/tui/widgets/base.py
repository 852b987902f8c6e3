"""The one way a widget is drawn from the run: declare what it draws, implement ``draw``.

A view widget names the :class:`~cnn_tui.runview.Part` of the view it draws and how often
it may redraw, and renders from the view::

    class EventCount(ViewWidget):
        DRAWS = Part.LOG  # redrawn only when the log changed...
        EVERY = 1.0  # ...and at most once a second

        def draw(self, view: RunView) -> RenderableType:
            return Text(f"{view.log_version} lines{self.glyphs.ellipsis}")

The app's redraw timer calls ``sync(view, now)`` on every view widget of the screens on
show; ``now=None`` redraws whatever changed at once (a state change, a digit the user chose,
tests). On a CPU-bound box every millisecond the UI draws is taken from training, which is
why each widget has its own interval (see benchmarks/ui_overhead.py and
docs/architecture.md). ``glyphs`` follows the app's glyph set (``a`` switches it).
"""

from __future__ import annotations

import copy
from typing import ClassVar

from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from cnn_tui.render import UNICODE, Glyphs
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.glyphs_app import GlyphsApp


class GlyphWidget(Widget):
    """A widget drawn with the app's glyph set (its own, outside a :class:`GlyphsApp`)."""

    glyphs: reactive[Glyphs] = reactive(UNICODE)

    def on_mount(self) -> None:
        if isinstance(self.app, GlyphsApp):
            self.watch(self.app, "glyphs", self._follow_glyphs)

    def _follow_glyphs(self, glyphs: Glyphs) -> None:
        self.glyphs = glyphs


class ViewWidget(GlyphWidget):
    """A widget drawn from the :class:`RunView`: see the module docstring."""

    DRAWS: ClassVar[Part | tuple[Part, ...]]
    EVERY: ClassVar[float] = 0.5  # seconds between two redraws, at least
    RELAYOUT: ClassVar[bool] = False  # True for widgets sized by their content (width: auto)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = RunView()  # an empty view until the first sync: "waiting for ..."
        self.draws = self.DRAWS if isinstance(self.DRAWS, tuple) else (self.DRAWS,)
        self._drawn: tuple[int, ...] | None = None  # the versions of what is on screen
        self._next = float("-inf")  # when the interval allows the next redraw
        self._extent: object = ()  # what the size followed at the last layout (see extent)
        self._roster: dict[ViewWidget, None] | None = None  # its screen's, to be synced

    def on_mount(self) -> None:
        # Enrol with the screen that syncs its widgets (a ViewScreen's view_widgets); the
        # GlyphWidget's on_mount runs as well (Textual calls each class's handler).
        roster = getattr(self.screen, "view_widgets", None)
        if isinstance(roster, dict):
            self._roster = roster
            roster[self] = None

    def on_unmount(self) -> None:
        if self._roster is not None:
            self._roster.pop(self, None)

    def sync(self, view: RunView, now: float | None = None, stretch: float = 1.0) -> None:
        """Show ``view`` if the parts drawn changed and ``EVERY`` (times ``stretch``: see
        tui/pacing.py) has passed since the last redraw at ``now`` (``None``: at once, and the
        interval starts afresh)."""
        if now is not None and now < self._next:
            return
        versions = tuple(view.version(part) for part in self.draws)
        if versions == self._drawn:
            return
        self._drawn = versions
        self._next = float("-inf") if now is None else now + self.EVERY * stretch
        self.show(view)

    def show(self, view: RunView) -> None:
        """Put ``view`` on screen: keep it as it is now and redraw (``render`` calls ``draw``).

        A shallow copy: the events it holds are frozen, and what grows in place (the curves,
        the log) is shared, so a redraw for another reason (a resize, a key) draws what the
        last sync allowed, not what arrived since."""
        self.view = copy.copy(view)
        extent = self.extent(view) if self.RELAYOUT else None
        # a layout pass costs the whole screen's arrangement: only when the size can change
        self.refresh(layout=extent != self._extent)
        self._extent = extent

    def extent(self, view: RunView) -> object:
        """For a RELAYOUT widget: what its size follows (a new value relays out the screen).
        By default a value never seen before: every redraw relays out."""
        return object()

    def render(self) -> RenderResult:
        return self.draw(self.view)

    def draw(self, view: RunView) -> RenderResult:
        """The picture of ``view``: what this widget is for."""
        raise NotImplementedError
