"""How often a monitor redraws while the box's cores are all busy: watching's share of a core.

On a CPU-bound box every millisecond a monitor spends is taken from training: on two cores,
with training on both, five monitors at ~3 % of a core each cost the run ~15 % of its
samples/s (benchmarks/ui_overhead.py). So while the box is busy, the monitors of a run share
:data:`WATCH_BUDGET` of one core between them (the endpoint tells each how many watch), and
a monitor over its share stretches its widgets' redraw intervals, up to :data:`MOST_STRETCH`
times. What answers the user is never stretched: a state change, a key, a digit chosen draw
at once. With a core to spare (a GPU box, a paused run) nothing is stretched, and one monitor
alone (~3 %) stays well inside the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import psutil

WATCH_BUDGET = 0.10  # of one core, for all the monitors of a run together
MOST_STRETCH = 3.0  # the dashboard's charts then redraw every 6 s, not 2
BUSY = 0.9  # the share of the box's CPU time in use from which its cores count as busy
LOOK_EVERY = 2.0  # seconds between two looks at the CPU


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
        self._last = (process_time(), clock(), host())

    def look(self, watching: int) -> float:
        """The stretch until the next look, from what was used since the last one, with
        ``watching`` monitors sharing the budget."""
        cpu, wall, host = self._process_time(), self._clock(), self._host()
        last_cpu, last_wall, last_host = self._last
        self._last = (cpu, wall, host)
        if wall <= last_wall or host.total <= last_host.total:
            return self.stretch
        share = (cpu - last_cpu) / (wall - last_wall)
        busy = (host.busy - last_host.busy) / (host.total - last_host.total) >= BUSY
        self.stretch = next_stretch(self.stretch, share, busy, self.budget / max(1, watching))
        return self.stretch
