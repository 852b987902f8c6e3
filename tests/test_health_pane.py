"""The Health pane, drawn from events built here (no model runs, so every figure on screen is
the same on every machine), and its pure parts: re-binning, sparklines, the layout."""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np
import pytest
from textual.app import ComposeResult
from textual.pilot import Pilot

from cnn_tui.config import HyperParams
from cnn_tui.engine.events import (
    BatchLogged,
    Event,
    HealthSampled,
    LayerHealth,
    RunStarted,
    RunState,
    StateChanged,
)
from cnn_tui.render import ASCII, UNICODE
from cnn_tui.render.distribution import density_strip, fit_health, pick, sparkline
from cnn_tui.runview import RunView
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.glyphs_app import GlyphsApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.widgets.health import HealthPane
from tests.helpers import drive

SnapCompare = Callable[..., bool]
SAMPLES = 60
BINS = 32
# layer: (weights, initial half-span, growth per sample, grad norm at the start)
LAYERS = {
    "conv1": (250, 0.2, 0.004, 0.25),
    "conv2": (5000, 0.063, 0.001, 0.8),
    "fc1": (16000, 0.056, 0.0005, 1.2),
    "fc2": (500, 0.14, 0.002, 0.4),
}


def counts(weights: int, k: int) -> tuple[int, ...]:
    """A histogram going from uniform (the init) to bell-shaped, in whole numbers only."""
    uniform = weights // BINS
    bell = [weights * comb(BINS - 1, i) // 2 ** (BINS - 1) for i in range(BINS)]
    return tuple((uniform * (SAMPLES - k) + b * k) // SAMPLES for b in bell)


def layer(name: str, k: int) -> LayerHealth:
    weights, span, growth, grad = LAYERS[name]
    dead: float | None = None
    if name != "fc2" and k % 10 == 0:
        dead = {"conv1": 0.0, "conv2": 0.05, "fc1": min(0.62, 0.02 * k / 2)}[name]
    half = span + growth * k
    return LayerHealth(
        layer=name,
        weight_norm=1.5 + 0.01 * k + weights / 10_000,
        grad_norm=grad / (1 + k / 8) if name != "conv1" or k < 55 else 0.0,
        update_ratio=grad / 100 / (1 + k / 20),
        dead_relu=dead,
        hist_low=-half,
        hist_high=half * 1.1,
        histogram=counts(weights, k),
    )


def health_events(samples: int = SAMPLES, *, with_health: bool = True) -> list[Event]:
    hp = HyperParams(log_interval=10, epochs=10)
    started = RunStarted(
        dataset="mnist",
        source="sample",
        source_detail="the packaged MNIST sample (6,000 train / 1,000 test)",
        device="cpu",
        train_size=6000,
        test_size=1000,
        classes=tuple(f"{k} - digit" for k in range(10)),
        hparams=hp,
        seed=1,
        run_dir="runs/demo",
        resumed_from=None,
        epoch=1,
        examples_seen=0,
    )
    events: list[Event] = [started, StateChanged(RunState.RUNNING, "epoch 1", 1, 0)]
    for k in range(samples):
        epoch, batch = 1 + k // 10, (k % 10) * 10
        seen = (epoch - 1) * 6000 + batch * 64
        events.append(
            BatchLogged(epoch, batch, 94, batch * 64, 6000, seen, 2.3 - k / 30, k, k + 1, k / 10)
        )
        if with_health:
            events.append(HealthSampled(epoch, batch, seen, tuple(layer(n, k) for n in LAYERS)))
    return events


def shown_on_inside_pane(events: list[Event]) -> Callable[[Pilot[object]], object]:
    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        await pilot.press("i", "5")
        await pilot.pause(0.1)
        app = pilot.app
        assert isinstance(app, CnnTuiApp)
        app.redraw(force=True)
        await pilot.pause()

    return run_before


def health_app(events: list[Event]) -> CnnTuiApp:
    app = CnnTuiApp(replay(events))
    app.animation_level = "none"
    return app


class TestHealthPaneSnapshots:
    events = health_events()

    @pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
    def test_the_pane(self, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
        assert snap_compare(
            health_app(self.events),
            terminal_size=size,
            run_before=shown_on_inside_pane(self.events),
        )

    def test_in_ascii(self, snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(
            health_app(self.events),
            terminal_size=(80, 24),
            run_before=shown_on_inside_pane(self.events),
        )


# -- what the pane says ---------------------------------------------------------------------
class PaneApp(GlyphsApp[None]):
    def __init__(self, *, ascii: bool = False) -> None:
        super().__init__()
        self.pane = HealthPane()
        self.glyphs = ASCII if ascii else UNICODE

    def compose(self) -> ComposeResult:
        yield self.pane


def drawn(events: list[Event], size: tuple[int, int], *, ascii: bool = False) -> list[str]:
    view = RunView()
    for event in events:
        view.apply(event)
    app = PaneApp(ascii=ascii)
    lines: list[str] = []

    async def body(pilot: Pilot[object]) -> None:
        app.pane.sync(view, None)
        await pilot.pause()
        lines.extend(strip.text for strip in app.pane.render_lines(app.pane.region.reset_offset))

    drive(app, body, size)
    return lines


def test_the_table_shows_the_latest_sample_and_the_latest_dead_count() -> None:
    lines = drawn(health_events(), (120, 36))
    assert lines[0].startswith("Layer health  after 35,760 examples · epoch 6, batch 90")
    rows = {line.split()[0]: line.split() for line in lines[2:6]}
    last = [layer(n, SAMPLES - 1) for n in LAYERS]
    for figures in last:
        row = rows[figures.layer]
        assert row[1:4] == [
            f"{figures.weight_norm:.3f}",
            f"{figures.grad_norm:.3g}" + ("!" if figures.grad_norm == 0 else ""),
            f"{figures.update_ratio:.1e}",
        ]
    # dead units come from the last sample that measured them (sample 50): fc1's 50% is
    # not "most"; fc2 has no ReLU
    assert [rows[n][4] for n in LAYERS] == ["0%", "5%", "50%", "n/a"]
    assert rows["conv1"][2] == "0!"  # a vanished gradient is marked
    assert "measured @30,000" in lines[6]


def test_a_mostly_dead_layer_is_marked() -> None:
    lines = drawn(health_events(samples=41), (120, 36))
    fc1 = next(line for line in lines if line.startswith("fc1 "))
    assert "40%" in fc1
    lines = drawn(health_events(samples=SAMPLES + 11), (120, 36))
    fc1 = next(line for line in lines if line.startswith("fc1 "))
    assert "62%!" in fc1


def test_strips_have_a_line_per_row_and_the_span_of_the_run() -> None:
    lines = drawn(health_events(), (80, 20))
    fit = fit_health(20)
    assert (fit.strip_rows, fit.gap, fit.note, fit.blank) == (3, 0, False, False)
    assert len(lines) == 20
    title = next(i for i, line in enumerate(lines) if line.startswith("weights over the run"))
    conv1 = title + 1
    low, high = -(0.2 + 0.004 * (SAMPLES - 1)), (0.2 + 0.004 * (SAMPLES - 1)) * 1.1
    assert lines[conv1].split()[1] == f"{high:.3g}"
    assert lines[conv1 + 2].split()[0] == f"{low:.3g}"
    assert lines[-1].split() == ["0", "35,760", "examples"]


def test_before_any_sample_it_waits() -> None:
    lines = drawn(health_events(with_health=False), (80, 20))
    assert lines[0].startswith("waiting for the first logging batch…")


def test_ascii_text_only() -> None:
    lines = drawn(health_events(), (80, 20), ascii=True)
    assert all(line.isascii() for line in lines)


# -- the pure parts -------------------------------------------------------------------------
def test_pick_stretches_or_spreads_and_keeps_both_ends() -> None:
    assert pick(3, 6) == [0, 0, 1, 1, 2, 2]
    assert pick(10, 4) == [0, 3, 6, 9]
    assert pick(0, 5) == [] and pick(5, 0) == []


def test_rebinning_keeps_each_histograms_shape_on_the_common_span() -> None:
    narrow = (-1.0, 1.0, [0, 4, 4, 0])  # all weights in [-0.5, 0.5]
    wide = (-2.0, 2.0, [1, 1, 1, 1])  # uniform over [-2, 2]
    strip, low, high = density_strip([narrow, wide], rows=8, width=2)
    assert (low, high) == (-2.0, 2.0)
    assert strip.shape == (8, 2)
    # the narrow one: mass only in the middle rows (values -0.5..0.5), the top row highest
    np.testing.assert_allclose(strip[:, 0], [0, 0, 0, 1, 1, 0, 0, 0])
    np.testing.assert_allclose(strip[:, 1], np.ones(8))


def test_sparklines_use_the_glyph_sets_levels() -> None:
    assert sparkline([1.0, 10.0, 100.0], 3, UNICODE) == "▁▅█"
    assert sparkline([1.0, 10.0, 100.0], 3, ASCII) == "_+@"
    assert sparkline([1.0, float("nan"), 1.0], 3, ASCII) == "=!="
    assert sparkline([1.0, 10.0, 0.0], 3, ASCII) == "_@_"  # zero: below the log scale


@pytest.mark.parametrize(("height", "rows"), [(36, 5), (20, 3), (10, 1)])
def test_the_layout_keeps_the_strips_readable(height: int, rows: int) -> None:
    assert fit_health(height).strip_rows == rows
