"""``cnn-tui serve``: the monitor in a browser, behind a token, an Origin check and a tab cap.

The guard is tested over plain HTTP and websockets; one test drives a real headless
Chromium (skipped where none is installed) to the page and finds the run's status in what
the monitor sends it.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest

from cnn_tui.web import same_origin, viewer_command
from tests.process_helpers import Reaper, cnn_tui

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LONG_RUN = ("--epochs", "50", "--log-interval", "5")
# Captures what the monitor sends the page: xterm.js draws it on a canvas, not in the DOM.
CAPTURE_TERMINAL = """
(() => {
  window.__terminal = "";
  const Real = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Real(...args);
    ws.addEventListener("message", (ev) => {
      window.__terminal += typeof ev.data === "string"
        ? ev.data : new TextDecoder().decode(new Uint8Array(ev.data));
    });
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(reaper: Reaper, tmp_path: Path, *flags: str) -> tuple[str, int]:
    """A run in the background and ``cnn-tui serve`` on it: the printed URL and the port."""
    run_dir = tmp_path / "run"
    reaper.background(*LONG_RUN, "--run-dir", str(run_dir))
    port = free_port()
    server = reaper.popen(
        cnn_tui("serve", str(run_dir), "--port", str(port), *flags),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()  # printed once the server listens
    assert line.startswith("cnn-tui serve: open http://localhost:"), line
    return line.split("open ", 1)[1].strip(), port


def test_serve_wants_the_token_and_its_own_origin(reaper: Reaper, tmp_path: Path) -> None:
    url, port = serve(reaper, tmp_path, "--max-tabs", "1")
    token = url.split("token=", 1)[1]
    base = f"http://127.0.0.1:{port}"
    own = {"Origin": base}

    async def check() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/") as page:
                assert page.status == 403  # no token
            async with http.get(f"{base}/?token=wrong") as page:
                assert page.status == 403
            async with http.get(f"{base}/?token={token}") as page:
                assert page.status == 200
                assert f"ws://127.0.0.1:{port}/ws/{token}" in await page.text()
            for path, headers in (
                (f"/ws/{'x' * len(token)}", own),  # wrong token
                (f"/ws/{token}", {"Origin": "http://evil.example"}),  # another site's page
                (f"/ws/{token}", {}),  # no Origin at all
            ):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(f"{base}{path}", headers=headers)
                assert refused.value.status == 403
            first = await http.ws_connect(f"{base}/ws/{token}?width=80&height=24", headers=own)
            with pytest.raises(aiohttp.WSServerHandshakeError) as full:
                await http.ws_connect(f"{base}/ws/{token}", headers=own)
            assert full.value.status == 503  # --max-tabs 1
            await first.close()

    asyncio.run(check())


def test_origin_must_name_the_host_exactly() -> None:
    assert same_origin("http://localhost:9000", "localhost:9000")  # ssh -L 9000:localhost:8000
    assert not same_origin("http://localhost:9000", "localhost:8000")
    assert not same_origin("http://evil.example:8000", "localhost:8000")
    assert not same_origin("null", "localhost:8000")
    assert not same_origin(None, "localhost:8000")


def test_the_tab_command_quotes_every_piece(tmp_path: Path) -> None:
    odd = tmp_path / "a run; rm -rf ~ $(whoami)"
    command = viewer_command(odd, control=False)
    assert "'" + str(odd) + "'" in command and command.endswith("--web --read-only")
    assert "--read-only" not in viewer_command(odd, control=True)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_a_browser_tab_shows_the_run(reaper: Reaper, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _ = serve(reaper, tmp_path)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(CAPTURE_TERMINAL)
            page.goto(url)
            page.wait_for_function("window.__terminal.includes('RUNNING')", timeout=90_000)
            page.click("#terminal")
            page.keyboard.press("Space")  # read-only: the run must not pause
            page.wait_for_function("window.__terminal.includes('read-only')", timeout=30_000)
        finally:
            browser.close()
    listing = subprocess.run(cnn_tui("runs"), capture_output=True, text=True, check=True).stdout
    state = listing.splitlines()[1].split()[2]
    assert state in ("running", "testing"), listing  # training on: the tab could not pause it
