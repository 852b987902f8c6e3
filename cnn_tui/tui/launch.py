"""Open the monitor on a run: one it starts (``cnn-tui``) or one already going (``attach``).

Either way the run lives in a process of its own, in its own session, and the monitor is a
viewer of its endpoint — the monitor that started it is only the first, its *owner*: its
``q`` stops the run, and its terminal's hang-up leaves the run training (see
docs/architecture.md for why the engine is not a thread of the monitor).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cnn_tui.endpoint.client import EndpointError
from cnn_tui.endpoint.remote import RemoteSession
from cnn_tui.spawn import Pending, Started, StartFailed
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.pacing import Pacer
from cnn_tui.tui.session import OpenSession

EXIT_LOST = 1
STOP_WAIT_S = 60.0


def monitor_app(
    open_session: OpenSession, *, compare: Sequence[Path] = (), paced: bool = True
) -> CnnTuiApp:
    """The monitor as ``cnn-tui`` and ``cnn-tui attach`` run it: the app is the process (its
    heap frozen once the run is on screen) and shares a busy box (tui/pacing.py) unless
    ``paced`` is False (benchmarks/ui_overhead.py measures what that buys)."""
    pacer = Pacer() if paced else None
    return CnnTuiApp(open_session, compare=compare, freeze_heap=True, pacer=pacer)


class LaunchError(Exception):
    """The monitor cannot open; ``str(err)`` is one line saying why."""


def run_monitor(pending: Pending, *, compare: Sequence[Path] = ()) -> int:
    """Watch, as its owner, the run that ``pending`` is starting in the background."""
    try:
        started = pending.wait()
    except StartFailed as err:
        raise LaunchError(str(err)) from None
    try:
        session = RemoteSession(started.run_dir, owner=True)
    except (EndpointError, OSError) as err:
        raise LaunchError(f"the run started but does not answer: {err}") from None
    app = monitor_app(session.bind, compare=compare)
    app.child = started
    app.run()
    return _after(app)


def run_attach(run_dir: Path, *, read_only: bool = False, compare: Sequence[Path] = ()) -> int:
    """Watch (and steer, unless ``read_only``) the run in ``run_dir``."""
    try:
        session = RemoteSession(run_dir, read_only=read_only)
    except (EndpointError, OSError) as err:
        raise LaunchError(str(err)) from None
    app = monitor_app(session.bind, compare=compare)
    app.run()
    return _after(app)


def _after(app: CnnTuiApp) -> int:
    """Say in one line what became of the run (the fork, if it forked); the exit status."""
    session = app.session
    assert isinstance(session, RemoteSession)
    started = app.child
    where = session.run_dir
    match app.outcome:
        case "detached":
            print(f"cnn-tui: detached; the run goes on: cnn-tui attach {session.run_id}")
            return 0
        case "stopped" | "ended":
            code = _exit_status(started)
            print(f"cnn-tui: run saved in {where}")
            return code
        case _:
            reason = session.closing_reason or "the connection ended"
            print(
                f"cnn-tui: lost the run ({reason}); see {where / 'output.log'} and cnn-tui runs",
                file=sys.stderr,
            )
            return EXIT_LOST


def _exit_status(started: Started | None) -> int:
    """The run's own exit status, when this monitor started it (4: it could not write)."""
    if started is None:
        return 0
    try:
        return started.process.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        return 0
