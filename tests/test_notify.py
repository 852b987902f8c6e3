"""--notify: the user's command hears of each end once."""

from __future__ import annotations

from pathlib import Path

from cnn_tui.engine.events import RunState, StateChanged
from cnn_tui.notify import Notifier


def told(tmp_path: Path, states: list[RunState]) -> list[str]:
    heard = tmp_path / "heard"
    notifier = Notifier(f'echo "$CNN_TUI_EVENT" >> {heard}', "run", tmp_path)
    for state in states:
        notifier(StateChanged(state, "why", 3, 18_000, 0))
    notifier.finish()
    return heard.read_text().split() if heard.exists() else []


def test_a_run_stopped_once_done_is_told_done_once(tmp_path: Path) -> None:
    assert told(tmp_path, [RunState.RUNNING, RunState.DONE, RunState.STOPPED]) == ["done"]


def test_a_run_that_trained_again_after_done_is_told_both(tmp_path: Path) -> None:
    states = [RunState.DONE, RunState.RUNNING, RunState.STOPPED]
    assert told(tmp_path, states) == ["done", "stopped"]


def test_a_stop_mid_run_is_told_stopped(tmp_path: Path) -> None:
    assert told(tmp_path, [RunState.RUNNING, RunState.PAUSED, RunState.STOPPED]) == ["stopped"]
