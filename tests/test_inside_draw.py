"""The "Draw a digit" panel: the canvas's brush, keys and mouse, its Changed messages, the
network's answer beside it, ASCII mode and snapshots.

Expected images are written out pixel by pixel from the documented brush (255 centre, 176
on the four neighbours, 80 on the diagonals), not computed with the code under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable

import numpy as np
import pytest
import torch
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from cnn_tui.config import HyperParams
from cnn_tui.data import DATASETS
from cnn_tui.engine.control import ProbeImage
from cnn_tui.engine.events import ProbeTaken, RunStarted
from cnn_tui.render import ASCII, UNICODE
from cnn_tui.render.drawing import blank, cell_to_pixel, line, stamp
from cnn_tui.render.tiling import fit_answer
from cnn_tui.runview import RunView
from cnn_tui.tui.glyphs_app import GlyphsApp
from cnn_tui.tui.widgets.canvas import START, DigitCanvas
from cnn_tui.tui.widgets.drawn import HINT, DrawnPrediction, DrawPanel
from tests.helpers import drive
from tests.recordings import Replayed

SnapCompare = Callable[..., bool]
# Through the documented keys, from START (14, 14): up to (7, 6), pen down, the top bar to
# (20, 6), the stem down-left to (12, 23), pen up.
SEVEN = ["left"] * 7 + ["up"] * 8 + ["d"] + ["right"] * 13
SEVEN += ["down", "down", "left"] * 8 + ["down", "d"]


def expected(*centres: tuple[int, int]) -> np.ndarray:
    """The image after stamping the brush at each (x, y), written out by hand."""
    image = np.zeros((28, 28), dtype=np.int64)
    for x, y in centres:
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                value = {0: 255, 1: 176, 2: 80}[abs(dx) + abs(dy)]
                if 0 <= x + dx < 28 and 0 <= y + dy < 28:
                    image[y + dy, x + dx] = max(image[y + dy, x + dx], value)
    return image.astype(np.uint8)


class CountingCanvas(DigitCanvas):
    """A canvas that records every Changed it posts (before any queue merges them)."""

    def __init__(self) -> None:
        super().__init__(id="canvas")
        self.posted: list[DigitCanvas.Changed] = []

    def post_message(self, message: Message) -> bool:
        if isinstance(message, DigitCanvas.Changed):
            self.posted.append(message)
        return super().post_message(message)


class CanvasApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.canvas = CountingCanvas()
        self.received: list[DigitCanvas.Changed] = []

    def compose(self) -> ComposeResult:
        yield self.canvas

    def on_mount(self) -> None:
        self.canvas.focus()

    def on_digit_canvas_changed(self, message: DigitCanvas.Changed) -> None:
        self.received.append(message)


class PanelApp(GlyphsApp[None]):
    """The panel at the pane size the Inside screen gives it (terminal minus 6 lines)."""

    def __init__(self, *, ascii: bool = False, pane_height: int | None = None) -> None:
        super().__init__()
        self.panel = DrawPanel(id="draw")
        self.glyphs = ASCII if ascii else UNICODE
        self.pane_height = pane_height

    def compose(self) -> ComposeResult:
        yield self.panel

    def on_mount(self) -> None:
        self.panel.styles.height = self.pane_height or self.size.height - 6
        self.panel.canvas.focus()


def run_canvas(body: Callable[[Pilot[object], CanvasApp], Awaitable[None]]) -> None:
    app = CanvasApp()

    async def run(pilot: Pilot[object]) -> None:
        await body(pilot, app)

    drive(app, run, size=(60, 20))  # type: ignore[arg-type]


def known_probe(probs: Iterable[float]) -> ProbeTaken:
    p = torch.tensor(list(probs))
    stages = {"conv1": torch.rand(10, 24, 24, generator=torch.Generator().manual_seed(3)) - 0.5}
    stages["probs"] = p
    return ProbeTaken(
        1_234, "drawn", None, None, stages, torch.zeros(10, 1, 5, 5), torch.zeros(20, 10, 5, 5),
        prediction=int(p.argmax()), confidence=float(p.max()),
    )  # fmt: skip


def screen_text(app: App[None]) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


# -- the brush, as pure functions -----------------------------------------------------------
def test_stamp_raises_pixels_only_and_says_whether_anything_changed() -> None:
    image = blank()
    assert stamp(image, 14, 14)
    assert np.array_equal(image, expected((14, 14)))
    assert not stamp(image, 14, 14)  # already inked: nothing changes
    assert stamp(image, 15, 14)
    assert np.array_equal(image, expected((14, 14), (15, 14)))
    assert stamp(image, 0, 27)  # a corner keeps the part of the brush on the canvas
    assert image[27, 0] == 255 and image[26, 0] == 176 and image[26, 1] == 80
    assert not stamp(image, 28, 3) and not stamp(image, -1, 0)  # centre off the canvas


def test_erasing_lowers_pixels_only() -> None:
    image = blank()
    stamp(image, 5, 5)
    assert stamp(image, 6, 5, erase=True)
    assert image[5, 6] == 0 and image[5, 5] == 255 - 176  # neighbour of the eraser's centre
    assert not stamp(image, 20, 20, erase=True)  # nothing there to erase


def test_line_and_pointer_mapping() -> None:
    assert line(3, 2, 7, 2) == [(3, 2), (4, 2), (5, 2), (6, 2), (7, 2)]
    points = line(0, 0, 3, 6)
    assert points[0] == (0, 0) and points[-1] == (3, 6) and len(points) == 7
    assert all(
        abs(a[0] - b[0]) <= 1 and abs(a[1] - b[1]) <= 1 for a, b in itertools.pairwise(points)
    )
    assert cell_to_pixel(5, 3) == (5, 6)  # a whole cell: its upper pixel
    assert cell_to_pixel(5.2, 3.6) == (5, 7)  # a pixel-precise pointer in the lower half


# -- keys ------------------------------------------------------------------------------------
def test_space_inks_the_brush_at_the_cursor_and_arrows_or_hjkl_only_move() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.press("space")
        assert np.array_equal(app.canvas.image, expected(START))
        await pilot.press("right", "right", "down", "l", "j", "h", "k", "up")
        assert app.canvas.cursor == (START[0] + 2, START[1])
        assert np.array_equal(app.canvas.image, expected(START))  # moving drew nothing
        await pilot.press("space")
        assert np.array_equal(app.canvas.image, expected(START, (16, 14)))

    run_canvas(body)


def test_pen_down_and_shift_arrows_draw_strokes() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.press("left", "left", "d", "right", "right", "right", "d", "right", "right")
        assert app.canvas.cursor == (17, 14) and not app.canvas.pen_down
        stroke = [(12, 14), (13, 14), (14, 14), (15, 14)]  # the pen went up at (15, 14)
        assert np.array_equal(app.canvas.image, expected(*stroke))
        await pilot.press("shift+down", "shift+down", "J", "shift+left", "H")
        down = [(17, 14), (17, 15), (17, 16), (17, 17), (16, 17), (15, 17)]
        assert np.array_equal(app.canvas.image, expected(*stroke, *down))

    run_canvas(body)


def test_cursor_stops_at_the_edge() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.press(*["up"] * 20)
        assert app.canvas.cursor == (14, 0)
        await pilot.press("space")
        assert np.array_equal(app.canvas.image, expected((14, 0)))

    run_canvas(body)


def test_x_clears_and_backspace_erases() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.press("space", "right", "space")
        await pilot.press("backspace")
        assert app.canvas.image[14, 15] == 0 and app.canvas.image[14, 14] == 255 - 176
        await pilot.press("x")
        await pilot.pause()
        assert not app.canvas.image.any()
        assert not app.received[-1].image.any()

    run_canvas(body)


# -- mouse -----------------------------------------------------------------------------------
def test_a_click_inks_the_cells_upper_pixel() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.click(app.canvas, offset=(1 + 5, 1 + 3))  # the border is one cell
        assert np.array_equal(app.canvas.image, expected((5, 6)))
        assert app.canvas.cursor == (5, 6)
        await pilot.click(app.canvas, offset=(0, 0))  # the border paints nothing
        assert np.array_equal(app.canvas.image, expected((5, 6)))

    run_canvas(body)


def test_a_drag_draws_a_connected_stroke_and_the_right_button_erases() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.mouse_down(app.canvas, offset=(1 + 3, 1 + 2))
        await pilot.hover(app.canvas, offset=(1 + 10, 1 + 2))  # one jump of 7 cells
        await pilot.mouse_up(app.canvas, offset=(1 + 10, 1 + 2))
        stroke = [(x, 4) for x in range(3, 11)]
        assert np.array_equal(app.canvas.image, expected(*stroke))
        await pilot.hover(app.canvas, offset=(1 + 20, 1 + 8))  # button up: no ink
        assert np.array_equal(app.canvas.image, expected(*stroke))
        await pilot.click(app.canvas, offset=(1 + 6, 1 + 2), button=3)
        assert app.canvas.image[4, 6] == 0 and app.canvas.image[4, 5] == 255 - 176

    run_canvas(body)


# -- Changed ---------------------------------------------------------------------------------
def test_changed_carries_a_uint8_copy_of_the_image() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.press("space")
        await pilot.pause()
        assert len(app.canvas.posted) == 1 and len(app.received) == 1
        image = app.received[0].image
        assert image.dtype == torch.uint8 and image.shape == (28, 28)
        assert image.device.type == "cpu" and app.received[0].control is app.canvas
        assert np.array_equal(image.numpy(), app.canvas.image)
        await pilot.press("right", "space")
        assert np.array_equal(image.numpy(), expected(START))  # a copy: the first is kept

    run_canvas(body)


def test_a_burst_of_changes_posts_once_with_the_final_image() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        for x in range(3, 20):
            assert app.canvas.paint(x, 9)
        await pilot.pause()
        assert len(app.canvas.posted) == 1
        assert np.array_equal(app.received[-1].image.numpy(), app.canvas.image)
        assert np.array_equal(app.canvas.image, expected(*[(x, 9) for x in range(3, 20)]))

    run_canvas(body)


def test_nothing_changed_posts_nothing() -> None:
    async def body(pilot: Pilot[object], app: CanvasApp) -> None:
        await pilot.press("x", "up", "up", "left")  # clearing a blank canvas, moving: no change
        await pilot.pause()
        assert app.canvas.posted == []
        await pilot.press("space")
        await pilot.pause()
        assert len(app.canvas.posted) == 1
        await pilot.press("space")  # the same pixels again
        await pilot.click(app.canvas, offset=(1 + 13, 1 + 6))  # the cell's upper pixel: (13, 12)
        assert app.canvas.cursor == (13, 12) and not app.canvas.paint(13, 12)
        await pilot.pause()
        assert len(app.canvas.posted) == 1

    run_canvas(body)


# -- the answer ------------------------------------------------------------------------------
# -- the answer ------------------------------------------------------------------------------
PROBS = [0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.9, 0.01, 0.01]


class PredictionApp(App[None]):
    """A DrawnPrediction alone, filling an 88×34 terminal (its size in the 120×34 pane)."""

    def __init__(self) -> None:
        super().__init__()
        self.widget = DrawnPrediction()
        self.widget.styles.height = "1fr"

    def compose(self) -> ComposeResult:
        yield self.widget


def run_prediction(
    body: Callable[[Pilot[object], DrawnPrediction], Awaitable[None]],
) -> None:
    app = PredictionApp()

    async def run(pilot: Pilot[object]) -> None:
        await body(pilot, app.widget)

    drive(app, run, size=(88, 34))  # type: ignore[arg-type]


async def shown(pilot: Pilot[object]) -> list[str]:
    await pilot.pause()
    return [line.rstrip() for line in screen_text(pilot.app)]  # type: ignore[arg-type]


def test_prediction_shows_the_answer_and_marks_the_predicted_class() -> None:
    async def body(pilot: Pilot[object], widget: DrawnPrediction) -> None:
        view = RunView()
        view.apply(known_probe(PROBS))
        widget.sync(view, None)
        lines = await shown(pilot)
        assert lines[0] == "pred 7 (90%) · network after 1,234 examples"
        bars = lines[2:12]
        assert [line[1] for line in bars] == [str(k) for k in range(10)]
        assert [line[0] for line in bars] == [" "] * 7 + [">"] + [" "] * 2
        assert bars[7].endswith(" 90.0%") and bars[1].endswith("  2.0%")
        assert lines[13] == "conv1 → ReLU, 10 maps"
        assert all(lines[14 + row].count("▀" * 12) == 6 for row in range(6))  # 12-px maps
        assert all(lines[21 + row].count("▀" * 12) == 4 for row in range(6))  # 6 + 4

    run_prediction(body)


def test_prediction_uses_the_datasets_class_names() -> None:
    async def body(pilot: Pilot[object], widget: DrawnPrediction) -> None:
        fashion = DATASETS["fashion-mnist"].classes
        view = RunView()
        view.apply(
            RunStarted("fashion-mnist", "sample", "", "cpu", 6, 1, fashion, HyperParams(), 1, "",
                       None, 1, 0)
        )  # fmt: skip
        view.apply(known_probe(PROBS))
        widget.sync(view, None)
        lines = await shown(pilot)
        assert lines[0].startswith("pred Sneaker (90%)")
        assert lines[9].startswith(">Sneaker ") and lines[3].startswith(" Trouser ")

    run_prediction(body)


def test_hint_before_drawing_waiting_after_and_hint_again_when_cleared() -> None:
    async def body(pilot: Pilot[object], widget: DrawnPrediction) -> None:
        hint = HINT.splitlines()
        assert (await shown(pilot))[: len(hint)] == hint
        widget.canvas_blank = False
        assert (await shown(pilot))[0] == "asking the network..."
        view = RunView()
        view.apply(known_probe(PROBS))
        widget.sync(view, None)
        assert (await shown(pilot))[0].startswith("pred 7")
        widget.canvas_blank = True
        assert (await shown(pilot))[: len(hint)] == hint

    run_prediction(body)


def test_prediction_redraws_within_its_short_interval() -> None:
    async def body(pilot: Pilot[object], widget: DrawnPrediction) -> None:
        view = RunView()
        view.apply(known_probe(PROBS))
        widget.sync(view, 10.0)
        view.apply(known_probe(PROBS[::-1]))  # the next answer: 2 now
        widget.sync(view, 10.1)
        assert (await shown(pilot))[0].startswith("pred 7")  # too soon
        widget.sync(view, 10.0 + DrawnPrediction.EVERY)
        assert (await shown(pilot))[0].startswith("pred 2")

    run_prediction(body)


def test_layout_fits_all_ten_maps_at_both_pane_sizes() -> None:
    beside, fit = fit_answer(10, 88, 34)
    assert not beside and fit.pixels == 12 and fit.capacity >= 10
    beside, fit = fit_answer(10, 88, 36)  # beside would fit 12 too: under wins the tie
    assert not beside and fit.pixels == 12
    beside, fit = fit_answer(10, 48, 18)
    assert beside and fit.pixels == 6 and fit.capacity >= 10


# -- the panel -------------------------------------------------------------------------------
async def draw_seven(pilot: Pilot[object]) -> None:
    await pilot.press(*SEVEN)
    await pilot.pause()


async def answer(pilot: Pilot[object], net: Replayed) -> None:
    """What the Inside screen and the engine do: probe the drawing, fold it, sync. The answer
    is a seeded, untrained Net's, recorded (``tests/fixtures/untrained-net.rec.gz``): run
    here, its last digits would depend on the CPU."""
    app = pilot.app
    assert isinstance(app, PanelApp)
    view = RunView()
    view.apply(net.probe(ProbeImage(torch.from_numpy(app.panel.canvas.image))))
    app.panel.prediction.sync(view, None)
    await pilot.pause()


def test_panel_shows_the_hint_until_drawn_and_again_after_clearing(untrained_net: Replayed) -> None:
    app = PanelApp()

    async def body(pilot: Pilot[object]) -> None:
        assert any(HINT.splitlines()[0] in line for line in screen_text(app))
        await draw_seven(pilot)
        await answer(pilot, untrained_net)
        assert any("pred " in line for line in screen_text(app))
        await pilot.press("x")
        await pilot.pause()
        assert any(HINT.splitlines()[0] in line for line in screen_text(app))

    drive(app, body, size=(120, 40))  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_ascii_panel_is_pure_ascii(untrained_net: Replayed, size: tuple[int, int]) -> None:
    app = PanelApp(ascii=True)

    async def body(pilot: Pilot[object]) -> None:
        await draw_seven(pilot)
        await answer(pilot, untrained_net)
        lines = screen_text(app)
        assert all(line.isascii() for line in lines)
        assert lines[0].startswith("+- draw 28x28 -")
        # the cursor ends at (12, 23): the lower pixel of cell row 11, below the border
        assert lines[1 + 11][1 + 12] == "v"
        assert "pred " in lines[0] and "conv1 -> ReLU" in "".join(lines)

    drive(app, body, size=size)  # type: ignore[arg-type]


def test_panel_survives_tiny_sizes(untrained_net: Replayed) -> None:
    app = PanelApp(pane_height=4)

    async def body(pilot: Pilot[object]) -> None:
        await draw_seven(pilot)
        await answer(pilot, untrained_net)
        await pilot.resize_terminal(20, 6)
        await pilot.pause()
        assert len(screen_text(app)) == 6

    drive(app, body, size=(120, 40))  # type: ignore[arg-type]


# -- snapshots -------------------------------------------------------------------------------
def seven_answered(net: Replayed) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await draw_seven(pilot)
        await answer(pilot, net)

    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_snapshot_seven(
    snap_compare: SnapCompare, untrained_net: Replayed, size: tuple[int, int]
) -> None:
    assert snap_compare(PanelApp(), terminal_size=size, run_before=seven_answered(untrained_net))


def test_snapshot_seven_ascii(snap_compare: SnapCompare, untrained_net: Replayed) -> None:
    app = PanelApp(ascii=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=seven_answered(untrained_net))


def test_snapshot_before_drawing(snap_compare: SnapCompare) -> None:
    assert snap_compare(PanelApp(), terminal_size=(80, 24))
