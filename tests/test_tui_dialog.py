"""The hyperparameter dialog on its own: keys typed faster than the screen redraws."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from cnn_tui.config import HyperParams
from cnn_tui.tui.screens.hparams_dialog import HParamsDialog
from tests.helpers import drive, wait_until


class DialogHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.result: list[dict[str, Any] | None] = []

    def on_mount(self) -> None:
        self.push_screen(HParamsDialog(HyperParams(), 1), self.result.append)


def type_ahead(app: App[object], keys: list[str]) -> None:
    """Every key queued at once, as a fast typist (or tmux) sends them: nothing waits for
    the app to be idle between two keys, unlike ``pilot.press``."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


def test_keys_typed_ahead_after_tab_land_in_the_next_field() -> None:
    app = DialogHost()

    async def body(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: isinstance(app.screen, HParamsDialog))
        await pilot.pause()
        lr = app.screen.query_one("#field-lr", Input)
        assert app.focused is lr and lr.selected_text == "0.01"  # typing replaces it
        # lr 0.05, skip momentum, batch size 128, log interval 20, then apply
        keys = [*"0.05", "tab", "tab", *"128", "tab", *"20", "enter"]
        type_ahead(app, keys)
        await wait_until(pilot, lambda: bool(app.result))
        assert app.result == [{"lr": 0.05, "batch_size": 128, "log_interval": 20}]

    drive(app, body)
