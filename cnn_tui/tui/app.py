"""The Textual app: wiring only — the engine in a worker thread, events in, commands out.

The worker thread runs the engine; its sink posts each event as a message (thread-safe,
never blocking the trainer). The app folds events into a :class:`RunView` as they arrive
and redraws on a timer a few times a second, never per event. Keys become commands on the
engine's :class:`Control`; what the engine did about them comes back as events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from cnn_tui.config import ConfigError
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import Event, RunState, StateChanged
from cnn_tui.render import ascii_default
from cnn_tui.tui.messages import EngineEvent
from cnn_tui.tui.screens.dashboard import DashboardScreen
from cnn_tui.tui.screens.help import HelpScreen
from cnn_tui.tui.screens.hparams_dialog import HParamsDialog
from cnn_tui.tui.screens.inside import InsideScreen
from cnn_tui.tui.screens.view_screen import ViewScreen
from cnn_tui.tui.view import RunView

QUIT_TIMEOUT_S = 10.0
INSIDE = "inside"


class Session(Protocol):
    """What the app drives: ``engine.session.Run`` in production, a stand-in in tests."""

    control: Control
    run_dir: Path

    def run(self, *, linger: bool = False) -> RunState: ...


OpenSession = Callable[[Callable[[Event], None]], Session]


class CnnTuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "cnn-tui"
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause"),
        Binding("s", "step", "Step"),
        Binding("e", "edit_hparams", "Edit"),
        Binding("n", "probe(1)", "Digit"),
        Binding("p", "probe(-1)", "Prev digit", show=False),
        Binding("i", "toggle_inside", "Inside"),
        Binding("c", "checkpoint", "Checkpoint", show=False),
        Binding("r", "continue_run", "More epochs", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        open_session: OpenSession,
        *,
        ascii: bool | None = None,
        redraw_hz: float = 4.0,
        continue_epochs: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        ascii = ascii_default() if ascii is None else ascii  # before App reads NO_COLOR away
        super().__init__()
        self.open_session = open_session
        self.ascii = ascii
        self.redraw_hz = redraw_hz
        self.clock = clock
        self.continue_epochs = continue_epochs
        self.view = RunView()
        self.session: Session | None = None
        self.worker: Worker[RunState] | None = None
        self.quitting = False

    def get_default_screen(self) -> Screen[Any]:
        return DashboardScreen(ascii=self.ascii)

    def on_mount(self) -> None:
        self.session = self.open_session(self.post_event)
        self.set_interval(1 / self.redraw_hz, self.redraw)
        self.worker = self.run_worker(
            self._train,
            thread=True,
            exclusive=True,
            group="engine",
            name="training",
            exit_on_error=False,
        )
        loop = asyncio.get_running_loop()
        handlers = {signal.SIGTERM: self.action_quit, signal.SIGHUP: self.hang_up}
        for sig, handler in handlers.items():
            # not possible off the main thread (tests) or on a loop without signals
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.call_later, handler)

    def on_unmount(self) -> None:
        # However the app ends (q, a crash in a widget, a test leaving run_test), the engine
        # must stop too: a lingering worker thread would keep the process from exiting.
        if self.control is not None:
            self.control.stop()

    def _train(self) -> RunState:
        assert self.session is not None
        return self.session.run(linger=True)

    # -- events in --------------------------------------------------------------------------
    def post_event(self, event: Event) -> None:
        """The engine's sink: called on the worker thread."""
        self.post_message(EngineEvent(event))

    def on_engine_event(self, message: EngineEvent) -> None:
        self.view.apply(message.event)
        if isinstance(message.event, StateChanged):
            self.redraw(force=True)  # a state change shows at once, not at the next tick

    def redraw(self, *, force: bool = False) -> None:
        """Sync the visible screens with the view: the top one, and any under a modal dialog."""
        now = None if force else self.clock()
        with self.batch_update():
            for screen in reversed(self.screen_stack):
                if isinstance(screen, ViewScreen):
                    screen.sync(self.view, now)
                if not isinstance(screen, ModalScreen):
                    break  # what lies under an opaque screen is not drawn: leave it alone

    # -- commands out -----------------------------------------------------------------------
    @property
    def control(self) -> Control | None:
        return self.session.control if self.session is not None else None

    def action_toggle_pause(self) -> None:
        if self.control is None:
            return
        if self.view.state is RunState.DONE:
            self.notify(f"the run is done: r trains {self.continue_epochs} more epochs")
            return
        self.control.toggle_pause()

    def action_step(self) -> None:
        if self.control is None:
            return
        if not self.control.paused:
            self.notify("s steps one batch while paused: press space to pause first")
            return
        self.control.step()

    def action_edit_hparams(self) -> None:
        def apply(changes: dict[str, Any] | None) -> None:
            if changes and self.control is not None:
                try:
                    self.control.set_hparams(**changes)
                except ConfigError as err:  # the dialog validates; this is a safety net
                    self.notify(f"{err.field} {err.reason}", severity="error")

        self.push_screen(HParamsDialog(self.view.hparams, self.view.epoch), apply)

    def action_probe(self, delta: int) -> None:
        if self.control is None or self.view.started is None:
            return
        current = (
            self.view.probe.index if self.view.probe and self.view.probe.index is not None else 0
        )
        self.control.probe((current + delta) % self.view.started.test_size)

    def action_checkpoint(self) -> None:
        if self.control is not None:
            self.control.save_checkpoint()

    def action_continue_run(self) -> None:
        if self.control is None:
            return
        if self.view.state is not RunState.DONE:
            self.notify("r continues a finished run; this one is still going")
            return
        self.control.set_hparams(epochs=self.view.hparams.epochs + self.continue_epochs)
        self.control.resume()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(str(self.session.run_dir) if self.session else None))

    def action_toggle_inside(self) -> None:
        """Between the dashboard and the inside screen (kept, with its pane and drawing)."""
        if isinstance(self.screen, InsideScreen):
            self.pop_screen()
        elif isinstance(self.screen, DashboardScreen):
            if not self.is_screen_installed(INSIDE):
                self.install_screen(InsideScreen(ascii=self.ascii), INSIDE)
            self.push_screen(INSIDE)
        else:
            return
        self.call_after_refresh(self.redraw, force=True)

    async def action_quit(self) -> None:
        """Stop the engine (it saves a checkpoint), wait for its thread, then exit."""
        if await self.stop_engine():
            self.exit(0)

    async def hang_up(self) -> None:
        """The terminal is gone (SSH dropped): save, then leave without drawing.

        Textual's own shutdown writes to the terminal to restore it and, with no terminal
        left, blocks forever; once the engine has saved there is nothing left to keep.
        """
        if await self.stop_engine():
            os._exit(128 + signal.SIGHUP)

    async def stop_engine(self) -> bool:
        """Stop training and wait for the worker; False if a stop is already under way."""
        if self.quitting:
            return False
        self.quitting = True
        if self.control is not None:
            self.control.stop()
        if self.worker is not None:
            # a failed run has already said why in the log
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.worker.wait(), QUIT_TIMEOUT_S)
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
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
        yield SystemCommand(
            "Inside the CNN", "Pipeline, filters, confusion, draw", self.action_toggle_inside
        )
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Feature-map layer", "conv1 / conv2", screen.action_next_layer)
            yield SystemCommand("Loss: log scale", "Toggle", screen.action_toggle_log_scale)
            yield SystemCommand("Loss: smoothing", "Toggle", screen.action_toggle_smoothing)
            yield SystemCommand("Heatmaps: ASCII / colour", "Toggle", screen.action_toggle_ascii)
        yield SystemCommand("Quit", "Stop training and save a checkpoint", self.action_quit)
