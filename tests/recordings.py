"""The recorded runs the UI tests replay: committed under ``tests/fixtures/``, replayed as is.

A screen drawn from a run trained inside the test differs between machines: float results of
the model differ in the last digit between CPUs (``pred 9 (25%)`` against ``(24%)``). So
the runs the snapshots show were trained once, and their events saved with the answers the
recorded network gave to the probes the tests ask for (the ``n``/``p`` digits, a drawn 7):
:mod:`cnn_tui.recording`'s files. A normal run only reads them; nothing is trained, and no
network runs again (that too depends on the CPU).

``pytest --update-recordings`` makes them again: each recording's recipe trains for real
(:func:`cnn_tui.tui.replay.record`, the packaged sample, seed 1, CPU, one thread) or builds
its seeded network, that live network answers every probe the tests ask for, and at the end
of the session each file is rewritten with the events and the answers the tests used. Run
it over the whole suite: a file keeps only the answers of the tests that ran.

Which answers a test used: every test digit it asked for (``n``/``p``), and its last
drawing. A drawing in progress asks for an answer at each stroke the canvas reports, and
how many strokes reach the engine is a matter of timing; the screen, and the test, end on
the last one. Keeping only that one keeps the file's bytes the same from one update to the
next. In a normal run the strokes before it simply go unanswered, as they may with a busy
engine; a test that fails after its last probe went unanswered is told which file lacks the
answer and how to make it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnn_tui import recording
from cnn_tui.config import HyperParams
from cnn_tui.data import LoadedData
from cnn_tui.engine import inference
from cnn_tui.engine.control import Command, ProbeImage, ProbeIndex
from cnn_tui.engine.events import Event, ProbeTaken
from cnn_tui.model import Net
from cnn_tui.tui.replay import record

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = "python -m pytest -q --update-recordings"
Probe = ProbeIndex | ProbeImage
Answerer = Callable[[Command], Event | None]


class MissingAnswer(AssertionError):
    """A test asked a recording for a probe answer it does not hold."""


@dataclass(frozen=True)
class Live:
    """A recording made on the spot: its events, and the live network that answers."""

    events: list[Event]
    answer: Answerer
    net: Net


def inside_demo(data: LoadedData) -> Live:
    run = record(data, stop_at=(2, 30), hparams=HyperParams(log_interval=5))
    return Live(run.events, run.answer, run.net)


def dashboard_demo(data: LoadedData) -> Live:
    run = record(
        data, stop_at=(2, 60), hparams=HyperParams(log_interval=5), changes={(2, 0): {"lr": 0.02}}
    )
    return Live(run.events, run.answer, run.net)


def untrained_net(data: LoadedData) -> Live:
    """No run at all: a seeded, untrained Net answering drawn digits, as an engine would."""
    with torch.random.fork_rng():  # the seed stays here: the global generator is left as it was
        torch.manual_seed(0)
        net = Net()

    def answer(command: Command) -> Event | None:
        if isinstance(command, ProbeImage):
            return inference.probe_drawn(net, command.image, data, examples_seen=0)
        return None

    return Live([], answer, net)


RECIPES: dict[str, tuple[str, Callable[[LoadedData], Live]]] = {
    # name: (what it is, how to make it again)
    "inside-demo": (
        "the packaged MNIST sample, seed 1: into epoch 2, stopped after batch 30",
        inside_demo,
    ),
    "dashboard-demo": (
        "the packaged MNIST sample, seed 1: lr 0.01 -> 0.02 after epoch 1, stopped after"
        " batch 60 of epoch 2",
        dashboard_demo,
    ),
    "untrained-net": (
        "no run: the answers of Net() made after torch.manual_seed(0)",
        untrained_net,
    ),
}


def path_of(name: str) -> Path:
    return FIXTURES / f"{name}.rec.gz"


def shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def missing(name: str, key: str) -> str:
    return (
        f"{shown(path_of(name))} holds no answer to the probe {key!r} this test asked for. "
        f"A recording holds the answers the tests asked for when it was made: make it again "
        f"with `{UPDATE}`, then check the snapshots (see README, Development)."
    )


@dataclass(repr=False)
class Replayed:
    """One recording as the tests use it: its events, and its answers to probes.

    From the file, :meth:`answer` replies with the stored answer, or not at all; under
    ``--update-recordings`` the live network replies, and the answer is kept for the file.
    """

    name: str
    events: list[Event]
    stored: dict[str, ProbeTaken]
    live: Live | None
    store: Store

    def __repr__(self) -> str:  # pytest shows fixtures' values: not a run's every event
        return f"Replayed({self.name!r}, {len(self.events)} events)"

    @property
    def net(self) -> Net | None:
        """The recorded network, only where the recording was made in this session."""
        return self.live.net if self.live is not None else None

    def answer(self, command: Command) -> Event | None:
        """What the recorded engine says to ``command`` (an ``Answer`` for ``replay``)."""
        if not isinstance(command, (ProbeIndex, ProbeImage)):
            return None
        key = recording.request_key(command)
        if self.live is not None:
            reply = self.live.answer(command)
            found = reply if isinstance(reply, ProbeTaken) else None
        else:
            found = self.stored.get(key)
        self.store.asked(self, command, key, found)
        return found

    def probe(self, command: Probe) -> ProbeTaken:
        """The answer to ``command``, which the test needs: missing, the test fails."""
        found = self.answer(command)
        if not isinstance(found, ProbeTaken):
            raise MissingAnswer(missing(self.name, recording.request_key(command)))
        return found


@dataclass(repr=False)
class Store:
    """Every recording a session uses, what its tests ask them, and (updating) the files."""

    update: bool
    loaded: dict[str, Replayed] = field(default_factory=dict)
    kept: dict[str, dict[str, ProbeTaken]] = field(default_factory=dict)  # to save, by name
    _asks: list[tuple[Replayed, Probe, str, ProbeTaken | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, name: str, data: Callable[[], LoadedData]) -> Replayed:
        """The recording ``name``: read from its file, or made again when updating."""
        if name not in self.loaded:
            if self.update:
                live = RECIPES[name][1](data())
                self.loaded[name] = Replayed(name, live.events, {}, live, self)
                self.kept[name] = {}
            else:
                path = path_of(name)
                if not path.exists():
                    raise FileNotFoundError(f"{shown(path)} is missing: make it with `{UPDATE}`")
                saved = recording.load(path)
                self.loaded[name] = Replayed(name, saved.events, saved.answers, None, self)
        return self.loaded[name]

    def asked(self, replayed: Replayed, command: Probe, key: str, found: ProbeTaken | None) -> None:
        with self._lock:  # answers come from the replaying app's worker thread
            self._asks.append((replayed, command, key, found))

    def test_ended(self) -> str | None:
        """Close one test's asks: keep its answers (updating), or say what it lacked."""
        with self._lock:
            asks, self._asks = self._asks, []
        if self.update:
            last_drawing: dict[str, tuple[str, ProbeTaken]] = {}
            for replayed, command, key, found in asks:
                if found is None:
                    continue
                if isinstance(command, ProbeImage):
                    last_drawing[replayed.name] = (key, found)
                else:
                    self.kept[replayed.name][key] = found
            for name, (key, found) in last_drawing.items():
                self.kept[name][key] = found
            return None
        if asks and asks[-1][3] is None:
            replayed, _, key, _ = asks[-1]
            return missing(replayed.name, key)
        return None

    def save(self) -> list[str]:
        """Rewrite the file of every recording made in this session; what was done."""
        done = []
        for name, replayed in self.loaded.items():
            path, answers = path_of(name), dict(sorted(self.kept[name].items()))
            old = path.read_bytes() if path.exists() else b""
            before = recording.load(path).answers if old else {}
            recording.save(path, recording.Recording(replayed.events, answers, RECIPES[name][0]))
            line = f"{shown(path)}: {len(replayed.events)} events, {len(answers)} answers"
            line += ", unchanged" if path.read_bytes() == old else ", CHANGED"
            dropped = sorted(set(before) - set(answers))
            if dropped:
                line += f"; dropped {len(dropped)} answers no test asked for in this session"
            done.append(line)
        return done
