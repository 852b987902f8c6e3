"""The sessions an app follows one after another (a fork follows the run it came from)."""

from __future__ import annotations

from textual.pilot import Pilot

from cnn_tui.engine.events import Notice
from cnn_tui.runview import Disconnected
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from tests.helpers import drive, wait_until
from tests.recordings import Replayed


def test_the_goodbye_of_a_session_left_behind_never_reaches_the_one_followed(
    dashboard_demo: Replayed,
) -> None:
    """Leaving a run for its fork, the old connection still ends with Disconnected, from its
    own thread, after the app moved on: it must not mark the fork's monitor as lost."""
    events = dashboard_demo.events
    app = CnnTuiApp(replay(events))

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        left = app.sink_for(app.generation)
        app.generation += 1  # as follow() does before binding the fork's session
        followed = app.sink_for(app.generation)
        left(Disconnected("the connection was closed"))
        followed(Notice("the fork's first line"))
        await wait_until(pilot, lambda: app.view.log[-1].text == "the fork's first line")
        assert app.view.connected
        assert app.outcome == "running"

    drive(app, body)
