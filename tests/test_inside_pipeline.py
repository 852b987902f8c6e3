"""The "Inside the CNN" pipeline and filter panels, on a recorded real run.

Text checks read what the widget draws (its render, printed by a plain rich Console at the
widget's real size inside a minimal App), so they see what a user sees. Snapshots host each
panel in an App whose spare lines match the Inside screen's (status line, tab strip,
footer), so the panel gets the pane's real size: ~120×34 at 120×40, 80×18 at 80×24.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Awaitable, Callable

import pytest
import torch
from rich.console import Console, Group
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer, Static

from cnn_tui.engine.events import Event, ProbeTaken
from cnn_tui.model import STAGES
from cnn_tui.render import ASCII, UNICODE, Glyphs, Heatmap, TileGrid
from cnn_tui.render.stage_fit import plan
from cnn_tui.runview import RunView
from cnn_tui.tui.glyphs_app import GlyphsApp
from cnn_tui.tui.replay import final_view
from cnn_tui.tui.widgets.base import ViewWidget
from cnn_tui.tui.widgets.filters import FilterView
from cnn_tui.tui.widgets.picture import Picture
from cnn_tui.tui.widgets.pipeline import ROWS, PipelineView, shape_text, stage_rows
from tests.helpers import drive
from tests.recordings import Replayed

SnapCompare = Callable[..., bool]
CHROME = 6  # lines the Inside screen keeps for itself: status, tabs (3), pane border, footer
ORDER = [name for row in ROWS for name in row]
CAPTIONS = [f"{name} {shape_text(STAGES[name][1])}" for name in ORDER]


@pytest.fixture(scope="session")
def events(inside_demo: Replayed) -> list[Event]:
    return inside_demo.events


@pytest.fixture
def view(events: list[Event]) -> RunView:
    return final_view(events)


class Host(GlyphsApp[object]):
    """One panel under a stand-in for the Inside screen's status line and tabs."""

    CSS = f"#chrome {{ height: {CHROME - 1}; color: $text-muted; }} #panel {{ height: 1fr; }}"

    def __init__(self, panel: Widget, view: RunView, glyphs: Glyphs = UNICODE) -> None:
        super().__init__()
        self.panel, self.view, self.glyphs = panel, view, glyphs

    def compose(self) -> ComposeResult:
        yield Static("(status line and tabs of the Inside screen)", id="chrome")
        yield self.panel
        yield Footer()

    def on_mount(self) -> None:
        self.animation_level = "none"
        self.panel.focus()
        self.redraw()

    def redraw(self) -> None:
        assert isinstance(self.panel, ViewWidget)
        self.panel.sync(self.view, None)


def text_of(widget: Widget) -> str:
    """What the widget draws, as plain text at its size."""
    width = max(1, widget.size.width)
    console = Console(width=width, color_system=None, record=True, file=io.StringIO())
    rendered = widget.render()
    if isinstance(rendered, Picture):  # its parts, stacked as the Picture stacks them
        rendered = Group(*rendered.parts)
    console.print(rendered, crop=True)
    return console.export_text()


def in_host(
    panel: Widget,
    view: RunView,
    body: Callable[[Pilot[object], Widget], Awaitable[None]],
    size: tuple[int, int] = (120, 40),
    glyphs: Glyphs = UNICODE,
) -> None:
    async def run(pilot: Pilot[object]) -> None:
        await pilot.pause()
        await body(pilot, panel)

    drive(Host(panel, view, glyphs), run, size)


def caption_positions(text: str) -> dict[str, tuple[int, int]]:
    """(line, column) of each stage caption found in ``text``."""
    found: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines()):
        for caption in CAPTIONS:
            column = line.find(caption)
            if column >= 0:
                found[caption] = (number, column)
    return found


# -- the pipeline -----------------------------------------------------------------------------
def test_pipeline_shows_every_stage_with_its_step_and_shape_in_order(view: RunView) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        text = text_of(panel)
        where = caption_positions(text)
        assert set(where) == set(CAPTIONS)
        assert sorted(where.values()) == [where[c] for c in CAPTIONS]  # top rows first, then left
        first_row = {where[f"{n} {shape_text(STAGES[n][1])}"][0] for n in ROWS[0]}
        second_row = {where[f"{n} {shape_text(STAGES[n][1])}"][0] for n in ROWS[1]}
        (first_line,), (second_line,) = first_row, second_row  # each row on one line...
        assert first_line < second_line  # ...the convolutions above the full connections
        steps = re.findall(r"\d [A-Z][a-zA-Z]*(?: [a-zA-Z+]+)*", text)
        assert steps == [
            "1 Convolution",
            "2 ReLU + pooling",
            "1 Convolution",
            "2 ReLU + pooling",
            "3 Flattening",
            "4 Full connection",
            "4 Full connection",
        ]
        assert "input 28×28" in text and "flatten 320" in text and "probs 10" in text
        assert text.count("→") >= 7  # an arrow between every two blocks of a row

    in_host(PipelineView(id="panel"), view, body)


def test_pipeline_pages_through_every_stage_at_80x24(view: RunView) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        assert isinstance(panel, PipelineView)
        assert tuple(panel.size) == (80, 18)
        pages = panel.page_count
        assert pages > 1
        seen: list[str] = []
        for number in range(1, pages + 1):
            text = text_of(panel)
            assert f"page {number}/{pages}" in text.splitlines()[0]
            seen += sorted(caption_positions(text), key=CAPTIONS.index)
            await pilot.press("right")
        assert seen == CAPTIONS  # every stage once, in order
        assert panel.page == 0  # wrapped around
        await pilot.press("left")
        assert panel.page == pages - 1

    in_host(PipelineView(id="panel"), view, body, size=(80, 24))


def test_one_page_needs_no_page_keys(view: RunView) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        assert isinstance(panel, PipelineView)
        assert panel.page_count == 1
        assert panel.check_action("page", (1,)) is False
        await pilot.press("right")
        assert panel.page == 0

    in_host(PipelineView(id="panel"), view, body)


def test_predicted_class_is_marked_in_the_bars(view: RunView) -> None:
    probe = view.probe
    assert probe is not None

    async def body(pilot: Pilot[object], panel: Widget) -> None:
        text = text_of(panel)
        marked = re.findall(r">(\d) .*?(\d+\.\d)%", text)
        assert marked == [(str(probe.prediction), f"{100 * probe.confidence:.1f}")]
        assert probe.prediction == int(probe.stages["probs"].argmax())
        header = text.splitlines()[0]
        assert f"test #{probe.index}, Ground Truth: {probe.label}" in header
        assert f"prediction {probe.prediction} ({probe.confidence:.0%})" in header

    in_host(PipelineView(id="panel"), view, body)


def drawn_from(probe: ProbeTaken, prediction: int) -> ProbeTaken:
    """A drawn-digit probe: the same tensors, told apart by its source and prediction."""
    return dataclasses.replace(probe, source="drawn", index=None, label=None, prediction=prediction)


def test_drawn_source_shows_the_drawn_probe(view: RunView) -> None:
    probe = view.probe
    assert probe is not None
    other = (probe.prediction + 1) % 10
    view.apply(drawn_from(probe, other))

    async def body(pilot: Pilot[object], panel: Widget) -> None:
        text = text_of(panel)
        assert text.splitlines()[0].startswith("your digit · prediction")
        assert "test #" not in text
        assert re.findall(r">(\d) ", text) == [str(other)]

    in_host(PipelineView(source="drawn", id="panel"), view, body)


def test_drawn_source_waits_for_a_drawing(view: RunView) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        assert text_of(panel).startswith("draw a digit")

    in_host(PipelineView(source="drawn", id="panel"), view, body)


class CountingPipeline(PipelineView):
    def __init__(self, source: str = "test") -> None:
        super().__init__(source=source)
        self.taken: list[ProbeTaken | None] = []

    def show(self, view: RunView) -> None:
        super().show(view)
        self.taken.append(view.drawn_probe if self.source == "drawn" else view.probe)


def test_pipeline_redraws_on_a_new_probe_and_only_then(events: list[Event]) -> None:
    probes = [e for e in events if isinstance(e, ProbeTaken)]
    view = RunView()
    for event in events[: events.index(probes[-2]) + 1]:
        view.apply(event)
    widget, drawn = CountingPipeline(), CountingPipeline(source="drawn")
    widget.sync(view, 10.0)
    drawn.sync(view, 10.0)
    assert widget.taken == [probes[-2]]
    widget.sync(view, 11.0)  # nothing new
    widget.sync(view, None)  # not even when forced
    assert widget.taken == [probes[-2]]
    view.apply(probes[-1])
    widget.sync(view, 11.5)  # new, but within 2 s of the last redraw
    assert len(widget.taken) == 1
    widget.sync(view, 12.0)
    assert widget.taken == [probes[-2], probes[-1]]
    drawn.sync(view, 12.0)  # the drawn view ignores test probes...
    assert drawn.taken == [None]
    view.apply(drawn_from(probes[-1], 3))
    widget.sync(view, 20.0)  # ...and the test view ignores drawings
    drawn.sync(view, 12.1)  # the drawn view last redrew at 10.0: a drawing shows
    assert len(widget.taken) == 2
    assert drawn.taken == [None, view.drawn_probe]


def test_pipeline_never_crashes_when_small(view: RunView) -> None:
    for size in [(40, 12), (20, 6), (8, 3)]:

        async def body(pilot: Pilot[object], panel: Widget, size: tuple[int, int] = size) -> None:
            text_of(panel)
            await pilot.resize_terminal(size[0] + 1, size[1] + 1)
            await pilot.pause()

        in_host(PipelineView(id="panel"), view, body, size=size)
    assert plan(stage_rows(UNICODE), 20, 5) is None


def test_a_diverged_network_still_draws(view: RunView) -> None:
    """A run that diverged sends probes full of NaN: both panels draw them, blank."""
    probe = view.probe
    assert probe is not None
    nan = float("nan")
    view.probe = dataclasses.replace(
        probe,
        stages={k: torch.full_like(v, nan) for k, v in probe.stages.items()},
        conv1_weight=torch.full_like(probe.conv1_weight, nan),
        conv2_weight=torch.full_like(probe.conv2_weight, float("inf")),
        confidence=nan,
    )

    async def body(pilot: Pilot[object], panel: Widget) -> None:
        text = text_of(panel)
        assert "conv1" in text

    for panel in (PipelineView(id="panel"), FilterView(id="panel")):
        in_host(panel, view, body)


def test_layout_plan_keeps_every_stage_at_the_pane_sizes() -> None:
    one = plan(stage_rows(UNICODE), 120, 33)
    assert one is not None and len(one.pages) == 1
    rows = [tuple(s.name for s in row.stages) for row in one.pages[0]]
    assert rows == list(ROWS)
    for row in one.pages[0]:
        assert row.width <= 120
        for stage, choice in zip(row.stages, row.choices, strict=True):
            assert choice.shown == stage.count or stage.kind != "maps"  # no map left out
            assert choice.pixels * 3 >= stage.side  # none shrunk more than threefold
    paged = plan(stage_rows(UNICODE), 80, 17)
    assert paged is not None and len(paged.pages) > 1
    names = [s.name for page in paged.pages for row in page for s in row.stages]
    assert names == ORDER


# -- the filters ------------------------------------------------------------------------------
def grids(widget: FilterView) -> list[TileGrid]:
    rendered = widget.render()
    assert isinstance(rendered, Picture)
    return [r for r in rendered.parts if isinstance(r, TileGrid)]


def test_filter_keys_step_through_conv2_and_wrap(view: RunView) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        assert isinstance(panel, FilterView)
        assert "conv2 filter 0/20" in text_of(panel)
        await pilot.press("right_square_bracket")
        assert panel.channel == 1 and "conv2 filter 1/20" in text_of(panel)
        for _ in range(19):
            await pilot.press("right_square_bracket")
        assert panel.channel == 0
        await pilot.press("left_square_bracket")
        assert panel.channel == 19 and "conv2 filter 19/20" in text_of(panel)

    in_host(FilterView(id="panel"), view, body)


def test_filters_draw_the_chosen_kernels_on_one_scale_per_layer(view: RunView) -> None:
    probe = view.probe
    assert probe is not None
    conv1_max = float(probe.conv1_weight.abs().max())
    conv2_max = float(probe.conv2_weight.abs().max())

    async def body(pilot: Pilot[object], panel: Widget) -> None:
        assert isinstance(panel, FilterView)
        for channel in (0, 7):
            panel.channel = channel
            conv1_grid, conv2_grid = grids(panel)
            conv1 = [t.body for t in conv1_grid.tiles]
            conv2 = [t.body for t in conv2_grid.tiles]
            assert all(isinstance(m, Heatmap) and m.signed for m in conv1 + conv2)
            conv1_maps = [m for m in conv1 if isinstance(m, Heatmap)]
            conv2_maps = [m for m in conv2 if isinstance(m, Heatmap)]
            assert [(m.low, m.high) for m in conv1_maps] == [(-conv1_max, conv1_max)] * 10
            assert [(m.low, m.high) for m in conv2_maps] == [(-conv2_max, conv2_max)] * 10
            assert [t.title for t in conv1_grid.tiles] == [str(k) for k in range(10)]
            assert [t.title for t in conv2_grid.tiles] == [f"in {k}" for k in range(10)]
            for k, shown in enumerate(conv2_maps):  # conv2's kernels for this channel
                scale = shown.width // 5
                assert scale >= 1
                kernel = probe.conv2_weight[channel, k]
                same = Heatmap(kernel, vmin=-conv2_max, vmax=conv2_max, signed=True, scale=scale)
                assert shown.lines() == same.lines()
        assert f"{conv1_max:.3g}" in text_of(panel)
        assert f"{conv2_max:.3g}" in text_of(panel)

    in_host(FilterView(id="panel"), view, body)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_ascii_mode_is_pure_ascii(view: RunView, size: tuple[int, int]) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        pages = panel.page_count if isinstance(panel, PipelineView) else 1
        for _ in range(pages):
            text = text_of(panel)
            assert text.isascii(), sorted({c for c in text if not c.isascii()})
            assert text.strip()
            await pilot.press("right")

    for panel in (PipelineView(id="panel"), FilterView(id="panel")):
        in_host(panel, view, body, size=size, glyphs=ASCII)


def test_set_ascii_switches_both_ways(view: RunView) -> None:
    async def body(pilot: Pilot[object], panel: Widget) -> None:
        assert isinstance(panel, PipelineView)
        assert not text_of(panel).isascii()
        pilot.app.glyphs = ASCII  # type: ignore[attr-defined]
        assert text_of(panel).isascii()
        pilot.app.glyphs = UNICODE  # type: ignore[attr-defined]
        assert "→" in text_of(panel)

    in_host(PipelineView(id="panel"), view, body)


# -- snapshots --------------------------------------------------------------------------------
def press(*keys: str) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_pipeline_snapshot(snap_compare: SnapCompare, view: RunView, size: tuple[int, int]) -> None:
    assert snap_compare(Host(PipelineView(id="panel"), view), terminal_size=size)


def test_pipeline_snapshot_last_page_at_80x24(snap_compare: SnapCompare, view: RunView) -> None:
    app = Host(PipelineView(id="panel"), view)
    assert snap_compare(app, terminal_size=(80, 24), run_before=press("left"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_filters_snapshot(snap_compare: SnapCompare, view: RunView, size: tuple[int, int]) -> None:
    app = Host(FilterView(id="panel"), view)
    assert snap_compare(app, terminal_size=size, run_before=press("right_square_bracket"))
