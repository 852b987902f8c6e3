"""Every layer's health: figures checked against independent computations, alerts, no effect.

The independent side works in float64 from the same weights and gradients the engine had,
and finds dead units with plain functional ops rather than the model's probe.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_tui.data import LoadedData
from cnn_tui.engine import health
from cnn_tui.engine.events import BatchLogged, Event, HealthSampled, LayerHealth, Notice
from cnn_tui.health_history import KEPT, HealthHistory
from cnn_tui.model import Net
from cnn_tui.runview import Part, RunView
from tests.helpers import Recorder, open_test_run

LAYERS = ("conv1", "conv2", "fc1", "fc2")


def weights_of(net: Net) -> dict[str, torch.Tensor]:
    return {name: getattr(net, name).weight.detach().double().clone() for name in LAYERS}


def grads_of(net: Net) -> dict[str, torch.Tensor]:
    return {name: getattr(net, name).weight.grad.detach().double().clone() for name in LAYERS}


def dead_by_hand(net: Net, images: torch.Tensor) -> dict[str, float]:
    """The tutorial's forward in eval mode (no dropout), written out; a unit is dead when its
    ReLU output is zero for every digit (and, for a conv layer, at every position)."""
    with torch.no_grad():
        a1 = F.relu(F.max_pool2d(F.conv2d(images, net.conv1.weight, net.conv1.bias), 2))
        a2 = F.relu(F.max_pool2d(F.conv2d(a1, net.conv2.weight, net.conv2.bias), 2))
        a3 = F.relu(F.linear(a2.reshape(len(images), -1), net.fc1.weight, net.fc1.bias))
    dead = {
        "conv1": [bool((a1[:, c] == 0).all()) for c in range(a1.shape[1])],
        "conv2": [bool((a2[:, c] == 0).all()) for c in range(a2.shape[1])],
        "fc1": [bool((a3[:, u] == 0).all()) for u in range(a3.shape[1])],
    }
    return {layer: sum(flags) / len(flags) for layer, flags in dead.items()}


def assert_matches(
    got: tuple[LayerHealth, ...],
    before: dict[str, torch.Tensor],
    after: dict[str, torch.Tensor],
    grads: dict[str, torch.Tensor],
    dead: dict[str, float] | None,
) -> None:
    assert [layer.layer for layer in got] == list(LAYERS)
    for layer in got:
        name = layer.layer
        w, b, g = after[name], before[name], grads[name]
        assert layer.weight_norm == pytest.approx(float(w.pow(2).sum().sqrt()), rel=1e-5)
        assert layer.grad_norm == pytest.approx(float(g.pow(2).sum().sqrt()), rel=1e-5)
        ratio = float((w - b).pow(2).sum().sqrt() / b.pow(2).sum().sqrt())
        assert layer.update_ratio == pytest.approx(ratio, rel=1e-4)
        expected_dead = None if dead is None or name == "fc2" else dead[name]
        assert layer.dead_relu == expected_dead
        low, high = float(w.min()), float(w.max())
        assert (layer.hist_low, layer.hist_high) == pytest.approx((low, high), rel=1e-6)
        counts, _ = np.histogram(w.numpy(), bins=health.BINS, range=(low, high))
        assert sum(layer.histogram) == w.numel()
        # The engine bins in float32, this in float64: a weight within rounding of a bin's
        # edge may land in the next bin, so the running totals may differ by one.
        drift = np.abs(np.cumsum(layer.histogram) - np.cumsum(counts))
        assert drift.max() <= 1, (name, layer.histogram, counts.tolist())


def test_measure_matches_an_independent_computation(tiny_data: LoadedData) -> None:
    torch.manual_seed(3)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.5)
    images, labels = tiny_data.train.images, tiny_data.train.labels
    probe = health.probe_batch(tiny_data.test, seed=1)
    for step in range(3):  # three steps, so that momentum is part of the last one
        batch = slice(step * 64, (step + 1) * 64)
        optimizer.zero_grad()
        loss = F.nll_loss(net(images[batch]), labels[batch])
        loss.backward()  # type: ignore[no-untyped-call]
        before = health.copy_weights(net)
        before64 = weights_of(net)
        optimizer.step()
    got = health.measure(net, before, probe)
    assert_matches(got, before64, weights_of(net), grads_of(net), dead_by_hand(net, probe))
    # the step really includes momentum: plain lr * grad is not what was applied
    fc1 = got[2]
    plain = 0.05 * float(grads_of(net)["fc1"].pow(2).sum().sqrt() / before64["fc1"].norm())
    assert not math.isclose(fc1.update_ratio, plain, rel_tol=1e-3)


def test_the_probe_digits_are_fixed_and_draw_no_random_numbers(tiny_data: LoadedData) -> None:
    torch.manual_seed(5)
    state = torch.get_rng_state()
    first = health.probe_indices(len(tiny_data.test), seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, health.probe_indices(len(tiny_data.test), seed=1))
    assert len(first) == min(health.PROBE_SIZE, len(tiny_data.test))
    assert len(set(first.tolist())) == len(first)


def test_dead_units_are_found_in_eval_mode_and_the_mode_is_restored(
    tiny_data: LoadedData,
) -> None:
    torch.manual_seed(1)
    net = Net()
    with torch.no_grad():
        net.fc1.bias[:10] = -1e3  # ten fc1 units that no digit can switch on
        net.conv1.bias[:3] = -1e3  # three conv1 channels likewise
    net.train()
    probe = health.probe_batch(tiny_data.test, seed=1)
    shares = health.dead_shares(net, probe)
    assert net.training
    assert shares["conv1"] == pytest.approx(3 / 10)
    assert shares["fc1"] >= 10 / 50
    assert shares == dead_by_hand(net, probe)


def test_the_trainer_samples_every_logging_batch_from_the_real_step(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    """Each sample against the weights, biases and gradients the net had when it was sent
    (the sink runs in the engine's thread, right after the step); with a batch logged each
    step, the weights before step k are the ones sampled after step k - 1."""
    states: list[dict[str, torch.Tensor]] = []
    grads: list[dict[str, torch.Tensor]] = []
    nets: list[Net] = []

    def watch(event: Event) -> None:
        if isinstance(event, HealthSampled):
            states.append({k: v.clone() for k, v in nets[0].state_dict().items()})
            grads.append(grads_of(nets[0]))
        recorder(event)

    run = open_test_run(tiny_data, watch, None, log_interval=1, epochs=2)
    nets.append(run.trainer.net)
    assert run.trainer.health is not None
    run.trainer.health.dead_every = 0  # a probe pass at every sample
    run.run()

    samples, logged = recorder.of(HealthSampled), recorder.of(BatchLogged)
    assert [(s.epoch, s.batch_index, s.examples_seen) for s in samples] == [
        (b.epoch, b.batch_index, b.examples_seen) for b in logged
    ]
    assert len(samples) == 20
    probe = health.probe_batch(tiny_data.test, seed=1)
    net = Net()
    for k in range(1, len(samples)):
        net.load_state_dict(states[k])
        before = {n: states[k - 1][f"{n}.weight"].double() for n in LAYERS}
        after = {n: states[k][f"{n}.weight"].double() for n in LAYERS}
        assert_matches(samples[k].layers, before, after, grads[k], dead_by_hand(net, probe))


def test_the_probe_pass_runs_every_dead_every_examples(
    tiny_data: LoadedData, recorder: Recorder
) -> None:
    run = open_test_run(tiny_data, recorder, None, log_interval=1, epochs=2)
    assert run.trainer.health is not None
    run.trainer.health.dead_every = 256  # four batches of 64
    run.run()
    sampled = recorder.of(HealthSampled)
    measured = [s.examples_seen for s in sampled if s.layers[0].dead_relu is not None]
    assert measured == [0, 256, 512, 768, 1024]
    assert all(s.layers[3].dead_relu is None for s in sampled)


def losses(recorder: Recorder) -> list[float]:
    return [e.loss for e in recorder.of(BatchLogged)]


def test_measuring_health_does_not_change_training(tiny_data: LoadedData) -> None:
    without, measured = Recorder(), Recorder()
    open_test_run(tiny_data, without, None, log_interval=1, epochs=2, health=False).run()
    run = open_test_run(tiny_data, measured, None, log_interval=1, epochs=2, visual_every=1)
    assert run.trainer.health is not None
    run.trainer.health.dead_every = 0
    run.run()
    assert not without.of(HealthSampled) and len(measured.of(HealthSampled)) == 20
    assert losses(without) == losses(measured)


def test_a_run_with_dead_layers_says_so_once(tiny_data: LoadedData, recorder: Recorder) -> None:
    run = open_test_run(tiny_data, recorder, None, log_interval=1, epochs=2)
    with torch.no_grad():
        run.trainer.net.fc1.bias.fill_(-1e4)  # every fc1 unit off: nothing flows back
    assert run.trainer.health is not None
    run.trainer.health.dead_every = 0
    run.run()
    warnings = [n.message for n in recorder.of(Notice) if n.level == "warning"]
    dead = [m for m in warnings if "dead" in m]
    assert dead == ["@0 most ReLU units are dead (zero on every probe digit): fc1 100%"]
    vanishing = [m for m in warnings if "vanishing" in m]
    assert len(vanishing) == 1 and all(f"conv{n} 0" in vanishing[0] for n in (1, 2))


# -- alerts ---------------------------------------------------------------------------------
def sample(seen: int, grads: dict[str, float], dead: float | None = None) -> HealthSampled:
    def dead_of(name: str) -> float | None:
        return None if name == "fc2" else dead

    return HealthSampled(
        epoch=1,
        batch_index=seen // 64,
        examples_seen=seen,
        layers=tuple(
            LayerHealth(name, 2.0, grads.get(name, 0.5), 1e-3, dead_of(name), -0.1, 0.1, (1, 2))
            for name in LAYERS
        ),
    )


def test_an_exploding_gradient_is_said_against_its_recent_level() -> None:
    alerts = health.Alerts()
    quiet = [alerts.check(sample(k, {})) for k in range(health.BASELINE_SAMPLES)]
    assert not any(quiet)
    (notice,) = alerts.check(sample(640, {"conv2": 50.0, "fc1": 80.0}))
    assert notice.level == "warning"
    assert notice.message == (
        "@640 gradients are exploding (grad norm): conv2 50, 100x its recent level; "
        "fc1 80, 160x its recent level"
    )
    # said once: the next samples with the same problem stay quiet for COOLDOWN samples
    assert not any(alerts.check(sample(700 + k, {"conv2": 1e4})) for k in range(10))
    (nan,) = alerts.check(sample(800, {"conv1": math.nan}))
    assert nan.message == "@800 gradients are exploding (grad norm): conv1 nan"


def test_vanishing_and_dead_alerts_come_back_after_the_cooldown() -> None:
    alerts = health.Alerts()
    said = [alerts.check(sample(k, {"fc2": 0.0}, dead=0.9)) for k in range(2 * health.COOLDOWN)]
    spoken = [(k, [n.message for n in notices]) for k, notices in enumerate(said) if notices]
    assert [k for k, _ in spoken] == [0, health.COOLDOWN]
    assert spoken[0][1] == [
        "@0 gradients are vanishing (grad norm): fc2 0 (weights 2)",
        "@0 most ReLU units are dead (zero on every probe digit): conv1 90%; conv2 90%; fc1 90%",
    ]


# -- the view's history ---------------------------------------------------------------------
def test_the_history_spans_the_whole_run_in_bounded_room() -> None:
    view = RunView()
    before = view.version(Part.HEALTH)
    for k in range(1000):
        view.apply(sample(k * 640, {}, dead=0.0 if k % 10 == 0 else None))
    history = view.health
    assert view.version(Part.HEALTH) == before + 1000
    assert len(history.kept) <= KEPT and history.received == 1000
    assert history.kept[0].examples_seen == 0
    seen = [s.examples_seen for s in history.kept]
    steps = {b - a for a, b in itertools.pairwise(seen)}
    assert steps == {640 * history.stride}  # evenly spread
    columns = history.columns
    assert columns[-1].examples_seen == 999 * 640 and columns[:-1] == history.kept
    assert history.last_dead is not None and history.last_dead.examples_seen == 990 * 640


def test_an_empty_history_has_no_columns() -> None:
    assert HealthHistory().columns == []


def test_health_goes_to_the_run_log(tiny_data: LoadedData, run_dir: Path) -> None:
    open_test_run(tiny_data, Recorder(), run_dir, log_interval=5).run()
    text = (run_dir / "events.jsonl").read_text()
    assert text.count('"event": "HealthSampled"') == 2
