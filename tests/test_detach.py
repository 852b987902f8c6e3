"""Runs that outlive their terminal, with real processes: detach, attach, kill, hang up.

Each test starts a run in the background on the packaged sample and watches it as a user
would — a monitor over the socket, a second viewer, a viewer killed with SIGKILL, a
monitor whose terminal (a pty) goes away — synchronising on what the programs report.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import termios
import threading
from pathlib import Path

from cnn_tui.endpoint.client import RunClient
from cnn_tui.endpoint.remote import RemoteSession
from cnn_tui.engine.control import Pause, Resume
from cnn_tui.engine.events import RunState
from cnn_tui.runs.record import read_record
from cnn_tui.tui.app import CnnTuiApp
from tests.endpoint_helpers import Viewer, state_is
from tests.helpers import drive
from tests.helpers import wait_until as app_wait_until
from tests.process_helpers import (
    Reaper,
    cnn_tui,
    exits,
    log_messages,
    logged_points,
    python,
    wait_until,
)

LONG_RUN = ("--epochs", "50", "--log-interval", "5")
HOLD_A_VIEWER = """
import sys
from pathlib import Path
from cnn_tui.endpoint.client import RunClient
client = RunClient(Path(sys.argv[1]))
print("attached", flush=True)
for _ in client.messages():
    pass
"""


def catch_up(run_dir: Path) -> Viewer:
    viewer = Viewer(RunClient(run_dir))
    viewer.wait_for(lambda m: m.get("type") == "ready")
    return viewer


def test_a_detached_run_is_watched_steered_and_outlives_its_viewers(
    reaper: Reaper, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    started = reaper.background(*LONG_RUN, "--run-dir", str(run_dir))
    assert started.run_dir == run_dir and read_record(run_dir) is not None
    monitor = CnnTuiApp(RemoteSession(run_dir).bind)
    second = catch_up(run_dir)

    async def watch(pilot: object) -> None:
        view = monitor.view
        await app_wait_until(pilot, lambda: len(view.curves.train_x) > 3)  # type: ignore[arg-type]
        await pilot.press("space")  # type: ignore[attr-defined]
        await app_wait_until(pilot, lambda: view.state is RunState.PAUSED)  # type: ignore[arg-type]
        second.wait_for(state_is("paused"))  # the other viewer sees it too ...
        assert RunClient(run_dir, announce=False).hello["state"] == "paused"  # ... and the run
        assert view.curves.train_x == logged_points(run_dir)  # the whole history, as logged

    drive(monitor, watch)  # leaves as an attached monitor does: the run goes on, paused
    second.client.send(Resume())
    second.wait_for(state_is("running"))

    killed = reaper.popen(python("-c", HOLD_A_VIEWER, str(run_dir)), stdout=subprocess.PIPE)
    assert killed.stdout is not None and killed.stdout.readline() == b"attached\n"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    before = len(logged_points(run_dir))
    wait_until(lambda: len(logged_points(run_dir)) > before + 3, what="training after SIGKILL")

    late = catch_up(run_dir)
    late.client.send(Pause())
    late.wait_for(state_is("paused"))
    from cnn_tui.endpoint.catchup import ViewAssembler

    assembler = ViewAssembler()
    for message in late.messages:
        if message.get("type") == "view":
            assembler.add(message)
    live = [m["data"]["examples_seen"] for m in late.events("BatchLogged")]
    assert assembler.build().curves.train_x + live == logged_points(run_dir)

    stop = subprocess.run(cnn_tui("stop", str(run_dir)), capture_output=True, text=True)
    assert stop.returncode == 0, stop.stderr
    assert f"checkpoint {run_dir / 'checkpoint.pt'}" in stop.stdout
    assert exits(started.pid)


def test_runs_shows_a_run_killed_with_sigkill_as_crashed(reaper: Reaper, tmp_path: Path) -> None:
    run_dir = tmp_path / "doomed"
    started = reaper.background(*LONG_RUN, "--run-dir", str(run_dir))
    catch_up(run_dir).client.close()  # it is up and serving
    os.kill(started.pid, signal.SIGKILL)
    assert exits(started.pid)
    listing = subprocess.run(cnn_tui("runs"), capture_output=True, text=True, check=True).stdout
    (line,) = [x for x in listing.splitlines() if x.startswith("doomed ")]
    assert line.split()[2] == "crashed"
    attach = subprocess.run(cnn_tui("attach", "doomed"), capture_output=True, text=True)
    assert attach.returncode == 2 and "doomed is not running" in attach.stderr


def test_a_monitor_whose_terminal_hangs_up_leaves_the_run_training(
    reaper: Reaper, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))

    def own_terminal() -> None:  # a session of its own, with the pty as its terminal
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    monitor = subprocess.Popen(
        cnn_tui(*LONG_RUN, "--run-dir", str(run_dir)),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        preexec_fn=own_terminal,
    )
    reaper.groups.append(monitor.pid)
    os.close(slave)
    screen = Screen(master)
    wait_until(lambda: b"RUNNING" in screen.seen, what="the monitor's first frame")
    record = read_record(run_dir)
    assert record is not None
    reaper.groups.append(record.pid)

    os.close(master)  # the terminal goes away: the kernel hangs up on its session
    assert monitor.wait(30) == 128 + signal.SIGHUP
    wait_until(
        lambda: any("went away" in m for m in log_messages(run_dir)), what="the hang-up's note"
    )
    listing = subprocess.run(cnn_tui("runs"), capture_output=True, text=True, check=True).stdout
    (line,) = [x for x in listing.splitlines() if x.startswith("run ")]
    assert line.split()[2] in ("running", "testing")  # alive: training, or a test pass
    before = len(logged_points(run_dir))
    wait_until(lambda: len(logged_points(run_dir)) > before, what="training after the hang-up")
    catch_up(run_dir).client.close()  # cnn-tui attach finds it

    stop = subprocess.run(cnn_tui("stop", "run"), capture_output=True, text=True)
    assert stop.returncode == 0, stop.stderr
    assert exits(record.pid)
    assert (run_dir / "checkpoint.pt").is_file()


class Screen:
    """Drains a pty's output (an app blocks when nobody reads its terminal)."""

    def __init__(self, master: int) -> None:
        self.seen = b""
        self.master = master
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.seen = self.seen[-200_000:] + chunk
