"""The inside screen in the running app: against the real engine, and as snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np
import pytest
import torch
from PIL import Image
from textual.pilot import Pilot
from torchvision import transforms

from cnn_tui.data import LoadedData
from cnn_tui.engine.control import ProbeImage, ProbeIndex
from cnn_tui.engine.events import Event, ProbeTaken
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import replay, settle
from cnn_tui.tui.screens.dashboard import DashboardScreen
from cnn_tui.tui.screens.inside import InsideScreen
from cnn_tui.tui.widgets.canvas import DigitCanvas
from tests.helpers import Harness, drive, wait_until
from tests.recordings import Replayed


def as_training_data(image: np.ndarray) -> torch.Tensor:
    """What the tutorial's pipeline makes of a 28×28 uint8 digit: ToTensor, then Normalize."""
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
    )
    return pipeline(Image.fromarray(image))


async def draw_a_seven(pilot: Pilot[object]) -> None:
    await pilot.press("4")  # the draw pane; the canvas takes focus
    await pilot.press("d")  # pen down: every move inks
    await pilot.press(*["up"] * 8, *["left"] * 6)
    await pilot.press(*["right"] * 10)
    await pilot.press(*["down", "left"] * 8)
    await pilot.press("d")


def drawn_input_matches(app: CnnTuiApp, canvas: DigitCanvas) -> bool:
    """The drawn answer's input is the canvas as training data. Exact even against an answer
    recorded on another machine: ToTensor and Normalize are one division, a subtraction and a
    division per pixel, each correctly rounded in IEEE arithmetic, so every CPU agrees."""
    probe = app.view.drawn_probe
    return probe is not None and torch.equal(probe.stages["input"], as_training_data(canvas.image))


def test_a_drawn_digit_reaches_the_model_preprocessed_exactly_as_training_data(
    tiny_data: LoadedData, run_dir: object
) -> None:
    h = Harness(tiny_data, run_dir)  # type: ignore[arg-type]

    async def body(pilot: Pilot[object]) -> None:
        await h.pause(pilot)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(h.app.screen, InsideScreen))
        await draw_a_seven(pilot)
        canvas = h.app.screen.query_one(DigitCanvas)
        assert int(canvas.image.sum()) > 0
        # while paused, the engine still answers
        await wait_until(pilot, lambda: drawn_input_matches(h.app, canvas))
        probe = h.app.view.drawn_probe
        assert probe is not None and probe.source == "drawn" and probe.label is None
        assert probe.prediction == int(probe.stages["probs"].argmax())
        # and while training runs: a new stroke, a new answer for exactly that image
        h.app.screen.query_one(DigitCanvas).focus()
        await pilot.press("space")  # on the canvas, space inks; training stays paused
        h.control.resume()
        await pilot.press("x", "d", *["down"] * 5, "d")
        await wait_until(pilot, lambda: drawn_input_matches(h.app, canvas))
        assert not torch.equal(h.app.view.drawn_probe.stages["input"], probe.stages["input"])  # type: ignore[union-attr]
        await h.quit(pilot)

    drive(h.app, body)


def test_i_switches_screens_and_n_picks_the_pipelines_digit(
    tiny_data: LoadedData, run_dir: object
) -> None:
    h = Harness(tiny_data, run_dir)  # type: ignore[arg-type]

    async def body(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: h.app.view.probe is not None)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(h.app.screen, InsideScreen))
        await pilot.press("n", "n")
        await wait_until(
            pilot, lambda: h.app.view.probe is not None and h.app.view.probe.index == 2
        )
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(h.app.screen, DashboardScreen))
        await pilot.press("i", "3")  # the same inside screen comes back, on the pane asked for
        await wait_until(pilot, lambda: isinstance(h.app.screen, InsideScreen))
        assert h.app.screen.query_one("#inside-tabs").active == "confusion"  # type: ignore[attr-defined]
        await h.quit(pilot)

    drive(h.app, body)


SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def demo(inside_demo: Replayed) -> list[Event]:
    return inside_demo.events


def on_pane(events: list[Event], *keys: str) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot, events)
        await pilot.press("i", *keys)
        await pilot.pause(0.2)
        assert isinstance(pilot.app, CnnTuiApp)
        pilot.app.redraw(force=True)
        await pilot.pause()

    return run_before


def test_inside_screen_pipeline_at_120x40(snap_compare: SnapCompare, demo: list[Event]) -> None:
    app = CnnTuiApp(replay(demo))
    assert snap_compare(app, terminal_size=(120, 40), run_before=on_pane(demo, "1"))


def test_inside_screen_confusion_at_80x24(snap_compare: SnapCompare, demo: list[Event]) -> None:
    app = CnnTuiApp(replay(demo))
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_pane(demo, "3"))


def test_a_replayed_run_answers_probes_with_the_recorded_network(
    inside_demo: Replayed, sample_data: LoadedData
) -> None:
    """Screenshots and tests draw on a replay: its answers are the recorded Net's, stored in
    the recording and shown bit for bit as stored (the Net itself is checked only where it
    was trained in this process: ``--update-recordings``)."""
    app = CnnTuiApp(replay(inside_demo.events, inside_demo.answer))
    app.animation_level = "none"

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, inside_demo.events)
        shown = app.view.probe
        assert shown is not None and shown.index is not None
        await pilot.press("n")
        await wait_until(pilot, lambda: app.view.probe is not shown)
        probe = app.view.probe
        assert probe is not None and probe.index == shown.index + 1
        assert probe.label == int(sample_data.test.labels[shown.index + 1])
        assert_same_probe(probe, inside_demo.probe(ProbeIndex(shown.index + 1)))
        await pilot.press("i")
        await draw_a_seven(pilot)
        canvas = app.screen.query_one(DigitCanvas)
        await wait_until(pilot, lambda: drawn_input_matches(app, canvas))
        drawn = app.view.drawn_probe
        assert drawn is not None
        assert_same_probe(drawn, inside_demo.probe(ProbeImage(torch.from_numpy(canvas.image))))
        net = inside_demo.net
        if net is not None:  # made in this process: the live Net's own answer, computed apart
            net.eval()
            with torch.no_grad():
                net_says = net(as_training_data(canvas.image).unsqueeze(0)).exp()[0]
            net.train()
            assert torch.allclose(drawn.stages["probs"], net_says, atol=1e-6)

    drive(app, body, size=(120, 40))


def assert_same_probe(shown: ProbeTaken, stored: ProbeTaken) -> None:
    """What the app shows is the recording's answer, bit for bit."""
    assert (shown.source, shown.index, shown.label) == (stored.source, stored.index, stored.label)
    assert (shown.prediction, shown.confidence) == (stored.prediction, stored.confidence)
    assert shown.stages.keys() == stored.stages.keys()
    assert all(torch.equal(shown.stages[k], stored.stages[k]) for k in stored.stages)
    assert torch.equal(shown.conv1_weight, stored.conv1_weight)
    assert torch.equal(shown.conv2_weight, stored.conv2_weight)
