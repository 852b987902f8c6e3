"""Charts drawn from plotext's matrix give the very strips textual-plotext's ANSI round trip
gives: the same text in the same segments, in the same styles (the snapshots rest on it)."""

from __future__ import annotations

import random

import pytest
from plotext._matrix import matrix_class
from rich.text import Text
from textual.pilot import Pilot
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual_plotext import PlotextPlot

from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.widgets.charts import AccuracyChart, CurvesChart, LossChart
from cnn_tui.tui.widgets.plot_strips import PlotStrips
from tests.helpers import drive
from tests.recordings import Replayed

# keys that change what the charts draw: time axis, log scale, smoothing + band, ASCII glyphs
MODES = [(), ("t",), ("l",), ("v",), ("a",), ("a", "t", "v")]


def cells(strips: list[Strip]) -> list[list[tuple[str, object, object]]]:
    """Each line's segments: text, style and its meta (the offsets text selection reads)."""
    return [[(s.text, s.style, s.style and s.style.meta) for s in strip] for strip in strips]


def through_ansi(chart: CurvesChart) -> list[Strip]:
    """The chart as textual-plotext draws it: plotext's ANSI string parsed back."""
    chart.plot_view(chart.view)
    visual = visualize(chart, PlotextPlot.render(chart))
    return Visual.to_strips(chart, visual, *chart.size, chart.visual_style)


@pytest.mark.parametrize("keys", MODES, ids=["-".join(k) or "default" for k in MODES])
def test_matrix_strips_equal_the_ansi_round_trip(
    dashboard_demo: Replayed, keys: tuple[str, ...]
) -> None:
    events = dashboard_demo.events
    app = CnnTuiApp(replay(events))

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        await pilot.press(*keys)
        app.redraw(force=True)
        await pilot.pause()
        for chart in (app.screen.query_one(LossChart), app.screen.query_one(AccuracyChart)):
            visual = chart.draw(chart.view)
            assert isinstance(visual, PlotStrips)
            ours = Visual.to_strips(chart, visual, *chart.size, chart.visual_style)
            assert cells(ours) == cells(through_ansi(chart))
            assert sum(len(runs) for runs in visual.rows) > len(visual.rows)  # colours, runs

    drive(app, body)


def random_matrix(rng: random.Random, cols: int, rows: int) -> matrix_class:
    """A plotext character matrix in mixed colours: names, numbers, RGB, styles, none, and
    a style plotext does not know (no escape sequence, like no colour at all)."""
    colours = ["default", "red", 33, (10, 200, 30)]
    styles = ["default", "bold", "not-a-style"]
    matrix = matrix_class()
    matrix.set_size(cols, rows)
    matrix.set_matrices()
    for r in range(rows):
        for c in range(cols):
            matrix.insert_element(
                c, r, rng.choice(" .x⠉●"), rng.choice(colours), rng.choice(styles),
                rng.choice(colours),
            )  # fmt: skip
    return matrix


def test_any_matrix_gives_the_strips_of_its_ansi_string() -> None:
    app = CnnTuiApp(replay([]))

    async def body(pilot: Pilot[object]) -> None:
        chart = app.screen.query_one(LossChart)
        width, height = chart.size
        rng = random.Random(7)
        for _ in range(20):
            matrix = random_matrix(rng, width, height)
            ansi = visualize(chart, Text.from_ansi(matrix.set_canvas()))
            expected = Visual.to_strips(chart, ansi, width, height, chart.visual_style)
            ours = PlotStrips.from_matrix(matrix)
            got = Visual.to_strips(chart, ours, width, height, chart.visual_style)
            assert cells(got) == cells(expected)

    drive(app, body)
