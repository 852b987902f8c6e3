"""Everything on the monitor works attached to a run in another process.

A probe digit chosen with n, a digit drawn on the canvas (answered to this monitor, its
input bit for bit the tutorial's preprocessing of the drawing), the gallery of a confusion
cell's mistakes (whose digits are fetched from the run once), and X, which stops the run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual.pilot import Pilot

from cnn_tui.endpoint.remote import RemoteSession
from cnn_tui.engine.events import RunState
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.screens.confirm import ConfirmDialog
from cnn_tui.tui.screens.gallery import GalleryScreen
from cnn_tui.tui.screens.inside import InsideScreen
from cnn_tui.tui.widgets.canvas import DigitCanvas
from tests.helpers import drive, wait_until
from tests.process_helpers import Reaper, cnn_tui, exits, log_messages
from tests.test_inside_app import draw_a_seven, drawn_input_matches


def test_a_monitor_attached_over_the_socket_does_everything(reaper: Reaper, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    started = reaper.background("--epochs", "50", "--log-interval", "5", "--run-dir", str(run_dir))
    app = CnnTuiApp(RemoteSession(run_dir).bind)

    async def body(pilot: Pilot[object]) -> None:
        view = app.view
        await wait_until(pilot, lambda: view.last_test is not None and view.probe is not None)
        await pilot.press("space")
        await wait_until(pilot, lambda: view.state is RunState.PAUSED)
        await pilot.press("n")
        await wait_until(pilot, lambda: view.probe is not None and view.probe.index == 1)

        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InsideScreen))
        await draw_a_seven(pilot)
        canvas = app.screen.query_one(DigitCanvas)
        await wait_until(pilot, lambda: drawn_input_matches(app, canvas))

        await pilot.press("3")
        await wait_until(pilot, lambda: view.test_images is not None)  # fetched once, on need
        assert view.test_images is not None and tuple(view.test_images.shape) == (1000, 28, 28)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, GalleryScreen))
        await pilot.press("escape", "i")  # back to the dashboard

        await pilot.press("X")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: not view.connected)

    drive(app, body)
    assert app.outcome in ("stopped", "ended")
    assert exits(started.pid)
    assert (run_dir / "checkpoint.pt").is_file()
    assert any("viewer attached" in m for m in log_messages(run_dir))


def test_a_live_run_directory_is_not_resumed_twice(reaper: Reaper, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    reaper.background("--epochs", "50", "--run-dir", str(run_dir))
    second = subprocess.run(
        cnn_tui("--headless", "--resume", str(run_dir)), capture_output=True, text=True
    )
    assert second.returncode == 2
    (line,) = second.stderr.splitlines()
    assert "belongs to a run that is still going" in line and "cnn-tui attach" in line
    again = subprocess.run(cnn_tui("--headless", "--run-dir", str(run_dir)), capture_output=True)
    assert again.returncode == 2


def test_notify_runs_the_users_command_when_the_run_ends(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"
    done = subprocess.run(
        cnn_tui(
            "--headless", "--epochs", "1", "--log-interval", "50", "--run-dir", str(tmp_path / "r"),
            "--notify", f'echo "$CNN_TUI_EVENT $CNN_TUI_RUN_ID" >> "{said}"',
        ),
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "done r" in said.read_text().splitlines()
