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


def next_stretch(stretch: float, share: float, busy: bool, budget: float) -> float:
    """The stretch for the next interval, given this monitor's ``share`` of a core over the
    last one (drawn at ``stretch``) and its ``budget``. Drawing costs roughly in proportion
    to 1/stretch, so moving by share/budget heads for the budget without overshooting it."""
    if not busy or budget <= 0:
        return 1.0
    return min(MOST_STRETCH, max(1.0, stretch * share / budget))


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
        # (CPU, clock) at the last looks, oldest first, and the box's at the last one
        self._mine: deque[tuple[float, float]] = deque([(process_time(), clock())], SHARE_OVER + 1)
        self._box = host()

    def look(self, watching: int) -> float:
        """The stretch until the next look, with ``watching`` monitors sharing the budget:
        from this monitor's share over the last few looks, and whether the box was busy
        since the last one (a paused run gives its cores back at once)."""
        cpu, wall, box = self._process_time(), self._clock(), self._host()
        last_box, self._box = self._box, box
        if wall <= self._mine[-1][1] or box.total <= last_box.total:
            return self.stretch
        self._mine.append((cpu, wall))
        first_cpu, first_wall = self._mine[0]
        share = (cpu - first_cpu) / (wall - first_wall)
        busy = (box.busy - last_box.busy) / (box.total - last_box.total) >= BUSY
        self.stretch = next_stretch(self.stretch, share, busy, self.budget / max(1, watching))
        return self.stretch
