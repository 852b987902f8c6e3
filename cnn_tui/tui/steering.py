"""Keys that steer the run: each becomes one request to the session, decided from the view.

The requests are the engine's own (``engine.control``): pause, resume, a step, new
hyperparameters, a probe, a checkpoint. Whether a key makes sense (a step only while
paused, more epochs only when done) is read from the view, which shows what the run
reported, not what was asked; the run checks again and refuses what it cannot do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding

from cnn_tui.engine.control import (
    Fork,
    Pause,
    ProbeImage,
    ProbeIndex,
    Request,
    Resume,
    SaveCheckpoint,
    SetHParams,
    Step,
)
from cnn_tui.engine.events import RunState
from cnn_tui.tui.screens.hparams_dialog import HParamsDialog
from cnn_tui.tui.widgets.canvas import DigitCanvas

if TYPE_CHECKING:
    from textual.app import App

    from cnn_tui.runview import RunView
    from cnn_tui.tui.session import Session

    Base = App[int]
else:
    Base = object

EDIT_HELP = "edit hyperparameters (applied at the next step)"
PROBE_HELP = "next / previous probe digit"
CONTINUE_HELP = "after the run ends: continue for more epochs"
FORK_HELP = "fork: paused or done, a new run from this point with new settings"
HELD = (RunState.PAUSED, RunState.DIVERGED)


class Steering(Base):
    """The app's requests to the run (a mixin of :class:`~cnn_tui.tui.app.CnnTuiApp`)."""

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause", tooltip="pause / resume training"),
        Binding("s", "step", "Step", tooltip="one step (a batch) while paused"),
        Binding("e", "edit_hparams", "Edit", tooltip=EDIT_HELP),
        Binding("n", "probe(1)", "Digit", tooltip=PROBE_HELP),
        Binding("p", "probe(-1)", "Prev digit", show=False, tooltip=PROBE_HELP),
        Binding("c", "checkpoint", "Checkpoint", show=False, tooltip="save a checkpoint now"),
        Binding("r", "continue_run", "More epochs", show=False, tooltip=CONTINUE_HELP),
        Binding("F", "fork", "Fork", show=False, tooltip=FORK_HELP),
    ]
    session: Session | None
    view: RunView
    continue_epochs: int | None  # None: as many as the run was started with
    pending_fork: dict[str, Any] | None  # the settings of a fork asked for, until it is saved

    def request(self, *requests: Request) -> None:
        if self.session is not None and not self.refuse_if_read_only():
            for request in requests:
                self.session.send(request)

    def refuse_if_read_only(self) -> bool:
        if self.session is not None and self.session.read_only:
            self.notify("this view is read-only: it can watch the run, not steer it")
            return True
        return False

    def action_toggle_pause(self) -> None:
        if self.view.state is RunState.DONE:
            self.notify(f"the run is done: r trains {self.continue_epochs} more epochs")
            return
        self.request(Resume() if self.view.state in HELD else Pause())

    def action_step(self) -> None:
        if self.view.state not in HELD:
            self.notify("s steps one batch while paused: press space to pause first")
            return
        self.request(Step())

    def action_edit_hparams(self) -> None:
        if self.refuse_if_read_only():
            return

        def apply(changes: dict[str, Any] | None) -> None:
            if changes:
                self.request(SetHParams(changes))

        self.push_screen(HParamsDialog(self.view.hparams, self.view.epoch), apply)

    def on_digit_canvas_changed(self, message: DigitCanvas.Changed) -> None:
        """A drawing (it bubbled up from the canvas) goes to the run to be probed."""
        self.request(ProbeImage(message.image))

    def action_probe(self, delta: int) -> None:
        started = self.view.started
        if started is None:
            return
        probe = self.view.probe
        current = probe.index if probe is not None and probe.index is not None else 0
        self.request(ProbeIndex((current + delta) % started.test_size))

    def action_checkpoint(self) -> None:
        self.request(SaveCheckpoint())

    def action_continue_run(self) -> None:
        if self.view.state is not RunState.DONE:
            self.notify("r continues a finished run; this one is still going")
            return
        started = self.view.started
        more = self.continue_epochs or (started.hparams.epochs if started is not None else 3)
        self.request(SetHParams({"epochs": self.view.hparams.epochs + more}), Resume())

    def action_fork(self) -> None:
        if self.refuse_if_read_only():
            return
        if self.view.state not in (RunState.PAUSED, RunState.DONE):
            self.notify("F forks a paused or finished run: press space to pause first")
            return

        def fork(changes: dict[str, Any] | None) -> None:
            if changes is not None:
                self.pending_fork = changes
                self.request(Fork())

        at = f"@{self.view.examples_seen:,}"
        title = f"Fork at {at}: a new run from here, with these settings"
        self.push_screen(HParamsDialog(self.view.hparams, self.view.epoch, title), fork)

    def steering_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Pause / resume training", "Toggle the pause", self.action_toggle_pause)
        yield SystemCommand("Step one batch", "While paused", self.action_step)
        yield SystemCommand(
            "Edit hyperparameters", "lr, momentum, batch size, …", self.action_edit_hparams
        )
        yield SystemCommand("Save checkpoint", "Write a checkpoint now", self.action_checkpoint)
        yield SystemCommand("Continue training", "After the run ends", self.action_continue_run)
        yield SystemCommand(
            "Next probe digit", "Feature maps of another digit", lambda: self.action_probe(1)
        )
