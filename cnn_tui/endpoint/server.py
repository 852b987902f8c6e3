"""The run endpoint: a Unix socket through which any number of viewers watch and steer a run.

:class:`Endpoint` is a sink of the engine's events (``publish`` only hands the event to the
endpoint's own thread, so training never waits on a viewer) and a source of its commands
(``Control.submit``, the same requests the in-process monitor makes). Its thread runs an
asyncio loop that folds each event into a :class:`RunView`, encodes it once, and queues the
line for every viewer it concerns (:mod:`.link` bounds each queue). A new viewer gets the
server's hello, the view as it stands (:mod:`.catchup`), then the live stream.

Who may connect: the socket is 0600 in a 0700 directory, and the peer's uid must be ours.
What a viewer may say: :mod:`.protocol`; a bad message gets an error reply, ten in a row a
disconnect, and none of it reaches the engine unless it is a valid request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from pathlib import Path
from typing import Any

import torch

from cnn_tui.endpoint import address
from cnn_tui.endpoint.catchup import view_lines
from cnn_tui.endpoint.link import MAX_ERRORS, TOO_LONG, Pace, ViewerLink, read_lines
from cnn_tui.endpoint.protocol import (
    PICTURES,
    PROTOCOL_VERSION,
    ProtocolError,
    check_hello,
    event_line,
    parse_pace,
    parse_request,
    request_id,
)
from cnn_tui.engine.control import Announce, Control, ForgetViewer, ProbeIndex
from cnn_tui.engine.events import (
    BatchLogged,
    Event,
    HealthSampled,
    ProbeTaken,
    RunStarted,
    RunState,
    SamplesPredicted,
    SystemSampled,
)
from cnn_tui.runview import RunView
from cnn_tui.wire.codec import encode_tensor
from cnn_tui.wire.lines import LineError, read_line, write_line

HELLO_TIMEOUT_S = 10.0


class Throttled(ProtocolError):
    """A well-formed command over the viewer's rate."""


ROUTINE = (HealthSampled, SystemSampled, SamplesPredicted)  # and more: see is_routine
BLOB_DIGITS = 640  # test digits per blob message: 500 kB of pixels, 670 kB of base64


class Endpoint:
    """Serves the run in ``run_dir`` on its control socket (see the module docstring)."""

    def __init__(
        self,
        run_dir: Path,
        *,
        run_id: str,
        control: Control,
        on_hangup: str = "continue",
        stop_when_unwatched: bool = False,
        owner_uid: int | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.run_id = run_id
        self.control = control
        self.on_hangup = on_hangup
        # A run started from a monitor or --detach waits for more epochs when it is done;
        # with nobody left watching, it stops instead of waiting forever.
        self.stop_when_unwatched = stop_when_unwatched
        self.owner_uid = os.getuid() if owner_uid is None else owner_uid
        self.view = RunView()
        self.viewers: dict[int, ViewerLink] = {}
        self.owner_arrived = threading.Event()
        self.path = address.socket_path(run_dir)
        self._next_id = 1
        self._bound: tuple[int, int] | None = None  # the socket's (device, inode) once bound
        self._test_images: torch.Tensor | None = None
        self._blob_parts: list[dict[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # one per connection

    # -- lifetime (any thread) ------------------------------------------------------------
    def start(self) -> None:
        """Bind the socket and serve it from a thread of its own; OSError if it cannot."""
        sock = self._bind()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run_loop, args=(sock, ready), name="cnn-tui endpoint", daemon=True
        )
        self._thread.start()
        ready.wait()

    def close(self, reason: str = "the run has ended") -> None:
        """Say ``reason`` to every viewer, stop serving, remove the socket."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or self._stopped.is_set():
            return
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(self._shutdown(reason), loop).result(timeout=5)
        self._stopped.set()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if self._still_ours():
            self._unlink()

    def publish(self, event: Event) -> None:
        """The engine's sink: hand ``event`` over, never waiting."""
        loop = self._loop
        if loop is not None and not self._stopped.is_set():
            with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody to tell
                loop.call_soon_threadsafe(self._dispatch, event)

    __call__ = publish

    @property
    def viewer_count(self) -> int:
        return len(self.viewers)

    # -- the loop's thread ----------------------------------------------------------------
    def _bind(self) -> socket.socket:
        self._unlink()  # a socket left by a crashed run (we hold the run's lock)
        link = self.run_dir.absolute() / address.SOCKET_NAME
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)
        try:
            sock.bind(os.fspath(self.path))
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(previous)
        os.chmod(self.path, 0o600)
        bound = os.stat(self.path)
        self._bound = (bound.st_dev, bound.st_ino)
        if self.path != link:
            os.symlink(self.path, link)
        sock.listen(16)
        sock.setblocking(False)
        return sock

    def _still_ours(self) -> bool:
        """Whether the socket at our path is the one we bound: a run directory deleted and
        made again under a live run holds the new run's socket, which is not ours to remove."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return True  # nothing there: the link may still be
        return (now.st_dev, now.st_ino) == self._bound

    def _unlink(self) -> None:
        link = self.run_dir.absolute() / address.SOCKET_NAME
        for path in {link, self.path}:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _run_loop(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            self._server = await asyncio.start_unix_server(self._serve, sock=sock)

        loop.run_until_complete(serve())
        ready.set()
        try:
            loop.run_forever()
        finally:
            # Connections still open end here, not as "Task was destroyed" at exit.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _shutdown(self, reason: str) -> None:
        """Tell every viewer ``reason``, give them a moment to take their last lines, and
        end every connection's task (none is left pending when the loop stops)."""
        if self._server is not None:
            self._server.close()
        for link in list(self.viewers.values()):
            link.close_with(reason)
        tasks = set(self._tasks)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=3)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # -- events out -----------------------------------------------------------------------
    def _dispatch(self, event: Event) -> None:
        if isinstance(event, RunStarted) and event.test_images is not None:
            self._test_images, self._blob_parts = event.test_images, None
        targets = list(self.viewers.values())
        if isinstance(event, ProbeTaken) and event.viewers is not None:
            targets = [v for v in targets if v.id in event.viewers]
        else:
            if isinstance(event, ProbeTaken) and event.source == "test":
                targets = [v for v in targets if v.chosen_digit is None]
            self.view.apply(event)
        if targets:
            line = event_line(event)
            picture, pace = isinstance(event, PICTURES), pace_of(event)
            routine = is_routine(event)
            for link in targets:
                link.send(line, picture=picture, pace=pace, routine=routine)
                if link.closing:  # too far behind: it counts as gone from now on
                    self._detach(link)
        self._stop_if_unwatched()

    def _stop_if_unwatched(self) -> None:
        if self.stop_when_unwatched and not self.viewers and self.view.state is RunState.DONE:
            self.control.stop()

    def _hello(self) -> dict[str, Any]:
        view = self.view
        best = max(view.curves.test_acc, default=None)
        return {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "pid": os.getpid(),
            "state": view.state.value,
            "epoch": view.epoch,
            "epochs": view.hparams.epochs,
            "best_accuracy": best,
            "viewers": len(self.viewers),
        }

    # -- a viewer -------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._converse(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            address.check_peer(address.peer_uid(sock), expected=self.owner_uid, who="viewer")
        except OSError:
            writer.close()
            return
        writer.write(write_line(self._hello()))
        lines = read_lines(reader)
        try:
            first = await asyncio.wait_for(anext(lines), HELLO_TIMEOUT_S)
            hello = read_line(first) if isinstance(first, bytes) else None
            if hello is None:
                raise ProtocolError("a line over the size limit")
            check_hello(hello, server=False)
        except (StopAsyncIteration, TimeoutError, ConnectionError):
            writer.close()  # a status check (cnn-tui runs), or a client gone quiet
            return
        except (LineError, ProtocolError) as err:
            writer.write(write_line({"type": "bye", "reason": str(err)}))
            writer.close()
            return
        link = self._attach(writer, hello)
        pump = asyncio.create_task(link.pump())
        try:
            async for line in lines:
                self._receive(link, line)
                if link.errors >= MAX_ERRORS:
                    link.close_with(f"{MAX_ERRORS} bad messages in a row: disconnected")
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._detach(link)
            link.close_with("goodbye")
            with contextlib.suppress(Exception):
                await pump

    def _attach(self, writer: asyncio.StreamWriter, hello: dict[str, Any]) -> ViewerLink:
        link = ViewerLink(
            self._next_id,
            writer,
            role=str(hello.get("role", "viewer")),
            read_only=hello.get("read_only") is True,
        )
        self._next_id += 1
        transport = writer.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.set_write_buffer_limits(high=256 << 10)
        for line in view_lines(self.view):
            link.send(line)
        self.viewers[link.id] = link
        if link.role == "owner":
            self.owner_arrived.set()
        else:
            self._announce(f"a viewer attached ({len(self.viewers)} watching)")
        self._tell_watching()
        return link

    def _detach(self, link: ViewerLink) -> None:
        if self.viewers.pop(link.id, None) is None:
            return
        self.control.submit(ForgetViewer(link.id))
        if link.role == "owner" and link.said_bye is None:
            if self.on_hangup == "stop":
                self._announce("the monitor that started the run went away: stopping", "warning")
                self.control.stop()
            else:
                self._announce(
                    "the monitor that started the run went away (hang-up?): training goes on; "
                    f"cnn-tui attach {self.run_id}",
                    "warning",
                )
        elif link.role == "owner":
            self._announce(f"detached: training goes on; cnn-tui attach {self.run_id}")
        else:
            self._announce(f"a viewer left ({len(self.viewers)} watching)")
        self._tell_watching()
        self._stop_if_unwatched()

    def _tell_watching(self) -> None:
        """How many watch, to every viewer: they share the box's CPU (tui/pacing.py)."""
        line = write_line({"type": "watching", "viewers": len(self.viewers)})
        for link in list(self.viewers.values()):
            link.send(line)

    def _announce(self, message: str, level: str = "info") -> None:
        self.control.submit(Announce(message, level))

    def _receive(self, link: ViewerLink, line: bytes | object) -> None:
        message: dict[str, Any] | None = None
        try:
            if line is TOO_LONG or not isinstance(line, bytes):
                raise ProtocolError("a line over the size limit: skipped")
            message = read_line(line)
            self._handle(link, message)
            link.errors = 0
        except (LineError, ProtocolError) as err:
            # A valid command over the rate is refused, but it is no reason to hang up.
            link.errors = link.errors if isinstance(err, Throttled) else link.errors + 1
            reply: dict[str, Any] = {"type": "reply", "ok": False, "error": str(err)}
            if message is not None:
                reply["id"] = request_id(message)
            link.send(write_line(reply))

    def _handle(self, link: ViewerLink, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "command":
            self._command(link, message)
        elif kind == "fetch":
            self._fetch(link, message)
        elif kind == "pace":
            link.slow_down(parse_pace(message))
        elif kind == "bye":
            link.said_bye = str(message.get("reason", ""))[:200]
        else:
            raise ProtocolError(f"unknown message type {kind!r}: command, fetch, pace or bye")

    def _command(self, link: ViewerLink, message: dict[str, Any]) -> None:
        if link.read_only:
            raise ProtocolError("this viewer is read-only: it may watch, not steer")
        if not link.spend_command():
            raise Throttled("too many commands: at most 50 a second")
        request = parse_request(message, link.id)
        try:
            self.control.submit(request)
        except ValueError as err:  # ConfigError included: a value out of bounds
            field = getattr(err, "field", None)
            raise ProtocolError(f"{field} {err}" if field else str(err)) from None
        if isinstance(request, ProbeIndex):
            link.chosen_digit = request.index
        link.send(write_line({"type": "reply", "id": request_id(message), "ok": True}))

    def _fetch(self, link: ViewerLink, message: dict[str, Any]) -> None:
        if message.get("what") != "test_images":
            raise ProtocolError("only test_images can be fetched")
        if self._test_images is None:
            raise ProtocolError("the run has no test digits yet")
        if self._blob_parts is None:  # encoded once, for every viewer that asks
            images = self._test_images
            self._blob_parts = [
                encode_tensor(images[start : start + BLOB_DIGITS])
                for start in range(0, len(images), BLOB_DIGITS)
            ]
        ident = request_id(message)
        for part, data in enumerate(self._blob_parts):
            line = {
                "type": "blob",
                "id": ident,
                "what": "test_images",
                "part": part,
                "parts": len(self._blob_parts),
                "data": data,
            }
            link.send(write_line(line))


def is_routine(event: Event) -> bool:
    """Whether ``event`` may wait a moment to go out with others (see link.py): the stream
    of metrics and the run's own pictures, not what a viewer waits for or must see at once."""
    if isinstance(event, ProbeTaken):
        return event.viewers is None and event.source == "test"
    if isinstance(event, BatchLogged):
        return not event.stepped  # the batch a viewer's `s` asked for shows at once
    return isinstance(event, ROUTINE)


def pace_of(event: Event) -> Pace | None:
    """How a picture is paced for a viewer (see link.py): the samples, and the probe of
    each test digit. A drawn digit's probe answers a stroke: never held back."""
    if isinstance(event, SamplesPredicted):
        return Pace("samples")
    if isinstance(event, ProbeTaken) and event.source == "test":
        return Pace("probe", event.index)
    return None
