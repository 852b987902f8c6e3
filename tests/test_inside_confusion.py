"""The confusion-matrix panel and the gallery of one cell's digits, on a recorded real run.

Every expectation is computed here from the recorded events (the EpochTested the engine sent
and the raw test images of RunStarted), then compared with what the widgets put on screen.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Awaitable, Callable

import numpy as np
import numpy.typing as npt
import pytest
from rich.console import Console
from rich.segment import Segment
from textual.app import ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer

from cnn_tui.engine.events import EpochTested, Event, RunStarted
from cnn_tui.render import ASCII, UNICODE, Glyphs, Heatmap
from cnn_tui.render.confusion import ConfusionPicture
from cnn_tui.runview import RunView
from cnn_tui.tui.glyphs_app import GlyphsApp
from cnn_tui.tui.replay import final_view
from cnn_tui.tui.screens.gallery import DigitWall, GalleryScreen, mistakes_for
from cnn_tui.tui.widgets.confusion import ConfusionMatrix
from tests.helpers import drive
from tests.recordings import Replayed

SnapCompare = Callable[..., bool]
Sizes = tuple[tuple[int, int], tuple[int, int]]  # (terminal, pane)
WIDE: Sizes = ((120, 40), (120, 34))
COMPACT: Sizes = ((80, 24), (80, 18))
MatrixBody = Callable[[Pilot[object], "MatrixHost", ConfusionMatrix], Awaitable[None] | None]
GalleryBody = Callable[[Pilot[object], GalleryScreen], Awaitable[None] | None]
ROW = re.compile(r"^\s*(?P<label>\d) (?P<cells>.*?)\s+(?P<acc>\d+\.\d%|-)(?:\s|$)")


@pytest.fixture(scope="module")
def events(inside_demo: Replayed) -> list[Event]:
    return inside_demo.events


@pytest.fixture(scope="module")
def view(events: list[Event]) -> RunView:
    return final_view(events)


def view_until(events: list[Event], tests: int) -> RunView:
    """The view once ``tests`` test passes have arrived (0: just after RunStarted)."""
    ends = [i for i, e in enumerate(events) if isinstance(e, EpochTested)]
    cut = (
        ends[tests - 1] + 1
        if tests
        else 1 + next(i for i, e in enumerate(events) if isinstance(e, RunStarted))
    )
    return final_view(events[:cut])


def last_test(view: RunView) -> EpochTested:
    assert view.last_test is not None
    return view.last_test


class MatrixHost(GlyphsApp[object]):
    """The panel at a pane's size, synced and focused as the inside screen does, which
    also opens the gallery of a chosen cell."""

    def __init__(self, view: RunView, pane: tuple[int, int], *, glyphs: Glyphs = UNICODE) -> None:
        super().__init__()
        self.view, self.pane, self.glyphs = view, pane, glyphs
        self.chosen: list[tuple[int, int]] = []

    def compose(self) -> ComposeResult:
        yield ConfusionMatrix(id="matrix")
        yield Footer()

    def on_mount(self) -> None:
        matrix = self.query_one(ConfusionMatrix)
        matrix.styles.width, matrix.styles.height = self.pane
        matrix.sync(self.view)
        matrix.focus()

    def on_confusion_matrix_cell_chosen(self, message: ConfusionMatrix.CellChosen) -> None:
        self.chosen.append((message.true, message.predicted))
        self.push_screen(GalleryScreen.of_cell(message))


class GalleryHost(GlyphsApp[object]):
    """A GalleryScreen built from plain data, with no engine and no matrix."""

    def __init__(self, screen: GalleryScreen, glyphs: Glyphs = UNICODE) -> None:
        super().__init__()
        self.gallery, self.glyphs = screen, glyphs

    def on_mount(self) -> None:
        self.push_screen(self.gallery)


def text_of(widget: Widget) -> list[str]:
    width, height = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


def shown_matrix(lines: list[str]) -> tuple[list[list[int]], list[str], tuple[int, int] | None]:
    """The counts, accuracies and bracketed cursor cell read back from the panel's text."""
    counts: list[list[int]] = []
    accuracies: list[str] = []
    cursor: tuple[int, int] | None = None
    for line in lines:
        match = ROW.match(line)
        if match is None:
            continue
        cells = re.findall(r"\[?(?:\d+|·|\.)\]?|\(\d+\)", match["cells"])
        assert len(cells) == 10, line
        if any(c.startswith("[") for c in cells):
            cursor = (len(counts), next(i for i, c in enumerate(cells) if c.startswith("[")))
        counts.append([int(c.strip("[]()")) if c.strip("[]()").isdigit() else 0 for c in cells])
        accuracies.append(match["acc"])
    return counts, accuracies, cursor


def expected_accuracy(confusion: tuple[tuple[int, ...], ...]) -> list[str]:
    return [
        f"{100 * row[k] / sum(row):.1f}%" if sum(row) else "-" for k, row in enumerate(confusion)
    ]


def on_matrix(
    view: RunView, body: MatrixBody, *, size: Sizes = WIDE, glyphs: Glyphs = UNICODE
) -> None:
    """Drive a MatrixHost at ``size`` (terminal, pane) through ``body``."""
    terminal, pane = size
    host = MatrixHost(view, pane, glyphs=glyphs)

    async def run(pilot: Pilot[object]) -> None:
        await pilot.pause()
        result = body(pilot, host, host.query_one(ConfusionMatrix))
        if inspect.isawaitable(result):
            await result

    drive(host, run, terminal)


# -- the matrix -----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [WIDE, COMPACT], ids=["120x34", "80x18"])
def test_matrix_shows_the_test_pass(view: RunView, size: Sizes) -> None:
    test = last_test(view)

    def body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        lines = text_of(matrix)
        assert (
            lines[0].strip()
            == f"test after epoch 1: {test.correct}/1000 ({test.correct / 10:.1f}%)"
        )
        counts, accuracies, _ = shown_matrix(lines)
        assert counts == [list(row) for row in test.confusion]
        assert accuracies == expected_accuracy(test.confusion)
        assert any("true 2 → predicted 1: 58 of 116 (50.0%) · Enter" in line for line in lines)

    on_matrix(view, body, size=size)


def test_before_training_and_before_any_test(events: list[Event]) -> None:
    first = view_until(events, 1)
    test = last_test(first)
    assert test.epoch == 0

    def before_training(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        lines = text_of(matrix)
        assert (
            lines[0].strip()
            == f"test before training: {test.correct}/1000 ({test.correct / 10:.1f}%)"
        )
        assert shown_matrix(lines)[0] == [list(row) for row in test.confusion]

    def waiting(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        assert text_of(matrix)[0].strip() == "waiting for the first test pass…"

    on_matrix(first, before_training)
    on_matrix(view_until(events, 0), waiting)


def test_cursor_starts_on_the_worst_mistake_then_moves_and_stops_at_edges(view: RunView) -> None:
    test = last_test(view)
    off = [(test.confusion[t][p], t, p) for t in range(10) for p in range(10) if t != p]
    worst = max(off)[1:]

    async def body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        assert shown_matrix(text_of(matrix))[2] == worst == (2, 1)
        moves = [
            (["down", "right"], (3, 2)),
            (["k", "l", "l"], (2, 4)),
            (["j", "h"], (3, 3)),
            (["up"] * 12, (0, 3)),
            (["left"] * 12, (0, 0)),
            (["up", "left", "k", "h"], (0, 0)),
            (["right"] * 12 + ["down"] * 12, (9, 9)),
            (["j", "l"], (9, 9)),
        ]
        for keys, cell in moves:
            await pilot.press(*keys)
            await pilot.pause()
            assert matrix.cursor == cell
            assert shown_matrix(text_of(matrix))[2] == cell

    on_matrix(view, body)


def test_a_new_test_pass_moves_the_cursor_only_if_the_user_did_not(events: list[Event]) -> None:
    view = final_view(events)  # this test applies events of its own: not the shared view
    test = last_test(view)
    transposed = tuple(zip(*test.confusion, strict=True))
    later = dataclasses.replace(test, epoch=2, confusion=transposed)

    async def body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        assert matrix.cursor == (2, 1)
        view.apply(later)
        matrix.sync(view)
        assert matrix.cursor == (1, 2)  # still on the worst mistake, now 1 taken for 2
        await pilot.press("down")
        view.apply(test)
        matrix.sync(view)
        assert matrix.cursor == (2, 2)  # the user's choice stays
        assert shown_matrix(text_of(matrix))[2] == (2, 2)

    on_matrix(view, body)


def test_enter_posts_the_cell_and_opens_its_mistakes(view: RunView) -> None:
    test = last_test(view)
    pair = [m for m in test.mistakes if (m.label, m.predicted) == (4, 7)]
    expected = [m.index for m in sorted(pair, key=lambda m: (-m.confidence, m.index))]

    async def body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        await pilot.press("down", "down", *["right"] * 6, "enter")
        await pilot.pause()
        assert host.chosen == [(4, 7)]
        gallery = host.screen
        assert isinstance(gallery, GalleryScreen)
        assert list(gallery.indices) == expected
        assert len(expected) == test.confusion[4][7] == 33
        title = str(gallery.query_one("#gallery-title").render())
        assert title == "true 4 predicted as 7 — 33 digits"
        await pilot.press("escape")
        assert host.screen is not gallery and isinstance(host.focused, ConfusionMatrix)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(host.screen, GalleryScreen) and host.chosen == [(4, 7), (4, 7)]
        await pilot.press("q")
        assert not isinstance(host.screen, GalleryScreen)

    on_matrix(view, body)


def test_click_moves_the_cursor_and_a_second_click_opens_the_cell(view: RunView) -> None:
    async def body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        lines = text_of(matrix)
        names = next(line for line in lines if re.search(r"\sacc(\s|$)", line))
        x = names.index("7")  # the units digit of a count sits under its class name
        y = next(i for i, line in enumerate(lines) if (m := ROW.match(line)) and m["label"] == "4")
        await pilot.click(matrix, offset=(x, y))
        assert matrix.cursor == (4, 7) and not host.chosen
        await pilot.click(matrix, offset=(x, y))
        await pilot.pause()
        assert host.chosen == [(4, 7)] and isinstance(host.screen, GalleryScreen)

    on_matrix(view, body)


def test_ascii_mode_is_pure_ascii_and_marks_the_diagonal(view: RunView) -> None:
    test = last_test(view)

    def body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        lines = text_of(matrix)
        assert all(line.isascii() for line in lines)
        counts, _, cursor = shown_matrix(lines)
        assert counts == [list(row) for row in test.confusion] and cursor == (2, 1)
        row_7 = next(line for line in lines if (m := ROW.match(line)) and m["label"] == "7")
        assert f"({test.confusion[7][7]})" in row_7 and " . " in row_7
        assert any("true 2 -> predicted 1: 58 of 116 (50.0%) - Enter" in line for line in lines)

    for size in (WIDE, COMPACT):
        on_matrix(view, body, size=size, glyphs=ASCII)


FASHION = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def untrained_full_mnist() -> list[list[int]]:
    """A 10,000-digit pass where almost everything is taken for a 1: four-digit cells."""
    sizes = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
    rows = [[0] * 10 for _ in sizes]
    for t, size in enumerate(sizes):
        rows[t][1] = size - 3
        rows[t][t] += 3
    rows[0][0], rows[0][1] = 9716, 12345  # beyond any real cell: still readable
    return rows


@pytest.mark.parametrize("size", [(120, 34), (80, 18), (60, 14), (40, 12), (20, 5), (1, 1), (0, 0)])
@pytest.mark.parametrize("glyphs", [UNICODE, ASCII], ids=["colour", "ascii"])
def test_picture_fits_any_size_with_long_names(size: tuple[int, int], glyphs: Glyphs) -> None:
    width, height = size
    confusion = untrained_full_mnist()
    picture = ConfusionPicture(
        confusion, FASHION, title="t", cursor=(3, 5), width=width, height=height, glyphs=glyphs
    )
    console = Console(width=max(1, width), color_system=None)
    lines = console.render_lines(picture, console.options, pad=False)
    assert all(Segment.get_line_length(line) <= max(1, width) for line in lines)
    if size in ((120, 34), (80, 18)):
        text = ["".join(s.text for s in line) for line in lines]
        assert len(text) <= height
        assert sum(bool(re.search(r"\d\.\d%", line)) for line in text) == 10  # every row
        first_row = next(line for line in text if line.startswith("T-shirt/top"))
        assert "9716" in first_row and ("12345" if width == 120 else "12k") in first_row
        assert "1135" in "".join(text) and " 1029 " in "".join(text)


# -- the gallery ----------------------------------------------------------------------------
def test_mistakes_for_keeps_one_pair_most_confident_first(view: RunView) -> None:
    test = last_test(view)
    chosen = mistakes_for(test, 2, 1)
    assert {m.index for m in chosen} == {
        m.index for m in test.mistakes if m.label == 2 and m.predicted == 1
    }
    assert len(chosen) == 58
    assert [m.confidence for m in chosen] == sorted((m.confidence for m in chosen), reverse=True)
    assert mistakes_for(test, 3, 3) == [] and mistakes_for(test, 1, 0) == []


def gallery_of(view: RunView, true: int, predicted: int, *, images: bool = True) -> GalleryScreen:
    """A gallery built from plain data: the whole pass's mistakes, the images, the names."""
    test = last_test(view)
    return GalleryScreen(
        true,
        predicted,
        test.mistakes,
        view.test_images if images else None,
        view.classes,
        correct=test.confusion[true][true],
        epoch=test.epoch,
    )


def on_gallery(
    gallery: GalleryScreen,
    body: GalleryBody,
    size: tuple[int, int] = (120, 40),
    glyphs: Glyphs = UNICODE,
) -> None:
    async def run(pilot: Pilot[object]) -> None:
        await pilot.pause()
        result = body(pilot, gallery)
        if inspect.isawaitable(result):
            await result

    drive(GalleryHost(gallery, glyphs), run, size)


@pytest.mark.parametrize("pair", [(4, 7), (0, 6)], ids=["33-digits", "4-digits"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_gallery_draws_exactly_the_pairs_test_images(
    view: RunView, pair: tuple[int, int], size: tuple[int, int]
) -> None:
    test, images = last_test(view), view.test_images
    assert images is not None
    wanted = [m for m in test.mistakes if (m.label, m.predicted) == pair]
    by_confidence = [m.index for m in sorted(wanted, key=lambda m: (-m.confidence, m.index))]

    def pixels(index: int, side: int) -> npt.NDArray[np.float32]:
        raw = images[index].numpy().astype(np.float32)
        return raw if side == 28 else raw.reshape(14, 2, 14, 2).mean(axis=(1, 3))

    def body(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        assert list(gallery.indices) == by_confidence
        wall = gallery.query_one(DigitWall)
        assert wall.pixels in (28, 14)
        for k, index in enumerate(by_confidence):
            np.testing.assert_allclose(wall.tile_image(k), pixels(index, wall.pixels), atol=1e-4)
        # What is drawn: each tile of the first row is that digit, under "#index nn%".
        lines = text_of(wall)
        step = wall.tile_width + 2
        for k, index in enumerate(by_confidence[: wall.per_row]):
            left = k * step + (wall.tile_width - wall.pixels) // 2
            shown = [line[left : left + wall.pixels] for line in lines[1 : wall.tile_height]]
            art = Heatmap(pixels(index, wall.pixels), vmin=0, vmax=255, glyphs=ASCII)
            assert shown == [line[0].text for line in art.lines()]
            confidence = next(m.confidence for m in wanted if m.index == index)
            caption = lines[0][k * step : k * step + wall.tile_width].strip()
            assert caption == f"#{index} {confidence:.0%}"

    on_gallery(gallery_of(view, *pair), body, size, glyphs=ASCII)


def test_gallery_explains_an_empty_cell(view: RunView) -> None:
    test = last_test(view)
    assert test.confusion[1][0] == 0

    def diagonal(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        title = str(gallery.query_one("#gallery-title").render())
        assert (
            title == f"true 3 predicted as 3 — these are the correct ones: {test.confusion[3][3]}"
        )
        assert not gallery.query(DigitWall) and gallery.indices == ()
        assert "pick a cell off the diagonal" in str(gallery.query_one("#gallery-empty").render())

    def none(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        assert str(gallery.query_one("#gallery-title").render()).endswith("— no mistakes here")
        assert not gallery.query(DigitWall)

    on_gallery(gallery_of(view, 3, 3), diagonal)
    on_gallery(gallery_of(view, 1, 0), none)


def test_gallery_without_images_lists_the_indices(view: RunView) -> None:
    def body(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        assert "not available" in str(gallery.query_one("#gallery-note").render())
        wall = gallery.query_one(DigitWall)
        text = " ".join(text_of(wall))
        assert all(f"#{index} · " in text for index in gallery.indices[:20])
        assert len(gallery.indices) == 33

    on_gallery(gallery_of(view, 4, 7, images=False), body)


def test_before_training_a_cell_of_many_digits_builds_only_what_is_seen(
    events: list[Event],
) -> None:
    first = view_until(events, 1)
    test = last_test(first)
    assert test.confusion[2][1] == 115

    async def body(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        wall = gallery.query_one(DigitWall)
        assert len(gallery.indices) == 115 and wall.pixels == 14
        visible = wall.size.height // wall.pitch + 1
        assert wall.rows_built <= set(range(visible))
        await pilot.press("end")
        await pilot.pause()
        last = gallery.indices[-1]
        assert any(f"#{last} · " in line for line in text_of(wall))
        assert len(wall.rows_built) < wall.row_count

    on_gallery(
        GalleryScreen.from_test(test, 2, 1, images=first.test_images, classes=first.classes), body
    )


def test_gallery_text_is_pure_ascii_in_ascii_mode(view: RunView) -> None:
    def body(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        for widget in gallery.query("#gallery-title, #gallery-help, #gallery-wall"):
            assert all(line.isascii() for line in text_of(widget))

    on_gallery(gallery_of(view, 4, 7), body, glyphs=ASCII)


def test_tiny_terminals_do_not_break_either(view: RunView) -> None:
    async def matrix_body(pilot: Pilot[object], host: MatrixHost, matrix: ConfusionMatrix) -> None:
        assert text_of(matrix)[0].startswith("test after")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(host.screen, GalleryScreen)
        wall = host.screen.query_one(DigitWall)
        assert wall.per_row == 1 and wall.pixels == 14

    def gallery_body(pilot: Pilot[object], gallery: GalleryScreen) -> None:
        assert gallery.query_one(DigitWall).per_row >= 1

    on_matrix(view, matrix_body, size=((30, 8), (20, 5)))
    on_gallery(gallery_of(view, 4, 7), gallery_body, size=(12, 4))


# -- snapshots ------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [WIDE, COMPACT], ids=["120x40", "80x24"])
def test_snapshot_matrix(snap_compare: SnapCompare, view: RunView, size: Sizes) -> None:
    terminal, pane = size
    assert snap_compare(MatrixHost(view, pane), terminal_size=terminal)


def test_snapshot_matrix_ascii(snap_compare: SnapCompare, view: RunView) -> None:
    assert snap_compare(MatrixHost(view, (120, 34), glyphs=ASCII), terminal_size=(120, 40))


@pytest.mark.parametrize("size", [WIDE, COMPACT], ids=["120x40", "80x24"])
def test_snapshot_gallery(snap_compare: SnapCompare, view: RunView, size: Sizes) -> None:
    terminal, pane = size
    keys = ["down", "down", *["right"] * 6, "enter"]  # 4 taken for 7
    assert snap_compare(MatrixHost(view, pane), terminal_size=terminal, press=keys)


def test_snapshot_gallery_of_a_few_digits(snap_compare: SnapCompare, view: RunView) -> None:
    keys = ["k", "k", *["l"] * 5, "enter"]  # 0 taken for 6: whole digits
    assert snap_compare(MatrixHost(view, (120, 34)), terminal_size=(120, 40), press=keys)
