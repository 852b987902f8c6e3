"""Does a run watched for a long time grow? RSS of the engine and of a monitor, over time.

    python benchmarks/soak.py --data-dir ../shared/data --minutes 30 [--warmup 3]

Starts a run in the background as ``cnn-tui --detach`` does (many epochs, full MNIST or
the packaged sample if ``--data-dir`` is not given), attaches one monitor to it (the full
Textual app at 120×40 on the headless driver, the dashboard drawn as a user sees it) and
samples both processes' resident memory every ``--every`` seconds. It prints the samples,
then, for each process, the growth per 10 minutes after ``--warmup`` minutes: the slope of
a least-squares line through the samples (one reading is noisy; the trend is the leak).
Target: under 5 MB per 10 minutes over a 30-minute run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnn_tui.spawn import start_background

SIZE = (120, 40)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def slope_per_10_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares MB per 10 minutes through (seconds, MB) samples."""
    xs, ys = [s for s, _ in samples], [m for _, m in samples]
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 600 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def monitor(run_dir: Path) -> None:
    """The app attached to the run until the run ends (or this process is killed)."""
    from cnn_tui.endpoint.remote import RemoteSession
    from cnn_tui.tui.app import CnnTuiApp

    app = CnnTuiApp(RemoteSession(run_dir).bind)

    async def watch() -> None:
        async with app.run_test(size=SIZE, headless=True):
            app.animation_level = "none"
            while app.view.connected:
                await asyncio.sleep(1)

    asyncio.run(watch())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="full MNIST (default: the sample)")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="minutes left out of the slope")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--monitor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.monitor:
        monitor(args.monitor)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "soak"
        data = ["--data-dir", str(args.data_dir)] if args.data_dir else ["--offline"]
        started = start_background(["--epochs", "1000", "--run-dir", str(run_dir), *data])
        viewer = subprocess.Popen([sys.executable, __file__, "--monitor", str(run_dir)])
        began = time.monotonic()
        samples: dict[str, list[tuple[float, float]]] = {"engine": [], "monitor": []}
        print("minute  engine MB  monitor MB", flush=True)
        try:
            while (now := time.monotonic() - began) < 60 * args.minutes:
                engine, shown = rss_mb(started.pid), rss_mb(viewer.pid)
                samples["engine"].append((now, engine))
                samples["monitor"].append((now, shown))
                print(f"{now / 60:6.1f}  {engine:9.1f}  {shown:10.1f}", flush=True)
                time.sleep(args.every)
        finally:
            subprocess.run([sys.executable, "-m", "cnn_tui", "stop", str(run_dir)], check=False)
            viewer.kill()
            viewer.wait()
            started.process.wait()
    warm = 60 * args.warmup
    for name, points in samples.items():
        steady = [(t, m) for t, m in points if t >= warm]
        print(
            f"{name}: {steady[0][1]:.1f} MB after warm-up → {steady[-1][1]:.1f} MB; "
            f"growth {slope_per_10_min(steady):+.2f} MB per 10 minutes (target < 5)"
            if steady
            else f"{name}: no samples after the warm-up"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
