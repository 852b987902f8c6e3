"""Tests for cnn_tui.render: what the renderables really draw, read back from a recording
console (text, and the styles of the segments) at fixed widths."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from rich.cells import cell_len
from rich.color import Color
from rich.console import Console, RenderableType
from rich.segment import Segment

from cnn_tui.render import (
    ASCII,
    ASCII_RAMP,
    NEGATIVE_RAMP,
    POSITIVE_RAMP,
    UNICODE,
    UPPER_HALF,
    Glyphs,
    Heatmap,
    ProbBars,
    Tile,
    TileGrid,
    ascii_default,
    digit_tile,
    get_palette,
    legend,
    value_range,
)

RGB = tuple[int, int, int]


def make_console(width: int = 80) -> Console:
    return Console(width=width, color_system="truecolor", record=True, file=io.StringIO())


def render_text(renderable: RenderableType, width: int = 80) -> list[str]:
    """The printed lines, without styles."""
    console = make_console(width)
    console.print(renderable)
    return console.export_text(styles=False).splitlines()


def render_segments(renderable: RenderableType, width: int = 80) -> list[list[Segment]]:
    """The printed lines as segments (text with style), control segments dropped."""
    console = make_console(width)
    return [
        [s for s in line if s.text]
        for line in console.render_lines(renderable, console.options, pad=False)
    ]


def rgb(color: Color | None) -> RGB | None:
    if color is None:
        return None
    red, green, blue = color.get_truecolor()
    return (red, green, blue)


def cell_colours(line: list[Segment]) -> list[tuple[RGB | None, RGB | None]]:
    """(foreground, background) RGB per cell of a rendered line."""
    out: list[tuple[RGB | None, RGB | None]] = []
    for segment in line:
        style = segment.style
        assert style is not None
        out.extend([(rgb(style.color), rgb(style.bgcolor))] * cell_len(segment.text))
    return out


def digit() -> np.ndarray:
    """A synthetic 28x28 "1": a bright vertical stroke on black, values in [0, 1]."""
    image = np.zeros((28, 28), dtype=np.float32)
    image[4:24, 13:15] = 1.0
    image[4:6, 11:13] = 0.5
    return image


# --- Heatmap, colour mode ----------------------------------------------------------------


def test_digit_is_14_rows_of_28_half_blocks() -> None:
    lines = render_text(Heatmap(digit()))
    assert len(lines) == 14
    assert all(line == UPPER_HALF * 28 for line in lines)


def test_half_block_upper_pixel_is_foreground_lower_is_background() -> None:
    (line,) = render_segments(Heatmap(np.array([[0.0], [1.0]])))
    assert [s.text for s in line] == [UPPER_HALF]
    assert cell_colours(line) == [((0, 0, 0), (255, 255, 255))]
    (flipped,) = render_segments(Heatmap(np.array([[1.0], [0.0]])))
    assert cell_colours(flipped) == [((255, 255, 255), (0, 0, 0))]


def test_truecolor_escape_codes_in_recorded_output() -> None:
    console = make_console()
    console.print(Heatmap(np.array([[0.0], [1.0]])))
    assert "\x1b[38;2;0;0;0;48;2;255;255;255m" + UPPER_HALF in console.export_text(styles=True)


def test_pixels_map_through_the_palette_in_their_columns() -> None:
    image = np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]])
    (line,) = render_segments(Heatmap(image))
    gray = get_palette("gray").rgb
    mid = tuple(int(v) for v in gray[127])
    assert cell_colours(line) == [
        ((0, 0, 0), (255, 255, 255)),
        (mid, mid),
        ((255, 255, 255), (0, 0, 0)),
    ]
    assert 120 <= mid[0] <= 135


def test_odd_height_leaves_last_background_unset() -> None:
    lines = render_segments(Heatmap(np.array([[0.0], [1.0], [1.0]])))
    assert len(lines) == 2
    assert cell_colours(lines[1]) == [((255, 255, 255), None)]


def test_signed_uses_diverging_palette_with_neutral_zero() -> None:
    (line,) = render_segments(Heatmap(np.array([[-2.0, 0.0, 2.0], [-2.0, 0.0, 2.0]]), signed=True))
    (neg, _), (zero, _), (pos, _) = cell_colours(line)
    assert zero == (247, 247, 247)
    assert neg is not None and neg[2] > neg[0]  # blue end
    assert pos is not None and pos[0] > pos[2]  # red end


def test_signed_zero_is_neutral_even_when_data_is_lopsided() -> None:
    (line,) = render_segments(Heatmap(np.array([[0.0, 0.1], [5.0, 0.0]]), signed=True))
    assert cell_colours(line)[0][0] == (247, 247, 247)
    assert cell_colours(line)[1][1] == (247, 247, 247)


def test_magma_palette_is_dark_to_bright() -> None:
    (line,) = render_segments(Heatmap(np.array([[0.0], [1.0]]), palette="magma"))
    ((low, high),) = cell_colours(line)
    assert low is not None and high is not None
    assert sum(low) < 30 and sum(high) > 600


def test_unknown_palette_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown palette"):
        Heatmap(np.zeros((2, 2)), palette="rainbow")


def test_scale_magnifies_both_axes() -> None:
    lines = render_text(Heatmap(digit(), scale=2), width=100)
    assert len(lines) == 28
    assert all(cell_len(line) == 56 for line in lines)


def test_wider_than_console_is_cropped_not_wrapped() -> None:
    lines = render_text(Heatmap(digit()), width=20)
    assert len(lines) == 14
    assert all(cell_len(line) == 20 for line in lines)


def test_torch_tensor_renders_like_numpy_and_leading_axes_drop() -> None:
    image = digit()
    from_numpy = render_segments(Heatmap(image))
    from_torch = render_segments(Heatmap(torch.from_numpy(image).unsqueeze(0)))
    assert cell_colours(from_numpy[5]) == cell_colours(from_torch[5])
    assert len(from_torch) == 14


def test_tensor_requiring_grad_is_accepted() -> None:
    weight = torch.randn(5, 5, requires_grad=True)
    assert len(render_text(Heatmap(weight, signed=True))) == 3


def test_three_dimensional_stack_is_rejected() -> None:
    with pytest.raises(ValueError, match="2-D"):
        Heatmap(np.zeros((3, 4, 4)))


def test_one_dimensional_vector_is_one_row() -> None:
    lines = render_text(Heatmap(np.linspace(0, 1, 50)))
    assert lines == [UPPER_HALF * 50]


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("value", [0.0, 3.0, -2.0])
def test_constant_input_does_not_divide_by_zero(value: float, signed: bool) -> None:
    (line,) = render_segments(Heatmap(np.full((2, 4), value), signed=signed))
    colours = set(cell_colours(line))
    assert len(colours) == 1
    ((fg, bg),) = colours
    assert fg == bg
    if signed and value == 0.0:
        assert fg == (247, 247, 247)


def test_nan_and_inf_do_not_crash() -> None:
    image = np.array([[np.nan, 1.0], [0.0, np.inf]])
    assert len(render_text(Heatmap(image))) == 1
    assert len(render_text(Heatmap(image, glyphs=ASCII))) == 1


def test_vmin_vmax_clamp_values_outside_the_range() -> None:
    (line,) = render_segments(Heatmap(np.array([[-5.0, 0.5], [5.0, 0.5]]), vmin=0.0, vmax=1.0))
    gray = get_palette("gray").rgb
    mid = tuple(int(v) for v in gray[127])
    assert cell_colours(line) == [((0, 0, 0), (255, 255, 255)), (mid, mid)]


def test_value_range_defaults() -> None:
    data = np.array([[-1.0, 3.0]], dtype=np.float32)
    assert value_range(data, signed=False) == (-1.0, 3.0)
    assert value_range(data, signed=True) == (-3.0, 3.0)
    assert value_range(data, signed=True, vmax=2.0) == (-2.0, 2.0)
    assert value_range(data, signed=False, vmin=0.0) == (0.0, 3.0)


# --- Heatmap, ASCII mode -----------------------------------------------------------------


def test_ascii_maps_min_to_space_and_max_to_at() -> None:
    image = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.5]])
    assert render_text(Heatmap(image, glyphs=ASCII)) == [" @" + ASCII_RAMP[5]]


def test_ascii_output_is_pure_ascii_without_styles() -> None:
    console = make_console()
    console.print(Heatmap(np.random.default_rng(0).random((28, 28)), glyphs=ASCII))
    styled = console.export_text(styles=True)
    assert styled.isascii()
    assert "\x1b" not in styled


def test_ascii_digit_has_colour_mode_footprint_and_shows_the_stroke() -> None:
    lines = render_text(Heatmap(digit(), glyphs=ASCII))
    assert len(lines) == 14
    assert all(len(line) == 28 for line in lines)
    assert lines[0] == " " * 28
    assert lines[5][13:15] == "@@"
    assert set(lines[5][:13] + lines[5][15:]) == {" "}


def test_ascii_averages_row_pairs() -> None:
    # upper pixel at max, lower at min: the cell shows the half-strength ramp character
    lines = render_text(Heatmap(np.array([[1.0, 0.0], [0.0, 0.0]]), glyphs=ASCII))
    assert lines == [ASCII_RAMP[5] + " "]
    # an odd last row stands alone
    assert render_text(Heatmap(np.array([[0.0], [0.0], [1.0]]), glyphs=ASCII)) == [" ", "@"]


def test_ascii_signed_distinguishes_negative_from_positive() -> None:
    row = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    (line,) = render_text(Heatmap(np.stack([row, row]), signed=True, glyphs=ASCII))
    assert line == f"{NEGATIVE_RAMP[-1]}{NEGATIVE_RAMP[3]} {POSITIVE_RAMP[3]}{POSITIVE_RAMP[-1]}"
    assert set(NEGATIVE_RAMP.strip()).isdisjoint(POSITIVE_RAMP.strip())


def test_ascii_signed_sign_of_every_cell_is_readable() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=(12, 12)).astype(np.float32)
    data[1::2] = data[0::2]  # row pairs equal, so each cell has one sign
    lines = render_text(Heatmap(data, signed=True, glyphs=ASCII))
    for r, line in enumerate(lines):
        for c, char in enumerate(line):
            if char != " ":
                expected = POSITIVE_RAMP if data[2 * r, c] > 0 else NEGATIVE_RAMP
                assert char in expected


def test_ascii_constant_input_is_blank() -> None:
    assert render_text(Heatmap(np.full((4, 6), 7.0), glyphs=ASCII)) == [" " * 6] * 2


def test_ascii_default_follows_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert ascii_default() is False
    monkeypatch.setenv("NO_COLOR", "")
    assert ascii_default() is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert ascii_default() is True


# --- legend ------------------------------------------------------------------------------


def test_legend_shows_range_and_palette() -> None:
    (text,) = render_text(legend(-0.5, 2.0, width=20))
    assert text.startswith("-0.5 ") and text.endswith(" 2")
    assert len(text) == 20
    (line,) = render_segments(legend(0.0, 1.0, width=12))
    backgrounds = [bg for _, bg in cell_colours(line) if bg is not None]
    assert backgrounds[0] == (0, 0, 0) and backgrounds[-1] == (255, 255, 255)


def test_legend_ascii_uses_the_ramps() -> None:
    (text,) = render_text(legend(-1.0, 1.0, signed=True, width=20, glyphs=ASCII))
    assert text.isascii()
    bar = text[len("-1 ") : -len(" 1")]
    assert bar[0] == NEGATIVE_RAMP[-1] and bar[-1] == POSITIVE_RAMP[-1]
    assert Heatmap(np.eye(3), glyphs=ASCII).legend(16).plain.startswith("0 ")


# --- prob bars ---------------------------------------------------------------------------


PROBS = [0.0, 0.02, 0.9, 0.0, 0.0, 0.08, 0.0, 0.0, 0.0, 0.0]


def test_prob_bars_mark_the_highlight_and_scale_bars() -> None:
    lines = render_text(ProbBars(PROBS, highlight=2, width=40))
    assert len(lines) == 10
    assert all(cell_len(line) == 40 for line in lines)
    assert [line[0] for line in lines] == [" ", " ", ">"] + [" "] * 7
    assert lines[2].startswith(">2 ") and lines[2].endswith(" 90.0%")
    bar_width = 40 - 1 - 6 - 3
    assert lines[2][3 : 3 + bar_width].count("█") == round(0.9 * bar_width)
    assert lines[0][3 : 3 + bar_width].strip() == ""


def test_prob_bars_highlight_is_styled_in_colour() -> None:
    segments = render_segments(ProbBars(PROBS, highlight=2, width=40))
    assert any(s.style is not None and s.style.bold for s in segments[2])
    assert not any(s.style is not None and s.style.bold for s in segments[3])


def test_prob_bars_ascii_is_plain_with_marker() -> None:
    console = make_console()
    console.print(ProbBars(PROBS, highlight=5, width=30, glyphs=ASCII))
    styled = console.export_text(styles=True)
    assert styled.isascii() and "\x1b" not in styled
    lines = styled.splitlines()
    assert lines[5].startswith(">5 ") and "#" in lines[5]
    assert lines[2].startswith(" 2 ")


def test_prob_bars_long_labels_are_cut_and_fit_width() -> None:
    labels = [f"class number {i}" for i in range(10)]
    lines = render_text(ProbBars(PROBS, labels, highlight=0, width=30))
    assert all(cell_len(line) == 30 for line in lines)
    assert lines[0].startswith(">class num")


def test_prob_bars_fill_the_given_space_by_default() -> None:
    lines = render_text(ProbBars(torch.tensor(PROBS)), width=50)
    assert all(cell_len(line) == 50 for line in lines)


# --- grid --------------------------------------------------------------------------------


def twelve_tiles(glyphs: Glyphs = UNICODE) -> list[Tile]:
    return [
        digit_tile(
            digit(), truth=i % 10, pred=(i if i != 4 else 9) % 10, confidence=0.98, glyphs=glyphs
        )
        for i in range(12)
    ]


def test_grid_wraps_tiles_to_the_width() -> None:
    # tile 28 wide, gap 2: 3 fit in 90 cells, 4 rows of (2 titles + 14 digit lines) + gaps
    lines = render_text(TileGrid(twelve_tiles()), width=90)
    assert len(lines) == 4 * 16 + 3
    assert max(cell_len(line) for line in lines) == 3 * 28 + 2 * 2
    assert lines[0].count("Ground Truth:") == 3
    wide = render_text(TileGrid(twelve_tiles()), width=200)
    assert len(wide) == 2 * 16 + 1
    assert wide[0].count("Ground Truth:") == 6


def test_grid_respects_explicit_width() -> None:
    lines = render_text(TileGrid(twelve_tiles(), width=60), width=200)
    assert lines[0].count("Ground Truth:") == 2


def test_grid_titles_and_wrong_marks() -> None:
    lines = render_text(TileGrid(twelve_tiles()), width=90)
    titles = [title.strip() for title in lines[0].split("  ") if title.strip()]
    assert titles == ["Ground Truth: 0", "Ground Truth: 1", "Ground Truth: 2"]
    assert "pred 0 (98%) ✓" in lines[1]
    second_row_captions = lines[16 + 1 + 1]
    assert "pred 9 (98%) ✗" in second_row_captions  # tile 4 is wrong


def test_grid_ascii_is_pure_ascii_with_x_for_mistakes() -> None:
    console = make_console(90)
    console.print(TileGrid(twelve_tiles(ASCII), glyphs=ASCII))
    styled = console.export_text(styles=True)
    assert styled.isascii() and "\x1b" not in styled
    assert "pred 9 (98%) x" in styled
    assert "pred 0 (98%)" in styled and "pred 0 (98%) x" not in styled  # correct: no mark


def test_grid_at_narrow_width_cuts_titles_instead_of_wrapping() -> None:
    tiles = [Tile(Heatmap(digit()), title="A very long title for a tile", caption="pred 1")]
    lines = render_text(TileGrid(tiles), width=20)
    assert len(lines) == 2 + 14
    assert all(cell_len(line) <= 20 for line in lines)
    assert lines[0].endswith("…")
    ascii_lines = render_text(TileGrid(tiles, glyphs=ASCII), width=20)
    assert ascii_lines[0] == "A very long title fo"


def test_grid_centres_narrow_bodies_and_accepts_any_renderable() -> None:
    tiles = [
        Tile(Heatmap(np.ones((4, 4))), title="#1"),
        Tile("text body", title="#2"),
    ]
    lines = render_text(TileGrid(tiles, gap=1), width=80)
    assert lines[0].split() == ["#1", "#2"]
    # tile width 9 (the text body); the 4-wide heatmap sits 2 cells in
    assert lines[1] == "  " + UPPER_HALF * 4 + "   " + " " + "text body"


def test_empty_grid_renders_nothing() -> None:
    assert render_text(TileGrid([])) == []


@pytest.mark.parametrize("palette", ["gray", "magma", "diverging"])
def test_every_cell_matches_the_palette_on_first_and_cached_render(palette: str) -> None:
    rng = np.random.default_rng(7)
    image = rng.random((9, 13)).astype(np.float32)
    image[2:4, 3:9] = 0.25  # some runs of equal pairs
    table = get_palette(palette).rgb
    levels = np.rint(image * 254).astype(int)  # vmin=0, vmax=1 below: level = value * 254
    for _ in range(2):
        lines = render_segments(Heatmap(image, vmin=0.0, vmax=1.0, palette=palette))
        assert len(lines) == 5
        for r, line in enumerate(lines):
            cells = cell_colours(line)
            assert len(cells) == 13
            for c, (fg, bg) in enumerate(cells):
                assert fg == tuple(int(v) for v in table[levels[2 * r, c]])
                if 2 * r + 1 < 9:
                    assert bg == tuple(int(v) for v in table[levels[2 * r + 1, c]])
                else:
                    assert bg is None


def test_render_package_imports_neither_textual_nor_torch() -> None:
    code = "import sys, cnn_tui.render; print(sorted({'textual', 'torch'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
