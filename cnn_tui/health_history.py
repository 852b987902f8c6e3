"""What the Health pane draws from: the run's health samples, bounded, over the whole run.

Part of :class:`~cnn_tui.runview.RunView` (its ``health`` field), so it is folded from the
same events in every monitor and in the endpoint, and travels to a new viewer with the view.
It keeps at most :data:`KEPT` samples spread over the whole run: when full, every other one
is dropped and from then on only every ``stride``-th sample is kept (the stride doubles each
time), so the strips always span the run from its start, and the catch-up a viewer gets
stays a few hundred kilobytes however long the run. The newest sample and the newest one
with a dead-ReLU measurement are kept apart, so the table always shows the latest figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnn_tui.engine.events import HealthSampled

KEPT = 128  # samples kept over the run: the strips' columns (a strip is at most ~110 wide)


@dataclass
class HealthHistory:
    latest: HealthSampled | None = None
    last_dead: HealthSampled | None = None  # the latest sample with a probe pass
    kept: list[HealthSampled] = field(default_factory=list)  # every stride-th, from the start
    stride: int = 1
    received: int = 0  # samples folded in so far

    def add(self, sample: HealthSampled) -> None:
        self.latest = sample
        if any(layer.dead_relu is not None for layer in sample.layers):
            self.last_dead = sample
        if self.received % self.stride == 0:
            self.kept.append(sample)
            if len(self.kept) > KEPT:
                self.kept = self.kept[::2]
                self.stride *= 2
        self.received += 1

    @property
    def columns(self) -> list[HealthSampled]:
        """The samples to draw over time, oldest first, ending with the newest."""
        if self.latest is None:
            return []
        if self.kept and self.kept[-1] is self.latest:
            return list(self.kept)
        return [*self.kept, self.latest]
