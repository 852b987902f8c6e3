"""Commands reach every rank at the same step: the courier, with real Trainers as ranks.

Two Trainers run in two threads, each with its own network, joined by an in-memory store and
an in-memory all-reduce in place of torch.distributed's: what is tested is when each rank
obeys what (pause, step, hyperparameters, stop), not the gradients (test_ddp.py runs real
processes). Every wait is on what the ranks report — a rank held, an event — never a sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cnn_tui.data import LoadedData
from cnn_tui.engine.control import Control
from cnn_tui.engine.ddp.courier import Courier
from cnn_tui.engine.events import HParamsChanged, RunState, StateChanged
from cnn_tui.engine.session import Run
from cnn_tui.engine.world import World
from tests.ddp_fakes import Hub, MemoryBoard
from tests.helpers import Recorder, open_test_run


class ThreadRank(World):
    """A rank whose commands come by the courier; it trains its whole batch itself."""

    def __init__(self, rank: int, size: int, board: MemoryBoard, hub: Hub) -> None:
        super().__init__()
        self.rank, self.size = rank, size
        self.board, self.hub = board, hub
        self.held = threading.Event()
        self.courier: Courier | None = None

    def control(self, source: Control) -> Control:
        self.courier = Courier(
            self.rank, self.board, self.hub.exchange(), source, on_hold=self._on_hold
        )
        self.courier.start()
        return self.courier.replica

    def _on_hold(self, held: bool) -> None:
        if held:
            self.held.set()
        else:
            self.held.clear()

    def tick(self) -> None:
        assert self.courier is not None
        self.courier.tick()

    def close(self) -> None:
        assert self.courier is not None
        self.courier.drain()


@dataclass
class Rank:
    world: ThreadRank
    source: Control
    recorder: Recorder
    run: Run | None = None

    @property
    def position(self) -> int:
        """Examples trained on: where the rank is in the run."""
        assert self.run is not None
        return self.run.trainer.examples_seen


@contextmanager
def two_ranks(data: LoadedData, **options: object) -> Iterator[list[Rank]]:
    board, hub = MemoryBoard(), Hub(2)
    ranks = [Rank(ThreadRank(r, 2, board, hub), Control(), Recorder()) for r in range(2)]
    threads = []

    def train(rank: Rank) -> None:
        rank.run = open_test_run(
            data, rank.recorder, None, control=rank.source, world=rank.world, **options
        )
        try:
            rank.run.run(linger=True)
        finally:
            rank.world.close()

    for rank in ranks:
        thread = threading.Thread(target=train, args=(rank,), daemon=True)
        thread.start()
        threads.append(thread)
    try:
        yield ranks
    finally:
        for rank in ranks:
            rank.source.stop()
        for thread in threads:
            thread.join(30)
        assert not any(t.is_alive() for t in threads)


def held(ranks: list[Rank]) -> list[int]:
    """Wait until every rank waits for a command; where each one is."""
    for rank in ranks:
        assert rank.world.held.wait(30), f"rank {rank.world.rank} never held"
    return [rank.position for rank in ranks]


def running(ranks: list[Rank], past: int) -> None:
    deadline = time.monotonic() + 30
    while not all(r.run is not None and r.position > past for r in ranks):
        assert time.monotonic() < deadline, "the ranks never got there"
        time.sleep(0.005)


def test_pause_step_set_and_resume_land_on_every_rank_at_the_same_step(
    tiny_data: LoadedData,
) -> None:
    with two_ranks(tiny_data, epochs=50, log_interval=3) as ranks:
        main = ranks[0].source
        running(ranks, past=2 * 64)
        main.pause()
        first = held(ranks)
        assert first[0] == first[1]
        for rank in ranks:
            rank.world.held.clear()
        main.step(3)
        after = held(ranks)
        assert after[0] == after[1]
        assert after[0] == first[0] + 3 * 64
        main.set_hparams(lr=0.05)
        main.resume()
        running(ranks, past=after[0] + 2 * 64)
        main.set_hparams(momentum=0.7)
        changes = [
            rank.recorder.wait_for(
                lambda e: isinstance(e, HParamsChanged) and e.new.momentum == 0.7
            )
            for rank in ranks
        ]
        assert isinstance(changes[0], HParamsChanged) and isinstance(changes[1], HParamsChanged)
        assert changes[0].examples_seen == changes[1].examples_seen
        assert all(r.run is not None and r.run.trainer.hparams.lr == 0.05 for r in ranks)


def test_a_signal_on_one_rank_stops_every_rank_at_one_step(tiny_data: LoadedData) -> None:
    with two_ranks(tiny_data, epochs=50, log_interval=3) as ranks:
        running(ranks, past=4 * 64)
        ranks[1].source.stop()  # SIGTERM reached rank 1 only
        stopped = [
            r.recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state.is_final)
            for r in ranks
        ]
        assert all(isinstance(s, StateChanged) and s.state is RunState.STOPPED for s in stopped)
        assert stopped[0] == stopped[1]


def test_a_signal_to_a_held_rank_stops_the_run(tiny_data: LoadedData) -> None:
    with two_ranks(tiny_data, epochs=50, log_interval=3) as ranks:
        running(ranks, past=64)
        ranks[0].source.pause()
        where = held(ranks)
        ranks[1].source.stop()
        stopped = [
            r.recorder.wait_for(lambda e: isinstance(e, StateChanged) and e.state.is_final)
            for r in ranks
        ]
        assert all(isinstance(s, StateChanged) and s.state is RunState.STOPPED for s in stopped)
        assert [r.position for r in ranks] == where
