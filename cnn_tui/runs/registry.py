"""Every run of this user, wherever its ``--run-dir`` is: a directory of links, one per run.

``$XDG_DATA_HOME/cnn-tui/registry/<id>`` links to the run's directory. :func:`register`
adds a run (keeping the id a resumed run already has), :func:`list_runs` reads each run's
record and asks the lock whether it is alive — and, if it is, its endpoint how it stands —
and :func:`find_run` turns what a user typed (an id, a unique prefix of one, or a path)
into a run directory. A link whose directory is gone is pruned as it is read.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_tui.runs.lock import is_live
from cnn_tui.runs.record import RunRecord, read_record

FINAL_STATES = ("done", "stopped", "failed", "forked")  # forked: not started yet


class RunNotFound(Exception):
    """What the user named is no run of theirs; ``str(err)`` says what to do."""


def data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cnn-tui"


def registry_dir() -> Path:
    path = data_home() / "registry"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def new_id(run_dir: Path) -> str:
    """An id for a new run: its directory's name, made unique among registered runs."""
    base = run_dir.name or "run"
    taken = registry_dir()
    candidate, n = base, 1
    while (taken / candidate).is_symlink() and _target(taken / candidate) != run_dir.absolute():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def register(run_dir: Path, run_id: str) -> None:
    link = registry_dir() / run_id
    target = run_dir.absolute()
    if link.is_symlink() and _target(link) == target:
        return
    tmp = link.with_name(f".{run_id}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


@dataclass(frozen=True)
class RunInfo:
    record: RunRecord
    run_dir: Path
    state: str  # running / paused / testing / done / stopped / failed / diverged / crashed
    live: bool
    viewers: int | None
    best_accuracy: float | None
    epoch: int

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.record.created)


def list_runs(*, ask_live: bool = True) -> list[RunInfo]:
    """Every registered run, oldest first."""
    runs = []
    for link in registry_dir().iterdir():
        if link.name.startswith(".") or not link.is_symlink():
            continue
        run_dir = _target(link)
        record = read_record(run_dir)
        if record is None:
            if not run_dir.exists():
                with contextlib.suppress(OSError):
                    link.unlink()
            continue
        runs.append(_info(record, run_dir, ask_live))
    return sorted(runs, key=lambda r: r.record.created)


def _info(record: RunRecord, run_dir: Path, ask_live: bool) -> RunInfo:
    live = is_live(run_dir)
    state, best, epoch = record.state, record.best_accuracy, record.epoch
    viewers: int | None = None
    hello = _hello(run_dir) if live and ask_live else None
    if hello is not None:  # a live run says how it stands now
        state = str(hello.get("state", state))
        viewers = _number(hello.get("viewers"), int)
        best = _number(hello.get("best_accuracy"), float) or best
        epoch = _number(hello.get("epoch"), int) or epoch
    elif not live and state not in FINAL_STATES:
        state = "crashed"
    return RunInfo(record, run_dir, state, live, viewers, best, epoch)


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return kind(value) if ok else None


def _hello(run_dir: Path) -> dict[str, Any] | None:
    """The run's own word on how it stands: the first line its endpoint sends."""
    from cnn_tui.endpoint import address  # no torch: the listing stays quick
    from cnn_tui.wire.lines import LineError, read_line

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(str(address.resolve(run_dir)))
            address.check_peer(address.peer_uid(sock), who="run")
            with sock.makefile("rb") as lines:
                return read_line(lines.readline(1 << 16))
    except (OSError, LineError):
        return None


def find_run(name: str, *, live_only: bool = False) -> Path:
    """The run directory ``name`` stands for: a path, an id, or a unique prefix of an id.

    With ``live_only`` the choice is among running runs, and naming one that has ended
    says so.
    """
    path = Path(name).expanduser()
    if path.is_dir() and (read_record(path) is not None or (path / "events.jsonl").exists()):
        return path
    every = {
        link.name: _target(link)
        for link in registry_dir().iterdir()
        if link.is_symlink() and not link.name.startswith(".")
    }
    entries = {k: v for k, v in every.items() if is_live(v)} if live_only else every
    found = _match(name, entries)
    if found is not None:
        return found
    ended = _match(name, every) if live_only else None
    if ended is not None:
        raise RunNotFound(f"{name} is not running: cnn-tui runs shows how it ended")
    matches = sorted(k for k in entries if k.startswith(name))
    what = "running run" if live_only else "run"
    if not matches:
        raise RunNotFound(f"no {what} is called {name!r}: cnn-tui runs lists them")
    raise RunNotFound(
        f"{name!r} could be any of {', '.join(matches[:4])}{'…' if len(matches) > 4 else ''}: "
        "type more of the id"
    )


def _match(name: str, entries: dict[str, Path]) -> Path | None:
    if name in entries:
        return entries[name]
    matches = [k for k in entries if k.startswith(name)]
    return entries[matches[0]] if len(matches) == 1 else None


def newest_live() -> Path:
    live = [r for r in list_runs(ask_live=False) if r.live]
    if not live:
        raise RunNotFound("no run is going: start one with cnn-tui --detach, or name one")
    return live[-1].run_dir


def _target(link: Path) -> Path:
    return Path(os.readlink(link))
