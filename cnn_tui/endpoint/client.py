"""A viewer's side of the run endpoint: connect, check who answers, send, read.

:class:`RunClient` is a plain blocking socket: one thread reads :meth:`messages`, any thread
may :meth:`send` (writes are serialised by a lock). It refuses a run whose process belongs
to another user and a server that speaks another protocol version.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnn_tui.endpoint import address
from cnn_tui.endpoint.protocol import PROTOCOL_VERSION, ProtocolError, check_hello, command_line
from cnn_tui.engine.control import Request
from cnn_tui.wire.lines import MAX_LINE, LineError, read_line, write_line

CONNECT_TIMEOUT_S = 10.0
# The server keeps its lines under MAX_LINE; a little slack so a viewer never refuses a
# line its own version of the server considers fine.
READ_LIMIT = 2 * MAX_LINE


class EndpointError(OSError):
    """No run answers at that address, or it answered wrongly; ``str(err)`` says which."""


class RunClient:
    def __init__(
        self,
        run_dir: Path,
        *,
        role: str = "viewer",
        read_only: bool = False,
        timeout: float = CONNECT_TIMEOUT_S,
        announce: bool = True,
        server_uid: int | None = None,
    ) -> None:
        """Connect and read the server's hello; with ``announce``, say ours (a viewer)."""
        self.run_dir = run_dir
        path = address.resolve(run_dir)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(str(path))
            address.check_peer(address.peer_uid(self._sock), expected=server_uid, who="run")
        except (FileNotFoundError, ConnectionRefusedError):
            self._sock.close()
            raise EndpointError(f"no run is answering in {run_dir}: is it still running?") from None
        except OSError:
            self._sock.close()
            raise
        self._file = self._sock.makefile("rb")
        self._send_lock = threading.Lock()
        self._next_id = 1
        try:
            self.hello = self._read_one()
            check_hello(self.hello, server=True)
        except EOFError:
            self.close()
            raise EndpointError(
                f"the run in {run_dir} did not answer properly: it hung up at once"
            ) from None
        except (ProtocolError, LineError, OSError) as err:
            self.close()
            raise EndpointError(f"the run in {run_dir} did not answer properly: {err}") from None
        if announce:
            hello = {"type": "hello", "protocol": PROTOCOL_VERSION, "role": role}
            if read_only:
                hello["read_only"] = True
            self._write(write_line(hello))
        self._sock.settimeout(None)

    # -- out ------------------------------------------------------------------------------
    def send(self, request: Request) -> int:
        """Send a command; returns the id its reply will carry."""
        with self._send_lock:
            ident = self._next_id
            self._next_id += 1
            self._sock.sendall(command_line(request, ident))
        return ident

    def fetch(self, what: str) -> int:
        with self._send_lock:
            ident = self._next_id
            self._next_id += 1
            self._sock.sendall(write_line({"type": "fetch", "id": ident, "what": what}))
        return ident

    def pace(self, stretch: float) -> None:
        """This viewer redraws ``stretch`` times less often (see protocol.py)."""
        self._write(write_line({"type": "pace", "stretch": round(stretch, 2)}))

    def bye(self, reason: str) -> None:
        """Leave on purpose (a hang-up is a connection that ends without this)."""
        with contextlib.suppress(OSError):
            self._write(write_line({"type": "bye", "reason": reason}))

    def _write(self, line: bytes) -> None:
        with self._send_lock:
            self._sock.sendall(line)

    # -- in -------------------------------------------------------------------------------
    def messages(self) -> Iterator[dict[str, Any]]:
        """Every message until the server closes the connection."""
        while True:
            try:
                yield self._read_one()
            except EOFError:
                return

    def _read_one(self) -> dict[str, Any]:
        try:
            line = self._file.readline(READ_LIMIT + 1)
        except ValueError:  # closed by another thread (the viewer is leaving)
            raise EOFError from None
        if not line:
            raise EOFError
        if not line.endswith(b"\n") and len(line) > READ_LIMIT:
            raise LineError("the run sent a line over the size limit")
        return read_line(line, max_bytes=READ_LIMIT + 1)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            if hasattr(self, "_file"):
                self._file.close()
        self._sock.close()
