"""The last test pass as a confusion matrix: which digits the network takes for which.

A focusable panel for the "Inside the CNN" screen. Each cell counts the test digits of one
true class (row) predicted as one class (column); beside each row is that class's accuracy.
A cursor moves over the cells (arrows or hjkl; it starts on the most frequent mistake and
follows it across test passes until the user moves it); Enter, or a click on the cursor's
cell, posts :class:`ConfusionMatrix.CellChosen` with what a gallery of that cell needs:
what to do with it is the screen's decision. Drawing is
:class:`cnn_tui.render.confusion.ConfusionPicture`; this file is the interaction.
"""

from __future__ import annotations

import torch
from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from cnn_tui.engine.events import EpochTested
from cnn_tui.phrases import test_when
from cnn_tui.render.confusion import Cell, ConfusionPicture, Layout, worst_cell
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget

CLASSES = 10
MOVE = "confusion: pick a cell (or click it)"


def header_text(test: EpochTested) -> str:
    """``test after epoch 2: 9716/10000 (97.2%)``."""
    return f"test {test_when(test.epoch)}: {test.correct}/{test.total} ({test.accuracy:.1%})"


class ConfusionMatrix(ViewWidget, can_focus=True):
    """Rows: true class; columns: predicted. Enter chooses the cursor's cell."""

    DEFAULT_CSS = "ConfusionMatrix { width: 1fr; height: 1fr; }"  # drawn to fit what it is given
    DRAWS = Part.TEST
    EVERY = 2.0
    BINDINGS = [
        *(
            Binding(keys, f"move{step}", name, show=False, key_display="arrows hjkl", tooltip=MOVE)
            for keys, step, name in (
                ("up,k", (-1, 0), "Up"),
                ("down,j", (1, 0), "Down"),
                ("left,h", (0, -1), "Left"),
                ("right,l", (0, 1), "Right"),
            )
        ),
        Binding(
            "enter", "choose", "Show digits", show=False, tooltip="confusion: the cell's mistakes"
        ),
    ]

    class CellChosen(Message):
        """A cell chosen: the test digits of class ``true`` that were ``predicted`` in
        ``test``, with the raw test ``images`` (if known) and the class names."""

        def __init__(
            self,
            test: EpochTested,
            true: int,
            predicted: int,
            images: torch.Tensor | None,
            classes: tuple[str, ...],
        ) -> None:
            super().__init__()
            self.test, self.true, self.predicted = test, true, predicted
            self.images, self.classes = images, classes

    cursor: reactive[Cell] = reactive((0, 0))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.moved = False  # the user moved the cursor: stop following the worst mistake
        self._layout: Layout | None = None

    def show(self, view: RunView) -> None:
        if view.last_test is not None and not self.moved:
            self.cursor = worst_cell(view.last_test.confusion)
        super().show(view)

    def draw(self, view: RunView) -> RenderableType:
        test = view.last_test
        if test is None:
            self._layout = None
            return Text(f"waiting for the first test pass{self.glyphs.ellipsis}", style="dim")
        width, height = self.size
        picture = ConfusionPicture(
            test.confusion,
            view.classes,
            title=header_text(test),
            cursor=self.cursor,
            width=width,
            height=height,
            glyphs=self.glyphs,
        )
        self._layout = picture.layout
        return picture

    # -- keys and mouse -------------------------------------------------------------------
    def move_to(self, cell: Cell) -> None:
        test = self.view.last_test
        last = len(test.confusion) - 1 if test is not None else CLASSES - 1
        self.cursor = (min(max(cell[0], 0), last), min(max(cell[1], 0), last))
        self.moved = True

    def action_move(self, rows: int, columns: int) -> None:
        """Move the cursor; it stops at the edges (no wrapping)."""
        self.move_to((self.cursor[0] + rows, self.cursor[1] + columns))

    def action_choose(self) -> None:
        view = self.view
        if view.last_test is None:
            self.app.bell()
            return
        true, predicted = self.cursor
        chosen = self.CellChosen(view.last_test, true, predicted, view.test_images, view.classes)
        self.post_message(chosen)

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
