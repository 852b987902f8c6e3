"""Regenerate the README's screenshots: real training, replayed into the app, saved as SVG.

    python scripts/screenshots.py [--data-dir ../shared/data] [--out screenshots]

The run is real (the tutorial's Net and hyperparameters, seed 1, CPU) on whatever data
``cnn-tui`` would use (``--data-dir``, the cache, or the packaged sample), recorded up to a
point in epoch 2 with lr raised after epoch 1, then replayed into the app at each size. The
recorded network answers the digit drawn in the inside screen's canvas, as the engine would.
A second real run, at lr 0.05, is written as a run directory for the comparing shots.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from cnn_tui.config import HyperParams
from cnn_tui.data import load_data
from cnn_tui.engine.events import EpochTested
from cnn_tui.engine.runlog import event_line
from cnn_tui.runs.record import RunRecord, write_record
from cnn_tui.runs.registry import new_id, register
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
    "compare": ((120, 40), None, False),
    "compare-80x24": ((80, 24), None, False),
    "runs-picker": ((120, 40), keys("o"), False),
}
COMPARING = ("compare", "compare-80x24", "runs-picker")  # with the run at lr 0.05 drawn


def other_run(run_dir: Path, recording: Recording, hparams: HyperParams) -> Path:
    """``recording`` as a finished run's directory, registered, for the monitor to compare."""
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (run_dir / "events.jsonl").write_bytes(b"".join(event_line(e) for e in recording.events))
    best = max(e.correct / e.total for e in recording.events if isinstance(e, EpochTested))
    run_id = new_id(run_dir)
    write_record(
        run_dir,
        RunRecord(
            run_id, str(run_dir), "mnist", hparams.to_dict(), state="stopped", best_accuracy=best
        ),
    )
    register(run_dir, run_id)
    return run_dir


def shoot(recording: Recording, out: Path, name: str, compare: list[Path]) -> Path:
    size, step, no_color = SHOTS[name]
    events = recording.events
    if no_color:
        os.environ["NO_COLOR"] = "1"
    app = CnnTuiApp(replay(events, recording.answer), compare=compare)
    os.environ.pop("NO_COLOR", None)
    app.animation_level = "none"
    path = out / f"{name}.svg"

    async def main() -> None:
        async with app.run_test(size=size, notifications=False) as pilot:
            await settle(pilot, events)
            app.refresh_overlays(force=True)
            app.redraw(force=True)
            await pilot.pause()
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
    stop_at = (2, batches // 2 // 10 * 10)
    recording = record(
        data,
        stop_at=stop_at,
        hparams=HyperParams(log_interval=10),
        changes={(2, 0): {"lr": 0.02}},
        visual_every=50,
        clock=time.perf_counter,  # the rates on screen are this machine's, measured
    )
    faster = HyperParams(log_interval=10, lr=0.05)
    other = record(data, stop_at=stop_at, hparams=faster, visual_every=0)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["XDG_DATA_HOME"] = home  # the picker lists these runs, not yours
        compared = [other_run(Path(home) / "lr-0.05", other, faster)]
        for name in SHOTS:
            print(shoot(recording, args.out, name, compared if name in COMPARING else []))
    return 0


if __name__ == "__main__":
    sys.exit(main())
