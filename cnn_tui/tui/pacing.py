"""How often a monitor redraws while the box's cores are all busy: watching's share of a core.

On a CPU-bound box every millisecond a monitor spends is taken from training: on two cores,
with training on both, five monitors at ~3 % of a core each cost the run ~15 % of its
samples/s (benchmarks/ui_overhead.py). So while the box is busy, the monitors of a run share
:data:`WATCH_BUDGET` of one core between them (the endpoint tells each how many watch), and
a monitor over its share stretches its widgets' redraw intervals, up to :data:`MOST_STRETCH`
times, and asks the run to send it pictures and metric bursts as much less often. What
answers the user is never stretched: a state change, a key, a digit chosen draw at once.
With a core to spare (a GPU box, a paused run) nothing is stretched, and one monitor alone
(~3 %) or two stay inside the budget.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

import psutil

# Of one core, for all the monitors of a run together. Five monitors at 10 % (each at ~2 %)
# cost the run 0.87x; at 6 % they sit near the cap, ~1.3 % each (benchmarks/ui_overhead.py).
WATCH_BUDGET = 0.06
MOST_STRETCH = 3.0  # the dashboard's charts then redraw every 6 s, not 2
BUSY = 0.9  # the share of the box's CPU time in use from which its cores count as busy
LOOK_EVERY = 2.0  # seconds between two looks at the CPU
# Looks over which a monitor's share is taken: stretched 3x, its charts redraw every 6 s, so
# a share over one 2 s look swung from a redraw to none and the stretch with it.
SHARE_OVER = 4


class HostTimes(NamedTuple):
    """The box's CPU time so far, all cores: in use, and in all."""

    busy: float
    total: float


def host_times() -> HostTimes:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)  # waiting on a disk is not busy
    total = sum(times)
    return HostTimes(total - idle, total)


def next_stretch(share: float, busy: bool, budget: float) -> float:
    """The stretch that brings this monitor to its ``budget``, given its ``share`` of a core
    scaled back to its own pace (drawing costs roughly 1 / stretch: a share measured at a
    stretch of 3 counts three times). Since what a monitor does whatever it draws does not
    shrink with the stretch, this overestimates a little and settles just where the share
    meets the budget, from either side, without swinging."""
    if not busy or budget <= 0:
        return 1.0
    return min(MOST_STRETCH, max(1.0, share / budget))


class Pacer:
    """Measures this process's CPU and the box's between looks; holds the stretch."""

    def __init__(
        self,
        *,
        budget: float = WATCH_BUDGET,
        process_time: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
        host: Callable[[], HostTimes] = host_times,
    ) -> None:
        self.budget = budget
        self.stretch = 1.0
        self._process_time, self._clock, self._host = process_time, clock, host
        self._last = (process_time(), clock(), host())
        # the last looks: (CPU spent times the stretch it was spent at, seconds)
        self._spent: deque[tuple[float, float]] = deque(maxlen=SHARE_OVER)

    def look(self, watching: int) -> float:
        """The stretch until the next look, with ``watching`` monitors sharing the budget:
        from this monitor's share over the last few looks, and whether the box was busy
        since the last one (a paused run gives its cores back at once)."""
        cpu, wall, box = self._process_time(), self._clock(), self._host()
        last_cpu, last_wall, last_box = self._last
        self._last = (cpu, wall, box)
        if wall <= last_wall or box.total <= last_box.total:
            return self.stretch
        self._spent.append(((cpu - last_cpu) * self.stretch, wall - last_wall))
        share = sum(c for c, _ in self._spent) / sum(w for _, w in self._spent)
        busy = (box.busy - last_box.busy) / (box.total - last_box.total) >= BUSY
        self.stretch = next_stretch(share, busy, self.budget / max(1, watching))
        return self.stretch
