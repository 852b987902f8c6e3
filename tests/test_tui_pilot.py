"""The monitor driven by keys, against the real engine on a tiny dataset."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from cnn_tui.data import LoadedData
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.events import RunState
from cnn_tui.tui.screens.hparams_dialog import HParamsDialog
from tests.helpers import Harness, drive, wait_until


def training_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.is_alive() and t is not threading.main_thread() and not t.daemon
    ]


def test_pause_stops_steps_and_resume_continues(tiny_data: LoadedData, run_dir: Path) -> None:
    h = Harness(tiny_data, run_dir)

    async def body(pilot: Pilot[object]) -> None:
        await h.pause(pilot)
        frozen = h.batches
        assert "PAUSED" in str(h.app.screen.query_one("#status").render())
        await pilot.press("n")  # a command wakes the engine, yet no batch may run
        h.control.until_blocked()
        assert h.batches == frozen
        await pilot.press("space")
        await wait_until(pilot, lambda: h.batches >= frozen + 3)
        # tiny epochs: the engine may be in the test pass between two of them
        assert h.app.view.state in (RunState.RUNNING, RunState.TESTING)
        await h.quit(pilot)

    drive(h.app, body)


def test_s_advances_exactly_one_batch(tiny_data: LoadedData, run_dir: Path) -> None:
    h = Harness(tiny_data, run_dir)

    async def body(pilot: Pilot[object]) -> None:
        await h.pause(pilot)
        before = h.batches
        await pilot.press("s")
        h.control.until_blocked()
        assert h.batches == before + 1
        await pilot.press("s")
        h.control.until_blocked()
        assert h.batches == before + 2
        await h.quit(pilot)

    drive(h.app, body)


async def edit_lr(pilot: Pilot[object], value: str) -> HParamsDialog:
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HParamsDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, HParamsDialog)
    field = dialog.query_one("#field-lr", Input)
    field.focus()
    field.value = ""
    await pilot.press(*value)
    return dialog


def test_a_valid_lr_edit_reaches_the_optimizer(tiny_data: LoadedData, run_dir: Path) -> None:
    h = Harness(tiny_data, run_dir)

    async def body(pilot: Pilot[object]) -> None:
        await h.pause(pilot)
        await edit_lr(pilot, "0.05")
        await pilot.press("enter")
        await wait_until(pilot, lambda: h.app.view.hparams.lr == 0.05)  # echoed by the engine
        assert h.lr_in_optimizer == 0.05
        assert "lr 0.01→0.05" in h.app.view.log[-1].text
        await h.quit(pilot)

    drive(h.app, body)


def test_an_invalid_lr_shows_an_error_and_changes_nothing(
    tiny_data: LoadedData, run_dir: Path
) -> None:
    h = Harness(tiny_data, run_dir)

    async def body(pilot: Pilot[object]) -> None:
        await h.pause(pilot)
        dialog = await edit_lr(pilot, "-1")
        error = dialog.query_one("#error-lr", Static)
        assert "must be greater than 0" in str(error.render())
        await pilot.press("enter")
        assert pilot.app.screen is dialog  # refused: the dialog stays
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, HParamsDialog))
        assert not h.control.blocked.is_set()  # the engine was never even woken
        assert h.lr_in_optimizer == 0.01
        assert h.app.view.hparams.lr == 0.01
        assert h.control.take() == []
        await h.quit(pilot)

    drive(h.app, body)


def test_q_stops_the_worker_and_writes_a_checkpoint(tiny_data: LoadedData, run_dir: Path) -> None:
    h = Harness(tiny_data, run_dir)
    before = set(training_threads())

    async def body(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: h.batches >= 3)
        await pilot.press("q")

    drive(h.app, body)
    assert h.run is not None and h.run.trainer.state is RunState.STOPPED
    assert not h.app.worker or h.app.worker.is_finished
    assert [t for t in training_threads() if t not in before and t.name.startswith("asyncio")] == []
    saved = load_checkpoint(run_dir)
    assert saved.progress.epoch * 10 + saved.progress.batch_index >= 3 + 10


def test_the_screen_survives_resizes_down_to_a_notice_and_back(
    tiny_data: LoadedData, run_dir: Path
) -> None:
    h = Harness(tiny_data, run_dir)

    async def body(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: h.batches >= 2)
        screen = h.app.screen
        notice = screen.query_one("#too-small")
        for size, wide, small in [
            ((80, 24), False, False),
            ((40, 12), False, True),
            ((120, 40), True, False),
            ((59, 30), False, True),
        ]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
            assert (screen.has_class("-wide") and screen.has_class("-tall")) or not wide
            assert notice.display is small, size
            assert screen.query_one("#loss").display is (not small)
        assert h.app.view.state in (RunState.RUNNING, RunState.TESTING)
        await h.quit(pilot)

    drive(h.app, body)
