"""A Picture gives the very strips Textual makes of the same parts in a Rich ``Group``: the
same segments, styles and cropping (the heatmap widgets' snapshots rest on it)."""

from __future__ import annotations

import pytest
import torch
from rich.console import Group
from rich.text import Text
from textual.pilot import Pilot
from textual.strip import Strip
from textual.visual import Visual, visualize

from cnn_tui.render import ASCII, UNICODE, TileGrid, digit_tile, legend, map_tile
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay
from cnn_tui.tui.widgets.feature_maps import FeatureMaps
from cnn_tui.tui.widgets.picture import Picture
from tests.helpers import drive


def cells(strips: list[Strip]) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in strip] for strip in strips]


def parts(ascii_glyphs: bool) -> list[object]:
    glyphs = ASCII if ascii_glyphs else UNICODE
    torch.manual_seed(0)
    digits = [digit_tile(torch.rand(28, 28), truth=7, pred=p, glyphs=glyphs) for p in (7, 1)]
    maps = [map_tile(torch.rand(12, 12), 12, glyphs=glyphs) for _ in range(5)]
    header = Text("conv1 -> ReLU, 10 maps: a caption longer than a narrow widget", style="bold")
    header.no_wrap, header.overflow = True, "ellipsis"
    return [
        header,
        Text(""),  # a blank line: Rich renders it as an empty segment, which must stay
        legend(-1.0, 1.0, signed=True, width=12, glyphs=glyphs),
        TileGrid([*digits, *maps], gap=1, row_gap=1, glyphs=glyphs),
    ]


@pytest.mark.parametrize("ascii_glyphs", [False, True], ids=["unicode", "ascii"])
def test_a_picture_is_drawn_as_its_parts_in_a_group(ascii_glyphs: bool) -> None:
    app = CnnTuiApp(replay([]))

    async def body(pilot: Pilot[object]) -> None:
        host = app.screen.query_one(FeatureMaps)  # its style is the base of both
        for width, height in ((100, 40), (40, 40), (15, 40), (60, 6)):  # cropped, cut short
            picture = Picture(app, *parts(ascii_glyphs))
            group = visualize(host, Group(*picture.parts))
            ours = Visual.to_strips(host, picture, width, height, host.visual_style)
            rich = Visual.to_strips(host, group, width, height, host.visual_style)
            assert cells(ours) == cells(rich), (width, height)
            assert len(ours) == min(height, picture.get_height(host.styles, width))

    drive(app, body)
