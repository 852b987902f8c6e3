"""A real (tiny) run served on its endpoint in this process, and a viewer that reads it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_tui.data import LoadedData
from cnn_tui.endpoint.client import RunClient
from cnn_tui.endpoint.server import Endpoint
from cnn_tui.engine.events import Tee
from cnn_tui.engine.session import Run
from tests.helpers import Recorder, WatchedControl, open_test_run


@dataclass
class Served:
    endpoint: Endpoint
    run: Run
    control: WatchedControl
    recorder: Recorder
    run_dir: Path

    @property
    def batches(self) -> int:
        p = self.run.trainer.progress
        return p.batch_index + (p.epoch - 1) * 1000


@contextmanager
def served_run(
    data: LoadedData,
    run_dir: Path,
    *,
    paused: bool = False,
    owner_uid: int | None = None,
    **options: Any,
) -> Iterator[Served]:
    """A run of ``data`` in a thread, serving ``run_dir``'s socket; stopped and closed after."""
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    control = WatchedControl(paused=paused)
    recorder = Recorder()
    endpoint = Endpoint(run_dir, run_id="test-run", control=control, owner_uid=owner_uid)
    endpoint.start()
    options.setdefault("epochs", 50)
    run = open_test_run(data, Tee([recorder, endpoint]), run_dir, control=control, **options)
    thread = threading.Thread(target=run.run, kwargs={"linger": True}, daemon=True)
    thread.start()
    try:
        yield Served(endpoint, run, control, recorder, run_dir)
    finally:
        control.stop()
        thread.join(30)
        endpoint.close()


@dataclass
class Viewer:
    """A client whose messages a thread collects; tests wait on what arrives."""

    client: RunClient
    messages: list[dict[str, Any]] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for message in self.client.messages():
                with self._cond:
                    self.messages.append(message)
                    self._cond.notify_all()
        except OSError:
            pass
        finally:
            self.ended.set()
            with self._cond:
                self._cond.notify_all()

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        with self._cond:
            found: list[dict[str, Any]] = []

            def seen() -> bool:
                found[:] = [m for m in self.messages if match(m)][:1]
                return bool(found) or self.ended.is_set()

            self._cond.wait_for(seen, timeout)
            if not found:
                raise AssertionError("the message never came")
            return found[0]

    def events(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            return [m for m in self.messages if m.get("type") == "event" and m["name"] == name]


def state_is(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: (
        m.get("type") == "event" and m["name"] == "StateChanged" and m["data"]["state"] == state
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    """Until ``predicate()`` holds (it reads what the program reports); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("it never happened")
        time.sleep(0.005)
