"""The Textual app: wiring only — a session in a worker thread, updates in, requests out.

The worker thread runs the session (an engine in this process, or a connection to a run's
endpoint); its sink posts each update as a message (thread-safe, never blocking). The app
folds updates into a :class:`RunView` as they arrive and redraws on a timer a few times a
second, never per event. Keys (and a drawn digit) become requests to the session, here and
nowhere else (:mod:`.steering`); what the run did about them comes back as events.

How the app ends depends on who it is: the monitor that started the run stops it with
``q``; an attached one only detaches (``q``, or ``D`` for both), and stops the run with
``X`` after asking. A hang-up of the terminal leaves at once: a run in another process
goes on (its endpoint notices), an engine in this process is stopped with a checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from cnn_tui.endpoint.remote import RemoteSession
from cnn_tui.engine.control import Stop
from cnn_tui.engine.events import Diverged, Failed, Forked, RunState, StateChanged
from cnn_tui.render import Glyphs, default_glyphs
from cnn_tui.runview import Disconnected, Part, RunView, Update, ViewRestored
from cnn_tui.spawn import Started, StartFailed, launch
from cnn_tui.tui.comparisons import Comparisons
from cnn_tui.tui.fork_launch import fork_argv
from cnn_tui.tui.glyphs_app import GlyphsApp
from cnn_tui.tui.messages import Inbox, RunUpdates
from cnn_tui.tui.pacing import LOOK_EVERY, Pacer
from cnn_tui.tui.screens.confirm import ConfirmDialog
from cnn_tui.tui.screens.dashboard import DashboardScreen
from cnn_tui.tui.screens.help import HelpScreen, help_sections
from cnn_tui.tui.screens.inside import InsideScreen
from cnn_tui.tui.screens.runs_picker import RunsPicker
from cnn_tui.tui.screens.view_screen import ViewScreen
from cnn_tui.tui.session import OpenSession, Session, Sink
from cnn_tui.tui.steering import Steering

QUIT_TIMEOUT_S = 10.0

INSIDE = "inside"
QUIT_HELP = "quit: stop the run it started, else detach"
COMPARE_HELP = "compare: other runs on the charts"
OVERLAYS_EVERY = 2.0  # seconds between reads of the compared runs' logs
BELL_STATES = (RunState.DONE, RunState.FAILED, RunState.STOPPED)


class CnnTuiApp(Steering, GlyphsApp[int]):
    CSS_PATH = "app.tcss"
    TITLE = "cnn-tui"
    # The tooltips are the help screen's lines (and the footer's, on hover).
    BINDINGS = [
        *Steering.BINDINGS,
        Binding("i", "toggle_inside", "Inside", tooltip="inside the CNN (its keys below)"),
        Binding("o", "compare", "Compare", show=False, tooltip=COMPARE_HELP),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="these keys"),
        Binding("D", "detach", "Detach", show=False, tooltip="detach: the run goes on"),
        Binding("X", "stop_run", "Stop run", show=False, tooltip="stop the run (asks first)"),
        Binding("q", "quit", "Quit", tooltip=QUIT_HELP),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, tooltip=QUIT_HELP),
    ]

    def __init__(
        self,
        open_session: OpenSession,
        *,
        glyphs: Glyphs | None = None,
        redraw_hz: float = 4.0,
        continue_epochs: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        compare: Sequence[Path] = (),
        freeze_heap: bool = False,
        pacer: Pacer | None = None,
    ) -> None:
        """``freeze_heap``: this app is the process (the monitor's command, not a test), and
        once the run is on screen what is alive (torch, Textual, the restored view) may be
        kept out of the garbage collector's sweeps: 0.9% of a core less per monitor, which on a
        CPU-bound box is training's (benchmarks/ui_overhead.py). ``pacer``: this monitor
        shares the box's CPU with training and the run's other monitors (tui/pacing.py)."""
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
        self.leaving = False
        self.outcome = "running"  # how the app ended: stopped, detached, ended, lost
        self.comparisons = Comparisons()
        self.comparisons.choose(list(compare))
        self.pending_fork: dict[str, Any] | None = None
        self.generation = 0  # of the session followed: a fork starts the next
        self.child: Started | None = None  # the run's process, when this monitor started it
        self.freeze_heap = freeze_heap
        self.pacer = pacer
        self._told_pacing = False
        self._paced = (self.generation, 1.0)  # the pace the followed run was told

    def get_default_screen(self) -> Screen[Any]:
        return DashboardScreen()

    def on_mount(self) -> None:
        self.session = self.open_session(self.sink_for(self.generation))
        if self.session.read_only:
            self.sub_title = "read-only"
        self.set_interval(1 / self.redraw_hz, self.redraw)
        self.set_interval(OVERLAYS_EVERY, self.refresh_overlays)
        if self.pacer is not None:
            self.set_interval(LOOK_EVERY, self.look_at_cpu)
        self.worker = self.run_worker(
            self._follow,
            thread=True,
            exclusive=True,
            group="session",
            name="session",
            exit_on_error=False,
        )
        loop = asyncio.get_running_loop()
        handlers = {signal.SIGTERM: self.action_quit, signal.SIGHUP: self.hang_up}
        for sig, handler in handlers.items():
            # not possible off the main thread (tests) or on a loop without signals
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.call_later, handler)

    def on_unmount(self) -> None:
        # However the app ends (q, a crash in a widget, a test leaving run_test), the session
        # must end too: a lingering worker thread would keep the process from exiting.
        if self.session is not None and not self.leaving:
            self.session.leave()

    def _follow(self) -> RunState:
        assert self.session is not None
        return self.session.run()

    # -- updates in -----------------------------------------------------------------------
    def sink_for(self, generation: int) -> Sink:
        """The sink of the session of ``generation``, called on its worker thread. The
        generation is the session's, not the app's when the update comes: a session left
        for a fork still says goodbye (Disconnected) after the app follows the fork."""
        inbox = Inbox(generation)

        def post_update(update: Update) -> None:
            if inbox.put(update):
                self.post_message(RunUpdates(inbox))

        return post_update

    def on_run_updates(self, message: RunUpdates) -> None:
        updates = message.inbox.take()
        if message.inbox.generation != self.generation:
            return  # from the run this monitor followed before a fork
        for update in updates:
            self.apply_update(update)

    def apply_update(self, update: Update) -> None:
        if isinstance(update, Forked) and self.pending_fork is not None:
            self.start_fork(update)
        self.view.apply(update)
        if isinstance(update, ViewRestored) and self.freeze_heap:
            self.call_after_refresh(gc.freeze)
        if at_once := self.view.take_at_once():  # a state change, a digit the user chose
            self.redraw(at_once=at_once)
        if self._rings(update):
            self.bell()
        if isinstance(update, Disconnected) and not self.leaving:
            self.outcome = "ended" if self.view.state in BELL_STATES else "lost"

    def _rings(self, update: Update) -> bool:
        """The run ended, diverged or failed: worth a bell in a terminal out of sight."""
        if isinstance(update, (Diverged, Failed)):
            return True
        return isinstance(update, StateChanged) and update.state in BELL_STATES

    def redraw(self, *, force: bool = False, at_once: frozenset[Part] = frozenset()) -> None:
        """Sync the visible screens with the view: the top one, and any under a modal dialog.

        One timer for every view widget (each throttled by its own ``EVERY``): the widgets
        stay passive, a tick is one ``batch_update``, and screens out of sight cost nothing.
        ``force`` redraws whatever changed now; ``at_once``, only the widgets drawing those
        parts (a state change repaints the status line, not the charts: on a slow machine
        their repaint made PAUSED show ~80 ms later).
        """
        now = None if force else self.clock()
        with self.batch_update():
            for screen in reversed(self.screen_stack):
                if isinstance(screen, ViewScreen):
                    screen.sync(self.view, now, at_once, self.stretch)
                if not isinstance(screen, ModalScreen):
                    break  # what lies under an opaque screen is not drawn: leave it alone

    @property
    def stretch(self) -> float:
        """How much longer than their own intervals the widgets wait between redraws."""
        return self.pacer.stretch if self.pacer is not None else 1.0

    def look_at_cpu(self) -> None:
        """Share the box with training while its cores are busy (tui/pacing.py); say so once."""
        assert self.pacer is not None
        watching = self.session.watching if self.session is not None else 1
        stretch = self.pacer.look(watching)
        paced = (self.generation, round(stretch, 1))
        if self.session is not None and paced != self._paced:
            self._paced = paced  # what it draws less often, the run sends less often
            self.session.pace(stretch)
        if stretch > 1 and not self._told_pacing:
            self._told_pacing = True
            who = "this monitor has" if watching == 1 else f"the {watching} monitors share"
            self.notify(
                f"the box's cores are busy training: {who} {self.pacer.budget:.0%} of a core, "
                "so charts and pictures redraw less often",
                timeout=8,
            )

    def refresh_overlays(self, *, force: bool = False) -> None:
        """Other runs' new points (files read where they grew) onto the charts."""
        overlays = self.comparisons.refresh(self.view, force=force)
        if overlays is not None:
            self.view.show_overlays(overlays)

    # -- forks (F, in steering.py, asks for one) ---------------------------------------------
    def start_fork(self, forked: Forked) -> None:
        """Start the fork's run (in the background) with the settings asked for; follow it."""
        changes, self.pending_fork = self.pending_fork or {}, None
        argv = fork_argv(forked.run_dir, changes, self.view.started)
        self.notify(f"forked at @{forked.examples_seen:,}: starting the fork{self.glyphs.ellipsis}")

        def start() -> None:
            try:
                started = launch(argv, owner=True).wait()
                session = RemoteSession(started.run_dir, owner=True)
            except (StartFailed, OSError) as err:
                self.call_from_thread(
                    self.notify, f"the fork did not start: {err}", severity="error"
                )
                return
            self.call_from_thread(self.follow, session, started, Path(forked.parent_dir))

        self.run_worker(start, thread=True, group="fork", name="fork")

    def follow(self, session: RemoteSession, started: Started, parent: Path) -> None:
        """Leave the run on screen (it goes on, or waits, without this monitor) for ``session``:
        the fork this monitor started, with the parent's curve for company."""
        if self.session is not None:
            self.session.leave()
        self.generation += 1
        self.view = RunView()
        self.comparisons.add(parent, "parent")
        self.child = started
        self.session = session.bind(self.sink_for(self.generation))
        self.worker = self.run_worker(
            self._follow, thread=True, exclusive=True, group="session", name="session"
        )
        self.refresh_overlays(force=True)
        self.redraw(force=True)

    # -- screens --------------------------------------------------------------------------
    def action_compare(self) -> None:
        def chosen(run_dirs: list[Path] | None) -> None:
            if run_dirs is not None:
                self.comparisons.choose(run_dirs)
                self.refresh_overlays(force=True)
                self.redraw(force=True)

        current = self.session.run_dir if self.session is not None else None
        self.push_screen(RunsPicker(current, self.comparisons.run_dirs), chosen)

    def action_toggle_inside(self) -> None:
        """Between the dashboard and the inside screen (kept, with its pane and drawing)."""
        if isinstance(self.screen, InsideScreen):
            self.pop_screen()
        elif isinstance(self.screen, DashboardScreen):
            if not self.is_screen_installed(INSIDE):
                self.install_screen(InsideScreen(), INSIDE)
            self.push_screen(INSIDE)
            if self.session is not None:
                self.session.request_test_images()  # the gallery of mistakes draws them
        else:
            return
        self.call_after_refresh(self.redraw, force=True)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            run_dir = str(self.session.run_dir) if self.session else None
            self.push_screen(HelpScreen(help_sections(self), run_dir))

    # -- leaving --------------------------------------------------------------------------
    async def action_quit(self) -> None:
        """The monitor that started the run stops it; an attached one detaches."""
        if self.session is not None and self.session.owner:
            await self.stop_and_leave()
        else:
            self.action_detach()

    def action_detach(self) -> None:
        """Leave the run training without this monitor."""
        if self.session is None or self.leaving:
            return
        self.leaving, self.outcome = True, "detached"
        self.session.leave()
        self.exit(0)

    def action_stop_run(self) -> None:
        if self.refuse_if_read_only():
            return

        async def confirmed(yes: bool | None) -> None:
            if yes:
                await self.stop_and_leave()

        self.push_screen(ConfirmDialog("Stop the run? It saves a checkpoint first."), confirmed)

    async def stop_and_leave(self) -> None:
        """Stop the run (it saves a checkpoint), wait until it has, then exit."""
        if self.leaving or self.session is None:
            return
        self.leaving, self.outcome = True, "stopped"
        self.session.send(Stop())
        if self.worker is not None:
            # a failed run has already said why in the log
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.worker.wait(), QUIT_TIMEOUT_S)
        self.session.leave()
        self.exit(0)

    async def hang_up(self) -> None:
        """The terminal is gone (SSH dropped): leave without drawing.

        Textual's own shutdown writes to the terminal to restore it and, with no terminal
        left, blocks forever. A run in another process goes on; an engine in this one is
        stopped first, so that its checkpoint is saved.
        """
        if self.session is not None and self.session.owner and not self.session.remote:
            await self.stop_and_leave()
        os._exit(128 + signal.SIGHUP)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from self.steering_commands()
        yield SystemCommand(
            "Inside the CNN", "Pipeline, filters, confusion, draw", self.action_toggle_inside
        )
        yield SystemCommand("ASCII / Unicode and colour", "Toggle", self.action_toggle_glyphs)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Feature-map layer", "conv1 / conv2", screen.action_next_layer)
            yield SystemCommand("Loss: log scale", "Toggle", screen.action_toggle_log_scale)
            yield SystemCommand("Loss: smoothing", "Toggle", screen.action_toggle_smoothing)
        yield SystemCommand("Detach", "Leave the run training", self.action_detach)
        yield SystemCommand("Stop the run", "It saves a checkpoint", self.action_stop_run)
        yield SystemCommand("Quit", QUIT_HELP, self.action_quit)
