"""Regenerate the README's screenshots: real training, replayed into the app, saved as SVG.

    python scripts/screenshots.py [--data-dir ../shared/data] [--out screenshots]

The run is real (the tutorial's Net and hyperparameters, seed 1, CPU) on whatever data
``cnn-tui`` would use (``--data-dir``, the cache, or the packaged sample), recorded up to a
point in epoch 2 with lr raised after epoch 1, then replayed into the app at each size. The
recorded network answers the digit drawn in the inside screen's canvas, as the engine would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from cnn_tui.config import HyperParams
from cnn_tui.data import load_data
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import Recording, record, replay, settle

Step = Callable[[Pilot[object]], Awaitable[None]]


def keys(*pressed: str) -> Step:
    async def press(pilot: Pilot[object]) -> None:
        await pilot.press(*pressed)
        await pilot.pause(0.3)

    return press


async def edit_with_error(pilot: Pilot[object]) -> None:
    await pilot.press("e")
    await pilot.pause(0.3)
    field = pilot.app.screen.query_one("#field-lr")
    field.value = "-0.5"  # type: ignore[attr-defined]
    await pilot.pause(0.3)


async def draw_a_seven(pilot: Pilot[object]) -> None:
    """A 7 the way a hand draws it: a bar, then a steep stroke down to the left."""
    await pilot.press("i", "4", *["up"] * 8, *["left"] * 6)  # the draw pane, to the bar's start
    await pilot.press("d", *["right"] * 12, *["down", "down", "left"] * 7, "d")  # pen down, up
    app = pilot.app
    assert isinstance(app, CnnTuiApp)
    deadline = time.monotonic() + 10
    while app.view.drawn_probe is None and time.monotonic() < deadline:
        await pilot.pause(0.05)


SHOTS: dict[str, tuple[tuple[int, int], Step | None, bool]] = {
    # name: (terminal size, what to do once the run is on screen, NO_COLOR)
    "dashboard": ((120, 40), None, False),
    "hyperparameters": ((120, 40), edit_with_error, False),
    "help": ((120, 40), keys("question_mark"), False),
    "no-color": ((120, 40), None, True),
    "compact-charts": ((80, 24), None, False),
    "compact-digits": ((80, 24), keys("2"), False),
    "compact-maps": ((80, 24), keys("3"), False),
    "compact-conv2": ((80, 24), keys("3", "f"), False),
    "inside-pipeline": ((120, 40), keys("i", "1"), False),
    "inside-filters": ((120, 40), keys("i", "2"), False),
    "inside-confusion": ((120, 40), keys("i", "3"), False),
    "inside-mistakes": ((120, 40), keys("i", "3", "enter"), False),
    "inside-draw": ((120, 40), draw_a_seven, False),
    "inside-pipeline-80x24": ((80, 24), keys("i", "1"), False),
    "inside-draw-80x24": ((80, 24), draw_a_seven, False),
    "inside-no-color": ((120, 40), keys("i", "2"), True),
    "inside-health": ((120, 40), keys("i", "5"), False),
    "inside-health-80x24": ((80, 24), keys("i", "5"), False),
}


def shoot(recording: Recording, out: Path, name: str) -> Path:
    size, step, no_color = SHOTS[name]
    events = recording.events
    if no_color:
        os.environ["NO_COLOR"] = "1"
    app = CnnTuiApp(replay(events, recording.answer))
    os.environ.pop("NO_COLOR", None)
    app.animation_level = "none"
    path = out / f"{name}.svg"

    async def main() -> None:
        async with app.run_test(size=size, notifications=False) as pilot:
            await settle(pilot, events)
            if step is not None:
                await step(pilot)
                app.redraw(force=True)
                await pilot.pause()
            app.save_screenshot(str(path))

    asyncio.run(main())
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="as cnn-tui --data-dir")
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    data = load_data("mnist", device="cpu", data_dir=args.data_dir, progress=print)
    print(f"data: {data.source.detail}")
    batches = len(data.train) // 64
    recording = record(
        data,
        stop_at=(2, batches // 2 // 10 * 10),
        hparams=HyperParams(log_interval=10),
        changes={(2, 0): {"lr": 0.02}},
        visual_every=50,
        clock=time.perf_counter,  # the rates on screen are this machine's, measured
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SHOTS:
        print(shoot(recording, args.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
