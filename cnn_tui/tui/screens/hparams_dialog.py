"""Edit lr, momentum, batch size, log interval and epochs while training runs.

Each field is checked with ``config``'s bounds as it is typed; the reason for a bad value
stands under its field and Enter does nothing until every field is good, so an invalid
value never reaches the engine. The dialog returns only the fields that changed.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from cnn_tui.config import (
    BOUNDS,
    LIVE_FIELDS,
    ConfigError,
    HyperParams,
    check_live_epochs,
    parse_hparam,
)
from cnn_tui.tui.glyphs_app import glyphs_of

LABELS = {
    "lr": "learning rate",
    "momentum": "momentum",
    "batch_size": "batch size",
    "log_interval": "log interval",
    "epochs": "epochs",
}


class HParamValidator(Validator):
    def __init__(self, name: str, current_epoch: int) -> None:
        super().__init__()
        self.name = name
        self.current_epoch = current_epoch

    def validate(self, value: str) -> ValidationResult:
        try:
            parsed = parse_hparam(self.name, value)
            if self.name == "epochs":
                check_live_epochs(int(parsed), self.current_epoch)
        except ConfigError as err:
            return self.failure(err.reason, value)
        return self.success()


class HParamsDialog(ModalScreen[dict[str, Any] | None]):
    """Returns ``{name: value}`` of the changed fields, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # A screen's own Tab binding runs only once the key has gone to the focused field and
        # bubbled back up, by which time keys typed right after it have already been handed
        # to that same field. A priority binding moves the focus before the next key is read.
        Binding("tab", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
    ]

    def __init__(self, hparams: HyperParams, current_epoch: int, title: str | None = None) -> None:
        super().__init__()
        self.hparams = hparams
        self.current_epoch = current_epoch
        self.title_text = title  # a fork says so; the default: a change applied in place

    def compose(self) -> ComposeResult:
        glyphs = glyphs_of(self.app)
        with Vertical(id="dialog"):
            title = self.title_text or f"Hyperparameters {glyphs.dash} applied at the next step"
            yield Static(title, id="dialog-title")
            with Grid(id="fields"):
                for name in LIVE_FIELDS:
                    yield Label(LABELS[name], classes="field-label")
                    yield Input(
                        value=f"{getattr(self.hparams, name):g}",
                        id=f"field-{name}",
                        compact=True,
                        validators=[HParamValidator(name, self.current_epoch)],
                        validate_on=["changed", "submitted"],
                    )
                    yield Label(BOUNDS[name].describe(), classes="field-bound")
                    yield Static("", id=f"error-{name}", classes="field-error")
            keys = glyphs.sep.join(("Enter apply", "Esc cancel", "Tab next field"))
            yield Static(keys, id="dialog-help")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False

    @on(Input.Changed)
    def show_error(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        result = event.validation_result
        message = (
            "" if result is None or result.is_valid else "; ".join(result.failure_descriptions)
        )
        self.query_one(f"#error-{name}", Static).update(message)

    @on(Input.Submitted)
    def apply(self) -> None:
        changes: dict[str, Any] = {}
        for name in LIVE_FIELDS:
            field = self.query_one(f"#field-{name}", Input)
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                field.focus()
                return
            value = parse_hparam(name, field.value)
            if value != getattr(self.hparams, name):
                changes[name] = value
        self.dismiss(changes)

    def action_cancel(self) -> None:
        self.dismiss(None)
