"""Training throughput with one process and with N (DDP via torchrun), side by side.

    python benchmarks/scaling.py --data-dir ../shared/data [--nproc 2] [--rounds 3]

Each measurement is a fresh ``cnn-tui --headless --epochs 1`` run on the full training set
(the tutorial's settings: global batch 64, a line every 10 batches), alternately with one
process and with ``--nproc N`` (a b, then b a, ...). Throughput is read from the run itself
as it prints, not from start-up: the examples between its first logged batch past
``--skip`` of the epoch and its last, over the wall time between those two lines. The
engine's own figure (the summary's samples/s, from its training-time counter) is shown
beside it. Prints samples/s per round, the medians, and N's over one's.

On a CPU-only box with few cores the N ranks share the same cores: expect no speed-up
(each rank's share of a batch is smaller, and the gradient all-reduce is added), only the
check that DDP costs little. The point of --nproc is one GPU per rank.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnn_tui.torchrun import cpu_cores

LINE = re.compile(r"^Train Epoch: (\d+) \[(\d+)/(\d+) ")
SUMMARY = re.compile(r"([\d,]+) samples/s")


def measure(data_dir: Path, nproc: int, skip: float, run_dir: Path) -> tuple[float, float]:
    """(wall-clock samples/s between logged lines, the engine's own samples/s)."""
    args = [
        sys.executable,
        "-m",
        "cnn_tui",
        "--headless",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--data-dir",
        str(data_dir),
        "--run-dir",
        str(run_dir),
    ]
    if nproc > 1:
        args += ["--nproc", str(nproc)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert process.stdout is not None
    marks: list[tuple[float, int]] = []
    engine = 0.0
    for line in process.stdout:
        now = time.perf_counter()
        if match := LINE.match(line):
            position, size = int(match[2]), int(match[3])
            if position >= skip * size:
                marks.append((now, position))
        elif line.startswith("Done: ") and (found := SUMMARY.search(line)):
            engine = float(found[1].replace(",", ""))
    if process.wait() != 0 or len(marks) < 2:
        raise SystemExit(f"the run with {nproc} process(es) failed (exit {process.returncode})")
    (t0, p0), (t1, p1) = marks[0], marks[-1]
    return (p1 - p0) / (t1 - t0), engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip", type=float, default=0.1, help="fraction of the epoch skipped")
    args = parser.parse_args()
    cores = cpu_cores()
    print(f"{cores} CPU cores, global batch 64, 1 vs {args.nproc} processes (gloo)")
    results: dict[int, list[tuple[float, float]]] = {1: [], args.nproc: []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            order = [1, args.nproc] if round_no % 2 == 0 else [args.nproc, 1]
            for nproc in order:
                run_dir = Path(tmp) / f"r{round_no}-n{nproc}"
                results[nproc].append(measure(args.data_dir, nproc, args.skip, run_dir))
            print(
                f"round {round_no + 1}: "
                + "  ".join(
                    f"N={n} {results[n][-1][0]:7,.0f}/s (engine {results[n][-1][1]:7,.0f}/s)"
                    for n in (1, args.nproc)
                ),
                flush=True,
            )
    median = {n: statistics.median(r[0] for r in values) for n, values in results.items()}
    print("median samples/s: " + ", ".join(f"N={n} {median[n]:,.0f}" for n in median))
    print(f"N={args.nproc} / N=1 = {median[args.nproc] / median[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
