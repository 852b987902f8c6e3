"""The last test pass as a confusion matrix: which digits the network takes for which.

A focusable panel for the "Inside the CNN" screen. Each cell counts the test digits of one
true class (row) predicted as one class (column); beside each row is that class's accuracy.
A cursor moves over the cells (arrows or hjkl; it starts on the most frequent mistake and
follows it across test passes until the user moves it); Enter posts :class:`CellChosen` and
opens the :class:`~cnn_tui.tui.screens.gallery.GalleryScreen` with that cell's digits.
Drawing is :class:`cnn_tui.render.confusion.ConfusionPicture`; this file is the interaction.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from cnn_tui.engine.events import EpochTested
from cnn_tui.render.confusion import Cell, ConfusionPicture, Layout, worst_cell
from cnn_tui.tui.screens.gallery import GalleryScreen
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewSync

CLASSES = 10


def header_text(test: EpochTested) -> str:
    """``test after epoch 2: 9716/10000 (97.2%)``; epoch 0 is the pass before training."""
    when = "before training" if test.epoch == 0 else f"after epoch {test.epoch}"
    return f"test {when}: {test.correct}/{test.total} ({test.accuracy:.1%})"


class ConfusionMatrix(ViewSync, Widget, can_focus=True):
    """Rows: true class; columns: predicted. Enter opens the digits of the cursor's cell."""

    DEFAULT_CSS = "ConfusionMatrix { width: 1fr; height: 1fr; }"  # drawn to fit what it is given
    REDRAW_INTERVAL = 2.0
    BINDINGS = [
        Binding("up,k", "move(-1, 0)", "Up", show=False),
        Binding("down,j", "move(1, 0)", "Down", show=False),
        Binding("left,h", "move(0, -1)", "Left", show=False),
        Binding("right,l", "move(0, 1)", "Right", show=False),
        Binding("enter", "choose", "Show digits", show=False),
    ]

    class CellChosen(Message):
        """Enter on a cell: the test digits of class ``true`` that were ``predicted``."""

        def __init__(self, true: int, predicted: int) -> None:
            super().__init__()
            self.true = true
            self.predicted = predicted

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self.ascii = ascii
        self.cursor: Cell = (0, 0)
        self.moved = False  # the user moved the cursor: stop following the worst mistake
        self._view: RunView | None = None
        self._test: EpochTested | None = None
        self._layout: Layout | None = None

    def key(self, view: RunView) -> object:
        return view.test_version

    def take(self, view: RunView) -> None:
        self._view, self._test = view, view.last_test
        if self._test is not None and not self.moved:
            self.cursor = worst_cell(self._test.confusion)

    @property
    def class_names(self) -> tuple[str, ...]:
        view = self._view
        return view.classes if view is not None else tuple(str(k) for k in range(CLASSES))

    def render(self) -> RenderableType:
        test = self._test
        if test is None:
            dots = "..." if self.ascii else "…"
            self._layout = None
            return Text(f"waiting for the first test pass{dots}", style="dim")
        width, height = self.size
        picture = ConfusionPicture(
            test.confusion,
            self.class_names,
            title=header_text(test),
            cursor=self.cursor,
            width=width,
            height=height,
            ascii=self.ascii,
        )
        self._layout = picture.layout
        return picture

    # -- keys and mouse -------------------------------------------------------------------
    def move_to(self, cell: Cell) -> None:
        last = len(self._test.confusion) - 1 if self._test is not None else CLASSES - 1
        self.cursor = (min(max(cell[0], 0), last), min(max(cell[1], 0), last))
        self.moved = True
        self.refresh()

    def action_move(self, rows: int, columns: int) -> None:
        """Move the cursor; it stops at the edges (no wrapping)."""
        self.move_to((self.cursor[0] + rows, self.cursor[1] + columns))

    def action_choose(self) -> None:
        test = self._test
        if test is None:
            self.app.bell()
            return
        true, predicted = self.cursor
        self.post_message(self.CellChosen(true, predicted))
        images = self._view.test_images if self._view is not None else None
        self.app.push_screen(
            GalleryScreen.from_test(
                test, true, predicted, images=images, classes=self.class_names, ascii=self.ascii
            )
        )

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to a cell; a click on the cursor's cell opens it."""
        offset = event.get_content_offset(self)
        cell = self._layout.cell_at(offset.x, offset.y) if self._layout and offset else None
        if cell is None:
            return
        if cell == self.cursor:
            self.action_choose()
        else:
            self.move_to(cell)
