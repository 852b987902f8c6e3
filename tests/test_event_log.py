"""The event log panel: the newest lines are the ones on screen."""

from __future__ import annotations

from textual.pilot import Pilot

from cnn_tui.engine.events import Notice
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.widgets.event_log import EventLog
from tests.helpers import drive, wait_until
from tests.recordings import Replayed


def test_a_log_longer_than_its_panel_shows_its_newest_lines(dashboard_demo: Replayed) -> None:
    notes = [Notice(f"note {i}, long enough to wrap in the narrow panel") for i in range(20)]
    events = [*dashboard_demo.events, *notes]
    app = CnnTuiApp(replay(events))

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        log = app.screen.query_one(EventLog)
        await wait_until(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)
        assert "note 19," in str(log.lines[-2].text + log.lines[-1].text)

    drive(app, body)
