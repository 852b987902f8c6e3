"""``DigitCanvas``: a 28×28 canvas to draw a digit on, by mouse or by keyboard.

The image is uint8 white ink on black, as MNIST stores digits, so the engine preprocesses a
drawing exactly like a test digit. It is drawn with half blocks (28 columns by 14 lines)
inside a border that shows the 28×28 area, with a keyboard cursor on one pixel.

Keys: arrows or hjkl move the cursor one pixel; space inks at the cursor; shift+arrows (or
HJKL) ink while moving; ``d`` puts the pen down (every move inks) or lifts it; backspace
erases at the cursor; ``x`` clears. Mouse: press and drag to ink, right button to erase. A
terminal reports the pointer by cell, which is two pixel rows: the brush is centred on the
cell's upper pixel, or on the pixel under the pointer where the terminal reports pixels.

Every change posts :class:`DigitCanvas.Changed` with a copy of the image, once per burst:
the first change of a burst schedules the message behind the events already queued, so a
drag's queued moves or several ``paint`` calls in one handler give one message.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from cnn_tui.render.drawing import (
    SIDE,
    CanvasPicture,
    UInt8Array,
    blank,
    cell_to_pixel,
    line,
    on_canvas,
    stamp,
)
from cnn_tui.render.glyphs import Glyphs
from cnn_tui.tui.widgets.base import GlyphWidget

START = (14, 14)  # where the cursor starts: the middle of the canvas (column, row)
ERASE_BUTTON = 3  # the right mouse button

MOVES = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
VI_KEYS = {"up": "k", "down": "j", "left": "h", "right": "l"}


def _move_bindings() -> list[Binding]:
    bindings = []
    for name, (dx, dy) in MOVES.items():
        vi = VI_KEYS[name]
        move, stroke = f"{name},{vi}", f"shift+{name},{vi.upper()}"
        bindings += [
            Binding(
                move,
                f"move({dx}, {dy})",
                "Move",
                show=False,
                key_display="arrows hjkl",
                tooltip="draw: move the cursor",
            ),
            Binding(
                stroke,
                f"stroke({dx}, {dy})",
                "Draw",
                show=False,
                key_display="shift+arrows HJKL",
                tooltip="draw: ink while moving",
            ),
        ]
    return bindings


class DigitCanvas(GlyphWidget, can_focus=True):
    """A 28×28 uint8 drawing canvas; see the module docstring for keys and mouse."""

    DEFAULT_CSS = """
    DigitCanvas {
        width: 30;
        height: 16;
        border: round $panel-lighten-2;
        border-title-align: left;
        border-subtitle-align: right;
    }
    DigitCanvas:focus { border: round $accent; }
    DigitCanvas.-ascii { border: ascii $panel-lighten-2; }
    DigitCanvas.-ascii:focus { border: ascii $accent; }
    """

    BINDINGS = [
        *_move_bindings(),
        Binding("space", "ink", "Ink", tooltip="draw: ink at the cursor"),
        Binding("d", "toggle_pen", "Pen", tooltip="draw: pen down (every move inks) or up"),
        Binding("backspace", "rub", "Erase", show=False, tooltip="draw: erase at the cursor"),
        Binding("x", "clear", "Clear", tooltip="draw: clear"),
    ]

    class Changed(Message):
        """The drawing changed; ``image`` is a (28, 28) torch.uint8 CPU copy of it."""

        def __init__(self, canvas: DigitCanvas, image: torch.Tensor) -> None:
            super().__init__()
            self.canvas = canvas
            self.image = image

        @property
        def control(self) -> DigitCanvas:
            return self.canvas

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DigitCanvas.Changed) and message.canvas is self.canvas

    cursor: reactive[tuple[int, int]] = reactive(START)
    pen_down = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._image = blank()
        self._announce_pending = False
        self._drag: tuple[int, int] | None = None  # last pixel of a mouse drag
        self._drag_erases = False
        self.border_title = f"draw {SIDE}x{SIDE}"
        self._show_state()

    # -- the image ------------------------------------------------------------------------
    @property
    def image(self) -> UInt8Array:
        """A copy of the drawing: (28, 28) uint8, 0 black to 255 white."""
        copy: UInt8Array = self._image.copy()
        return copy

    def paint(self, x: int, y: int) -> bool:
        """Ink the brush centred on pixel (x, y); True if any pixel changed."""
        return self._stamp([(x, y)])

    def erase(self, x: int, y: int) -> bool:
        """Erase with the brush's shape centred on pixel (x, y); True if any pixel changed."""
        return self._stamp([(x, y)], erase=True)

    def clear(self) -> bool:
        """Make the canvas black; True if it was not already."""
        if not self._image.any():
            return False
        self._image[...] = 0
        self._changed()
        return True

    def watch_glyphs(self, glyphs: Glyphs) -> None:
        self.set_class(glyphs.ascii, "-ascii")  # an ASCII border

    def watch_cursor(self) -> None:
        self._show_state()

    def watch_pen_down(self) -> None:
        self._show_state()

    def _stamp(self, points: Iterable[tuple[int, int]], *, erase: bool = False) -> bool:
        changed = False
        for x, y in points:
            changed |= stamp(self._image, x, y, erase=erase)
        if changed:
            self._changed()
        return changed

    def _changed(self) -> None:
        self.refresh()
        if not self._announce_pending:
            self._announce_pending = True
            self.call_later(self._announce)

    def _announce(self) -> None:
        self._announce_pending = False
        self.post_message(self.Changed(self, torch.from_numpy(self._image.copy())))

    # -- keyboard -------------------------------------------------------------------------
    def _move_cursor(self, dx: int, dy: int) -> None:
        x, y = self.cursor
        self.cursor = (min(max(x + dx, 0), SIDE - 1), min(max(y + dy, 0), SIDE - 1))

    def action_move(self, dx: int, dy: int) -> None:
        self._move_cursor(dx, dy)
        if self.pen_down:
            self.paint(*self.cursor)

    def action_stroke(self, dx: int, dy: int) -> None:
        start = self.cursor
        self._move_cursor(dx, dy)
        self._stamp([start, self.cursor])

    def action_ink(self) -> None:
        self.paint(*self.cursor)

    def action_rub(self) -> None:
        self.erase(*self.cursor)

    def action_toggle_pen(self) -> None:
        self.pen_down = not self.pen_down
        if self.pen_down:
            self.paint(*self.cursor)

    def action_clear(self) -> None:
        self.clear()

    def _show_state(self) -> None:
        x, y = self.cursor
        pen = "pen down" if self.pen_down else "pen up"
        self.border_subtitle = f"{x},{y} {pen}"

    # -- mouse ----------------------------------------------------------------------------
    def _pixel(self, event: events.MouseEvent) -> tuple[int, int]:
        region = self.content_region
        return cell_to_pixel(event.pointer_screen_x - region.x, event.pointer_screen_y - region.y)

    def _drag_to(self, pixel: tuple[int, int]) -> None:
        start = self._drag if self._drag is not None else pixel
        self._drag = pixel
        if on_canvas(*pixel):
            self.cursor = pixel
        points = [p for p in line(*start, *pixel) if on_canvas(*p)]
        self._stamp(points, erase=self._drag_erases)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        pixel = self._pixel(event)
        if not on_canvas(*pixel):  # the border
            return
        self._drag, self._drag_erases = None, event.button == ERASE_BUTTON
        self.capture_mouse()
        self._drag_to(pixel)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is not None:
            self._drag_to(self._pixel(event))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is not None:
            self._drag = None
            self.release_mouse()

    def render(self) -> CanvasPicture:
        return CanvasPicture(self._image, self.cursor, pen_down=self.pen_down, glyphs=self.glyphs)
