"""The Textual app: wiring only — the engine in a worker thread, events in, commands out.

The worker thread runs the engine; its sink posts each event as a message (thread-safe,
never blocking the trainer). The app folds events into a :class:`RunView` as they arrive
and redraws on a timer a few times a second, never per event. Keys (and a drawn digit)
become commands on the engine's :class:`Control`, here and nowhere else; what the engine did
about them comes back as events.
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

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from cnn_tui.config import ConfigError
from cnn_tui.engine.control import Control
from cnn_tui.engine.events import Event, RunState
from cnn_tui.render import Glyphs, default_glyphs
from cnn_tui.tui.glyphs_app import GlyphsApp
from cnn_tui.tui.messages import EngineEvent
from cnn_tui.tui.screens.dashboard import DashboardScreen
from cnn_tui.tui.screens.help import HelpScreen, HelpSection
from cnn_tui.tui.screens.hparams_dialog import HParamsDialog
from cnn_tui.tui.screens.inside import InsideScreen, pane_bindings
from cnn_tui.tui.screens.view_screen import ViewScreen
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.canvas import DigitCanvas

QUIT_TIMEOUT_S = 10.0
INSIDE = "inside"
EDIT_HELP = "edit hyperparameters (applied at the next step)"
PROBE_HELP = "next / previous probe digit"
CONTINUE_HELP = "after the run ends: continue for more epochs"
QUIT_HELP = "quit: stop training, save a checkpoint"


class Session(Protocol):
    """What the app drives: ``engine.session.Run`` in production, a stand-in in tests."""

    control: Control
    run_dir: Path

    def run(self, *, linger: bool = False) -> RunState: ...


OpenSession = Callable[[Callable[[Event], None]], Session]


class CnnTuiApp(GlyphsApp[int]):
    CSS_PATH = "app.tcss"
    TITLE = "cnn-tui"
    # The tooltips are the help screen's lines (and the footer's, on hover).
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause", tooltip="pause / resume training"),
        Binding("s", "step", "Step", tooltip="one step (a batch) while paused"),
        Binding("e", "edit_hparams", "Edit", tooltip=EDIT_HELP),
        Binding("n", "probe(1)", "Digit", tooltip=PROBE_HELP),
        Binding("p", "probe(-1)", "Prev digit", show=False, tooltip=PROBE_HELP),
        Binding("i", "toggle_inside", "Inside", tooltip="inside the CNN (its keys below)"),
        Binding("c", "checkpoint", "Checkpoint", show=False, tooltip="save a checkpoint now"),
        Binding("r", "continue_run", "More epochs", show=False, tooltip=CONTINUE_HELP),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="these keys"),
        Binding("q", "quit", "Quit", tooltip=QUIT_HELP),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, tooltip=QUIT_HELP),
    ]

    def __init__(
        self,
        open_session: OpenSession,
        *,
        glyphs: Glyphs | None = None,
        redraw_hz: float = 4.0,
        continue_epochs: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        glyphs = glyphs or default_glyphs()  # before App reads NO_COLOR away
        super().__init__()
        self.glyphs = glyphs
        self.open_session = open_session
        self.redraw_hz = redraw_hz
        self.clock = clock
        self.continue_epochs = continue_epochs
        self.view = RunView()
        self.session: Session | None = None
        self.worker: Worker[RunState] | None = None
        self.quitting = False

    def get_default_screen(self) -> Screen[Any]:
        return DashboardScreen()

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
        at_once = self.view.at_once_version
        self.view.apply(message.event)
        if self.view.at_once_version != at_once:  # a state change, a digit the user chose
            self.redraw(force=True)

    def redraw(self, *, force: bool = False) -> None:
        """Sync the visible screens with the view: the top one, and any under a modal dialog.

        One timer for every view widget (each throttled by its own ``EVERY``): the widgets
        stay passive, a tick is one ``batch_update``, and screens out of sight cost nothing.
        """
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

    def on_digit_canvas_changed(self, message: DigitCanvas.Changed) -> None:
        """A drawing (it bubbled up from the canvas) goes to the engine to be probed."""
        if self.control is not None:
            self.control.probe_image(message.image)

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
        if isinstance(self.screen, HelpScreen):
            return
        palette = Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "command palette")
        sections = [
            HelpSection(
                "cnn-tui — keys",
                [*self.BINDINGS, *ViewScreen.BINDINGS, *DashboardScreen.BINDINGS, palette],
            ),
            HelpSection(
                "Inside the CNN (i)",
                [*InsideScreen.BINDINGS, *pane_bindings()],
                [("mouse", "draw: drag to ink, right button erases")],
            ),
        ]
        self.push_screen(HelpScreen(sections, str(self.session.run_dir) if self.session else None))

    def action_toggle_inside(self) -> None:
        """Between the dashboard and the inside screen (kept, with its pane and drawing)."""
        if isinstance(self.screen, InsideScreen):
            self.pop_screen()
        elif isinstance(self.screen, DashboardScreen):
            if not self.is_screen_installed(INSIDE):
                self.install_screen(InsideScreen(), INSIDE)
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
        yield SystemCommand("ASCII / Unicode and colour", "Toggle", self.action_toggle_glyphs)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Feature-map layer", "conv1 / conv2", screen.action_next_layer)
            yield SystemCommand("Loss: log scale", "Toggle", screen.action_toggle_log_scale)
            yield SystemCommand("Loss: smoothing", "Toggle", screen.action_toggle_smoothing)
        yield SystemCommand("Quit", "Stop training and save a checkpoint", self.action_quit)
