"""Commands that every rank obeys at the same step, without a collective that waits for them.

Rank 0 hears the commands (its Control, fed by the endpoint and by its signals); every rank,
rank 0 included, obeys a :class:`Replica` of that Control, which changes only at points all
ranks agree on:

- Rank 0 turns what it heard into numbered *directives* (pause, resume, step n, stop,
  hyperparameters, checkpoint), each written to the job's store as ``d/N`` (JSON).
- At every step boundary (tick t) each rank posts a *plan*: an asynchronous MAX all-reduce
  of two integers on a side group — rank 0's newest directive number, and "stop", which any
  rank sets once it got SIGTERM or Ctrl-C. The plan posted at tick t is waited for at tick
  t + :data:`LAG` (by then it has long arrived) and applied by every rank there: every
  directive up to its number, in order, then the stop. So a pause, a step or an lr change
  lands on every rank at the same step, and a signal that reached the ranks at different
  steps becomes one stop step.
- When the replica is held (paused, or done and waiting for more epochs) each rank first
  waits for the plans still in flight and applies them — every rank posted the same ones —
  so no collective is pending while the run waits, for however long: gloo and NCCL would
  time out. Rank 0 then waits on its Control and writes the next directive when there is
  one; the other ranks poll the store for it. A rank that gets a signal while held adds to
  the store's ``stop`` count, which rank 0 turns into a stop directive.

What is rank 0's alone — probes, viewers coming and going, notices — goes straight to its
replica: replicas are identical, so only rank 0 needs to look at the network.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from cnn_tui.engine.control import Control, SaveCheckpoint, SetHParams

LAG = 2  # ticks between posting a plan and applying it
POLL_S = 0.1  # how often a held rank looks for the next directive (or a signal)

Plan = tuple[int, int]  # (newest directive number, stop)
Waiter = Callable[[], Plan]


class Board(Protocol):
    """The part of a torch.distributed Store the courier uses."""

    def set(self, key: str, value: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def check(self, keys: list[str]) -> bool: ...

    def add(self, key: str, value: int) -> int: ...


class Exchange(Protocol):
    """An asynchronous MAX all-reduce of a plan over every rank; the call returns a waiter."""

    def post(self, plan: Plan) -> Waiter: ...


class Replica(Control):
    """The Control every rank's Trainer obeys; changed only by directives (see the module)."""

    def __init__(self, courier: Courier) -> None:
        super().__init__()
        self._courier = courier

    def wait(self, timeout: float | None = None) -> None:
        """Held: settle the plans in flight, then wait for the next directive."""
        self._courier.hold()

    def pause(self) -> None:
        """The Trainer pauses itself (a loss that is not finite): every rank finds it at the
        same point, from the same sums, so no directive is needed."""
        super().pause()
        self._courier.paused_by_trainer()

    @property
    def changed(self) -> bool:
        """Something happened since the Trainer last looked (its last ``take``)."""
        return self._generation != self._seen_generation


class Courier:
    """Carries the commands of rank 0's ``source`` Control to every rank's :class:`Replica`.

    On the other ranks ``source`` only ever gets ``stop`` (their signal handlers).
    """

    def __init__(
        self,
        rank: int,
        board: Board,
        exchange: Exchange,
        source: Control,
        *,
        on_hold: Callable[[bool], None] = lambda held: None,
    ) -> None:
        self.rank = rank
        self.board = board
        self.exchange = exchange
        self.source = source
        self.on_hold = on_hold
        self.replica = Replica(self)
        self.in_flight: deque[tuple[int, Waiter]] = deque()
        self.ticks = 0
        self.published = 0  # rank 0: the newest directive's number
        self.applied = 0  # the last directive this rank obeyed
        self._written: dict[int, dict[str, Any]] = {}  # rank 0's own directives
        self._sent_paused = False
        self._sent_stop = False
        self._stops_seen = 0
        self._told_stop = False

    # -- the run's start and end -----------------------------------------------------------
    def start(self) -> None:
        """Directive 1 is how the run starts (paused or not); every rank obeys it first."""
        if self.rank == 0:
            self._sent_paused = self.source.paused
            self._publish({"paused": self.source.paused})
        self._wait_for(1)

    def drain(self) -> None:
        """Wait for and apply every plan in flight (all ranks posted the same ones)."""
        while self.in_flight:
            self._settle(self.in_flight.popleft()[1])

    # -- a step boundary --------------------------------------------------------------------
    def tick(self) -> None:
        if self.rank == 0 and self.source.attention:
            self._take_source(held=False)
        stop = 1 if self.rank != 0 and self.source.stop_requested else 0
        self.in_flight.append((self.ticks, self.exchange.post((self.published, stop))))
        while self.in_flight and self.in_flight[0][0] <= self.ticks - LAG:
            self._settle(self.in_flight.popleft()[1])
        self.ticks += 1

    def _settle(self, waiter: Waiter) -> None:
        newest, stop = waiter()
        self._apply_up_to(newest)
        if stop:
            Control.stop(self.replica)

    # -- held ---------------------------------------------------------------------------------
    def hold(self) -> None:
        """Until the replica changes: the plans in flight first, then the next directive."""
        self.drain()
        if self.replica.changed:
            return
        self.on_hold(True)
        try:
            if self.rank == 0:
                self._hold_main()
            else:
                self._wait_for(self.applied + 1)
        finally:
            self.on_hold(False)

    def _hold_main(self) -> None:
        while True:
            if self._take_source(held=True):
                return
            stops = self.board.add("stop", 0)
            if stops > self._stops_seen:  # a rank got a signal while held
                self._stops_seen = stops
                self._publish({"stop": True})
                self._sent_stop = True
                self._apply_up_to(self.published)
                return
            self.source.wait(POLL_S)

    def _wait_for(self, number: int) -> None:
        """Poll the store until directive ``number`` is there, then obey up to it."""
        key = f"d/{number}"
        while not self.board.check([key]):
            if self.source.stop_requested and not self._told_stop:
                self._told_stop = True
                self.board.add("stop", 1)
            time.sleep(POLL_S)
        self._apply_up_to(number)

    def paused_by_trainer(self) -> None:
        if self.rank == 0:  # what the views see (and a later "resume") starts from paused
            self._sent_paused = True
            self.source.pause()

    # -- directives ---------------------------------------------------------------------------
    def _take_source(self, *, held: bool) -> bool:
        """Rank 0: turn what the source heard into a directive. True if anything changed."""
        source, replica = self.source, self.replica
        shared: list[list[Any]] = []
        local = []
        for command in source.take():
            if isinstance(command, SetHParams):
                shared.append(["set", command.changes])
            elif isinstance(command, SaveCheckpoint):
                shared.append(["checkpoint"])
            else:
                local.append(command)
        steps = 0
        while source.take_step():
            steps += 1
        directive: dict[str, Any] = {}
        if shared:
            directive["commands"] = shared
        if source.paused != self._sent_paused:
            directive["paused"] = self._sent_paused = source.paused
        if steps:
            directive["steps"] = steps
        if source.stop_requested and not self._sent_stop:
            directive["stop"] = self._sent_stop = True
        for command in local:
            replica.submit(command)
        if directive:
            self._publish(directive)
            if held:
                self._apply_up_to(self.published)
        return bool(directive or local)

    def _publish(self, directive: dict[str, Any]) -> None:
        self.published += 1
        self._written[self.published] = directive
        self.board.set(f"d/{self.published}", json.dumps(directive))

    def _apply_up_to(self, number: int) -> None:
        while self.applied < number:
            self.applied += 1
            directive = self._written.pop(self.applied, None)
            if directive is None:
                directive = json.loads(self.board.get(f"d/{self.applied}"))
            self._apply(directive)

    def _apply(self, directive: dict[str, Any]) -> None:
        replica = self.replica
        for command in directive.get("commands", ()):
            if command[0] == "set":
                replica.submit(SetHParams(dict(command[1])))
            elif command[0] == "checkpoint":
                replica.submit(SaveCheckpoint())
        if "paused" in directive:
            if directive["paused"]:
                Control.pause(replica)
            else:
                Control.resume(replica)
        if directive.get("steps"):
            Control.step(replica, int(directive["steps"]))
        if directive.get("stop"):
            Control.stop(replica)
