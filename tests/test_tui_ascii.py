"""The ASCII glyph set (``NO_COLOR``): every text this project writes on screen is ASCII.

A recorded run is replayed into the app with the ASCII set, and every view is shown in turn
at both sizes: the dashboard's panels, the inside screen's panes, the gallery, the help.
What each widget draws is read back; only Textual's own borders, scrollbars and separators
and plotext's chart markers (the lines and axes under a chart's title) may be otherwise.
"""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static, TabbedContent

from cnn_tui.render import ASCII
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.screens.gallery import GalleryScreen
from cnn_tui.tui.screens.help import HelpScreen
from cnn_tui.tui.widgets.base import GlyphWidget
from cnn_tui.tui.widgets.charts import CurvesChart
from cnn_tui.tui.widgets.tab_strip import TabStrip
from tests.helpers import drive, wait_until
from tests.recordings import Replayed


def shown_text(widget: Widget) -> list[str]:
    """The widget's content as drawn, its border (Textual's) left out."""
    outer = widget.outer_size
    content = widget.content_region.translate(-widget.region.offset)
    strips = widget.render_lines(Region(0, 0, outer.width, outer.height))
    lines = [s.text[content.x : content.right] for s in strips[content.y : content.bottom]]
    if isinstance(widget, CurvesChart):
        return lines[:1]  # the title; below it, plotext's lines and axes
    return lines


def not_ascii(app: CnnTuiApp) -> dict[str, set[str]]:
    """What is not ASCII in the text of each widget on show that this project draws."""
    screen = app.screen
    ours = [
        *screen.query(GlyphWidget),
        *screen.query(TabStrip),
        *screen.query(Static),
        *[tab.label for tab in screen.query("Tab")],  # the inside screen's pane names
    ]
    found: dict[str, set[str]] = {}
    for widget in ours:
        if not isinstance(widget, Widget):
            text = str(widget)
        elif not widget.display or not widget.region.area:
            continue
        else:
            text = "".join(shown_text(widget))
        odd = {c for c in text if not c.isascii()}
        if odd:
            found[repr(widget)] = odd
    keys = {app.get_key_display(b) for _, b, _, _ in screen.active_bindings.values()}
    odd_keys = {c for key in keys for c in key if not c.isascii()}
    if odd_keys:
        found["footer keys"] = odd_keys
    return found


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_every_view_writes_ascii(inside_demo: Replayed, size: tuple[int, int]) -> None:
    app = CnnTuiApp(replay(inside_demo.events, inside_demo.answer), glyphs=ASCII)
    seen: dict[str, dict[str, set[str]]] = {}

    async def look(pilot: Pilot[object], name: str, *keys: str) -> None:
        await pilot.press(*keys)
        await pilot.pause(0.1)
        app.redraw(force=True)
        await pilot.pause()
        seen[name] = not_ascii(app)

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, inside_demo.events)
        for tab in "1234":
            await look(pilot, f"dashboard {tab}", tab)
        await look(pilot, "help", "question_mark")
        await look(pilot, "hyperparameters", "escape", "e")
        await look(pilot, "inside", "escape", "i")
        await look(pilot, "pipeline", "1")
        await look(pilot, "pipeline, last page", "left")
        for pane in "2354":  # the draw pane last: the drawing below is made on it
            await look(pilot, f"pane {pane}", pane)
        await look(pilot, "a drawing", "d", *["down"] * 6, "d")
        await wait_until(pilot, lambda: app.view.drawn_probe is not None)
        await look(pilot, "its answer")
        await look(pilot, "gallery", "3", "enter")
        assert isinstance(app.screen, GalleryScreen)
        assert isinstance(app.get_screen("inside").query_one(TabbedContent), TabbedContent)
        await look(pilot, "help inside", "escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)

    drive(app, body, size)
    assert {name: odd for name, odd in seen.items() if odd} == {}
    assert len(seen) == 17
