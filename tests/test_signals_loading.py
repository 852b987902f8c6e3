"""SIGTERM or SIGINT while the data loads: one line, exit 143 / 130, no traceback.

To catch the process in the middle of loading, the test makes it download: no cache, not
offline, and an HTTP proxy (this test's own socket) that accepts the connection and never
answers. Once the connection is accepted the process is inside ``load_data``, waiting.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_the_data_loads_is_one_line(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as proxy:
        proxy.settimeout(120)
        address = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy",)}
        env.pop("CNN_TUI_OFFLINE", None)
        env.update({name: address for name in PROXY_VARS})
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        proc = subprocess.Popen(
            [sys.executable, "-m", "cnn_tui", "--headless", "--run-dir", str(tmp_path / "run")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            connection, _ = proxy.accept()  # the process is downloading its data now
        except TimeoutError:
            proc.kill()
            raise
        with connection:
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.splitlines() == [f"cnn-tui: stopped by {sig.name} before training started"]
    assert out == ""
    partial = list((tmp_path / "cache").rglob("*.part"))
    assert partial == []  # the download's temporary file went with it
