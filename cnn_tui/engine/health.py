"""Every layer's health at logging batches: norms, the real update, dead ReLUs, the weights.

For conv1, conv2, fc1 and fc2, from each layer's weight tensor (biases are left out):

- ``weight_norm``: ‖w‖ (L2 over the whole tensor) after the step;
- ``grad_norm``: ‖∂loss/∂w‖ of the batch just applied;
- ``update_ratio``: ‖w_after − w_before‖ / ‖w_before‖, the step the optimizer really took,
  momentum included (the weights are copied before ``optimizer.step()``, on logging
  batches only);
- ``dead_relu``: the share of the layer's ReLU units — a channel of a conv layer, a neuron
  of fc1 — whose ReLU output is zero for every digit of a fixed probe batch, measured in
  eval mode so that dropout cannot fake it (fc2 has no ReLU: None);
- a histogram of the weights (:data:`BINS` equal bins between their min and max): the
  Health pane draws these over time as one heatmap strip per layer, TensorBoard's
  "distributions".

:func:`measure` is the pure function; :class:`HealthMonitor` is what the trainer holds: it
keeps the probe batch on the training device, copies the weights before a logging batch's
step, measures after it, and turns the figures into rate-limited alerts (:class:`Alerts`).
Looking never changes training: the probe pass runs without gradients in eval mode (the
model's mode is restored) and nothing here draws a random number.

The probe pass is the one cost that counts: a forward pass of :data:`PROBE_SIZE` digits
costs one and a half training steps of 64 on a CPU, against about a twentieth of a step for
everything else. It runs at the first sample and then at a sample only once
:data:`DEAD_EVERY` examples have passed since the last (every 10th logging batch at the
tutorial's settings), which keeps health under 3 % of training time (measured with
benchmarks/health_overhead.py, see docs/architecture.md); the other samples carry
``dead_relu=None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

from cnn_tui.data import Split
from cnn_tui.engine.events import Event, HealthSampled, LayerHealth, Notice
from cnn_tui.model import Net, probe

LAYERS = ("conv1", "conv2", "fc1", "fc2")
# The stage of model.probe that holds each layer's ReLU output (the tutorial pools first).
RELU_STAGES = {"conv1": "pool1", "conv2": "pool2", "fc1": "fc1"}
BINS = 32
PROBE_SIZE = 256
DEAD_EVERY = 6_400  # examples (100 batches of 64) between two probe passes, at least


def layer_weights(net: Net) -> dict[str, torch.Tensor]:
    """Each layer's weight tensor (the parameter itself), by name, in :data:`LAYERS` order."""
    layers: dict[str, nn.Conv2d | nn.Linear] = {
        "conv1": net.conv1,
        "conv2": net.conv2,
        "fc1": net.fc1,
        "fc2": net.fc2,
    }
    return {name: layers[name].weight for name in LAYERS}


def copy_weights(net: Net) -> dict[str, torch.Tensor]:
    """The weights as they are now (before a step), to measure the step against."""
    return {name: w.detach().clone() for name, w in layer_weights(net).items()}


def probe_indices(test_size: int, seed: int, count: int = PROBE_SIZE) -> torch.Tensor:
    """A fixed, seeded choice of test digits for the dead-ReLU pass (sorted; CPU int64).

    Its own generator, so choosing draws nothing from the training's random numbers."""
    generator = torch.Generator().manual_seed(seed * 7_919 + 17)
    chosen = torch.randperm(test_size, generator=generator)[: min(count, test_size)]
    return chosen.sort().values


def probe_batch(test: Split, seed: int, count: int = PROBE_SIZE) -> torch.Tensor:
    """The probe digits, normalized, on the test split's (the training) device."""
    index = probe_indices(len(test), seed, count).to(test.images.device)
    return test.images.index_select(0, index)


@torch.no_grad()
def dead_shares(net: Net, images: torch.Tensor) -> dict[str, float]:
    """For each layer with a ReLU, the share of its units that are zero on every digit."""
    stages = probe(net, images)  # eval mode, restored after
    dead, units = [], []
    for stage in RELU_STAGES.values():
        out = stages[stage]
        per_unit = out.amax(dim=(0, 2, 3)) if out.dim() == 4 else out.amax(dim=0)
        dead.append((per_unit <= 0).sum())
        units.append(per_unit.numel())
    counts = torch.stack(dead).tolist()
    return {layer: n / total for layer, n, total in zip(RELU_STAGES, counts, units, strict=True)}


@torch.no_grad()
def measure(
    net: Net, before: Mapping[str, torch.Tensor], images: torch.Tensor | None
) -> tuple[LayerHealth, ...]:
    """Every layer's figures, given the weights ``before`` the step just taken (gradients
    are the ones still on the parameters). ``images``: the probe batch, or None to skip the
    dead-ReLU pass (``dead_relu`` is then None)."""
    weights = layer_weights(net)
    norm = torch.linalg.vector_norm
    rows = []
    for name, param in weights.items():
        w, grad = param.detach(), param.grad
        zero = w.new_zeros(())
        rows.append(
            torch.stack(
                [
                    norm(w),
                    norm(grad) if grad is not None else zero,
                    norm(w - before[name]),
                    norm(before[name]),
                    w.min(),
                    w.max(),
                ]
            )
        )
    stats = torch.stack(rows).double().tolist()  # one transfer for every layer's numbers
    spans = [_span(weights[name], row[4], row[5]) for name, row in zip(LAYERS, stats, strict=True)]
    counts = torch.stack(
        [
            _histogram(weights[name], span, math.isfinite(row[4] + row[5]))
            for name, row, span in zip(LAYERS, stats, spans, strict=True)
        ]
    ).tolist()
    dead = dead_shares(net, images) if images is not None else {}
    return tuple(
        LayerHealth(
            layer=name,
            weight_norm=row[0],
            grad_norm=row[1],
            update_ratio=_ratio(row[2], row[3]),
            dead_relu=dead.get(name),
            hist_low=low,
            hist_high=high,
            histogram=tuple(int(c) for c in hist),
        )
        for name, row, (low, high), hist in zip(LAYERS, stats, spans, counts, strict=True)
    )


def _ratio(step: float, size: float) -> float:
    if size > 0 or math.isnan(size):
        return step / size
    return 0.0 if step == 0 else math.inf


def _span(w: torch.Tensor, low: float, high: float) -> tuple[float, float]:
    """The histogram's range: the weights' min and max (finite ones only), never empty."""
    if not (math.isfinite(low) and math.isfinite(high)):
        finite = w[torch.isfinite(w)]
        low, high = (finite.min().item(), finite.max().item()) if finite.numel() else (0.0, 0.0)
    if high <= low:  # every weight the same: a small span around it
        pad = max(abs(low), 1.0) * 1e-3
        low, high = low - pad, high + pad
    return low, high


def _histogram(w: torch.Tensor, span: tuple[float, float], finite: bool) -> torch.Tensor:
    """Counts of ``w`` in :data:`BINS` equal bins over ``span`` (values that are not finite
    are left out; ``finite``: there are none, as a finite min and max say)."""
    values = w.detach().flatten()
    if not finite:
        values = values[torch.isfinite(values)]
    return torch.histc(values.float(), bins=BINS, min=span[0], max=span[1])


# -- alerts ---------------------------------------------------------------------------------
EXPLODE_FACTOR = 10.0  # a gradient norm this many times its layer's recent level
VANISH_RATIO = 1e-6  # ‖∂loss/∂w‖ / ‖w‖ below this: nothing reaches the layer any more
DEAD_SHARE = 0.5  # "most units are dead"
BASELINE_SAMPLES = 5  # samples before a layer's recent level counts
SMOOTHING = 0.2  # weight of a new sample in the recent level (an exponential average)
COOLDOWN = 50  # samples before the same alert about the same layer may come again


class Alerts:
    """Warnings from a stream of health samples, each said once per :data:`COOLDOWN` samples.

    - exploding gradients: a gradient norm that is not finite, or over
      :data:`EXPLODE_FACTOR` times its layer's recent level (an exponential average of its
      earlier samples);
    - vanishing gradients: ‖∂loss/∂w‖ under :data:`VANISH_RATIO` times ‖w‖ (or zero);
    - dead units: more than :data:`DEAD_SHARE` of a layer's ReLU units dead.

    Layers with the same problem at the same sample make one notice.
    """

    def __init__(self) -> None:
        self.samples = 0
        self._level: dict[str, float] = {}
        self._seen: dict[str, int] = {}
        self._last_said: dict[tuple[str, str], int] = {}

    def check(self, sample: HealthSampled) -> list[Notice]:
        self.samples += 1
        found: dict[str, list[str]] = {"explode": [], "vanish": [], "dead": []}
        for layer in sample.layers:
            name, grad = layer.layer, layer.grad_norm
            level = self._level.get(name)
            if not math.isfinite(grad):
                found["explode"].append(f"{name} {grad}")
            elif (
                level is not None
                and self._seen.get(name, 0) >= BASELINE_SAMPLES
                and grad > EXPLODE_FACTOR * level
            ):
                found["explode"].append(f"{name} {grad:.3g}, {grad / level:.0f}x its recent level")
            elif grad <= VANISH_RATIO * layer.weight_norm:
                found["vanish"].append(f"{name} {grad:.2g} (weights {layer.weight_norm:.3g})")
            if math.isfinite(grad):
                self._level[name] = grad if level is None else level + SMOOTHING * (grad - level)
                self._seen[name] = self._seen.get(name, 0) + 1
            if layer.dead_relu is not None and layer.dead_relu > DEAD_SHARE:
                found["dead"].append(f"{name} {100 * layer.dead_relu:.0f}%")
        at = f"@{sample.examples_seen:,}"
        words = {
            "explode": "gradients are exploding (grad norm)",
            "vanish": "gradients are vanishing (grad norm)",
            "dead": "most ReLU units are dead (zero on every probe digit)",
        }
        notices = []
        for kind, layers in found.items():
            fresh = [text for text in layers if self._fresh(kind, text.split(" ")[0])]
            if fresh:
                notices.append(Notice(f"{at} {words[kind]}: {'; '.join(fresh)}", "warning"))
        return notices

    def _fresh(self, kind: str, layer: str) -> bool:
        last = self._last_said.get((kind, layer))
        if last is not None and self.samples - last < COOLDOWN:
            return False
        self._last_said[(kind, layer)] = self.samples
        return True


# -- the trainer's side ---------------------------------------------------------------------
class HealthMonitor:
    """What the trainer holds: ``before_step()`` on a logging batch, ``sample()`` after it."""

    def __init__(self, net: Net, test: Split, seed: int, *, dead_every: int = DEAD_EVERY) -> None:
        self.net = net
        self.images = probe_batch(test, seed) if len(test) else None
        self.dead_every = dead_every  # 0: a probe pass at every sample
        self.alerts = Alerts()
        self._before: dict[str, torch.Tensor] | None = None
        self._last_probe: int | None = None  # examples seen at the last probe pass

    def before_step(self) -> None:
        self._before = copy_weights(self.net)

    def sample(self, epoch: int, batch_index: int, examples_seen: int) -> list[Event]:
        """The sample for the step just taken (after ``before_step``), then any alerts."""
        before, self._before = self._before, None
        if before is None:
            return []
        last = self._last_probe
        dead = last is None or not 0 <= examples_seen - last < self.dead_every
        if dead:
            self._last_probe = examples_seen
        layers = measure(self.net, before, self.images if dead else None)
        sample = HealthSampled(epoch, batch_index, examples_seen, layers)
        return [sample, *self.alerts.check(sample)]
