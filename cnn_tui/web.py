"""``cnn-tui serve``: the monitor in a browser tab, through textual-serve, guarded.

textual-serve runs one process per browser tab through a shell and has no notion of who
is asking. Here every tab attaches a viewer to the same running run (a read-only one
unless ``--control``); nothing ever starts a training. In front of it:

- it listens on 127.0.0.1 unless told otherwise;
- a random token, printed once as Jupyter does, must be in the page's URL and in the
  websocket's path (its query string belongs to textual-serve's page script), so another
  local user who finds the port cannot reach the run;
- the websocket's ``Origin`` must be the page's own host, so a web page elsewhere in the
  user's browser cannot drive it;
- at most ``max_tabs`` tabs at once;
- the command run through the shell is built from quoted pieces only;
- the page's URLs are relative to the host the browser used, so it works behind
  ``ssh -L 9000:localhost:8000`` (another local port) too.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import shlex
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

DEFAULT_PORT = 8000
DEFAULT_TABS = 4


def viewer_command(run_dir: Path, *, control: bool) -> str:
    """The shell command one tab runs: a viewer of the run, every piece quoted."""
    parts = [sys.executable, "-m", "cnn_tui", "attach", str(run_dir), "--web"]
    if not control:
        parts.append("--read-only")
    return " ".join(shlex.quote(p) for p in parts)


class GuardedServer(Server):
    """textual-serve's server behind a token, an Origin check and a cap on tabs."""

    def __init__(
        self,
        command: str,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        title: str = "cnn-tui",
        token: str | None = None,
        max_tabs: int = DEFAULT_TABS,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.token = token or secrets.token_urlsafe(24)
        self.max_tabs = max_tabs
        self.tabs = 0

    @property
    def url(self) -> str:
        shown = "localhost" if self.host in ("127.0.0.1", "localhost", "::1") else self.host
        return f"http://{shown}:{self.port}/?token={self.token}"

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=_templates(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws/{token}", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: textual-serve's logo and URL (without the token) would mislead."""

    def serve(self, debug: bool = False) -> None:
        """textual-serve's ``serve``, but the URL is printed once the port listens: aiohttp
        calls ``print`` after its sites start, ``on_startup`` before (a client reading the
        URL could connect before anyone listened)."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=self._listening,
        )

    def _listening(self, *_: object) -> None:
        print(f"cnn-tui serve: open {self.url}", flush=True)
        print("  (the token is the key to this run: share it with no one; Ctrl-C stops serving)")

    def _has_token(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given, self.token)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        if not self._has_token(request.query.get("token")):
            raise web.HTTPForbidden(text="cnn-tui serve: open the URL it printed, token included")
        base = f"{request.scheme}://{request.host}"
        websocket = "wss" if request.scheme == "https" else "ws"
        return {
            "font_size": _int(request.query.get("fontsize"), 16),
            "app_websocket_url": f"{websocket}://{request.host}/ws/{self.token}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._has_token(request.match_info.get("token")):
            raise web.HTTPForbidden(text="wrong token")
        if not same_origin(request.headers.get("Origin"), request.host):
            raise web.HTTPForbidden(text="this page may only be driven from its own origin")
        if self.tabs >= self.max_tabs:
            raise web.HTTPServiceUnavailable(
                text=f"{self.max_tabs} tabs are open: close one (or serve with --max-tabs)"
            )
        self.tabs += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.tabs -= 1


def same_origin(origin: str | None, host: str) -> bool:
    """True when ``origin`` (the Origin header) names exactly ``host`` (the Host header)."""
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _templates(path: Path) -> Any:
    import jinja2

    return jinja2.FileSystemLoader(path)
