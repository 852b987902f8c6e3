"""torch.distributed's store and an all-reduce, in memory: ranks as threads of one process."""

from __future__ import annotations

import threading
import time

from cnn_tui.engine.ddp.courier import Plan, Waiter


class MemoryBoard:
    """A store in memory, as torch.distributed's Store behaves for the courier."""

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._values[key] = value.encode()

    def get(self, key: str) -> bytes:
        while True:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            time.sleep(0.001)

    def check(self, keys: list[str]) -> bool:
        with self._lock:
            return all(k in self._values for k in keys)

    def add(self, key: str, value: int) -> int:
        with self._lock:
            total = int(self._values.get(key, b"0")) + value
            self._values[key] = str(total).encode()
            return total


class Hub:
    """An all-reduce (MAX) of plans between threads: the n-th post of every rank meet."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rounds: dict[int, list[Plan]] = {}
        self.cond = threading.Condition()

    def exchange(self) -> MemoryExchange:
        return MemoryExchange(self)

    def post(self, index: int, plan: Plan) -> Waiter:
        with self.cond:
            self.rounds.setdefault(index, []).append(plan)
            self.cond.notify_all()

        def wait() -> Plan:
            with self.cond:
                assert self.cond.wait_for(lambda: len(self.rounds[index]) == self.size, 30)
                plans = self.rounds[index]
            return max(p[0] for p in plans), max(p[1] for p in plans)

        return wait


class MemoryExchange:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.posted = 0

    def post(self, plan: Plan) -> Waiter:
        self.posted += 1
        return self.hub.post(self.posted - 1, plan)
