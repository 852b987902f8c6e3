"""What measuring every layer's health costs training: the engine with it and without it.

    python benchmarks/health_overhead.py --data-dir ../shared/data [--steps 901] [--rounds 6]
        [--threads N]

Each round times ``steps`` batches of the engine as ``cnn-tui --headless`` runs it (the
headless printer to /dev/null and the JSONL run log, a line every 10 batches) twice, with
health on and off, alternating which goes first (A B, then B A, ...), in one process so
both see the same machine. Health on is the default: a sample at every logging batch and a
dead-ReLU probe pass every 6,400 examples (100 batches). Prints, per round and as medians,
samples/s of wall time and of the process's CPU time, and the cost: 1 - on/off.
Target: <= 3 %. On a shared, busy machine wall time swings by tens of per cent between
runs; CPU time (best with ``--threads 1``, so no OpenMP spin-waiting is counted) measures
the work itself. Also times the parts (a sample without the probe pass, the probe pass, a
training step) in isolation, to show where the cost is.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from engine_timing import BATCH, time_engine

from cnn_tui.data import LoadedData, load_data
from cnn_tui.engine import health
from cnn_tui.model import Net


def parts(data: LoadedData, repeats: int = 30) -> dict[str, float]:
    """Milliseconds of a training step, a sample without and with the probe pass."""
    torch.manual_seed(1)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    images, labels = data.train.images, data.train.labels
    probe = health.probe_batch(data.test, seed=1)

    def step(k: int) -> None:
        batch = slice(k * BATCH, (k + 1) * BATCH)
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(net(images[batch]), labels[batch])
        loss.item()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()

    def timed(work: object) -> float:
        assert callable(work)
        began = time.perf_counter()
        for k in range(repeats):
            work(k)
        return 1000 * (time.perf_counter() - began) / repeats

    step(0)
    before = health.copy_weights(net)
    return {
        "training step": timed(step),
        "sample, no probe pass": timed(lambda _: health.measure(net, before, None)),
        "probe pass": timed(lambda _: health.dead_shares(net, probe)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--steps", type=int, default=901, help="batches per timing (within one epoch: 938)"
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if (args.steps - 1) % 10:
        parser.error("--steps must be 1 more than a multiple of the log interval (10)")
    data = load_data("mnist", device="cpu", data_dir=args.data_dir)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {data.source.detail}")
    wall: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            order = ["on", "off"] if round_no % 2 == 0 else ["off", "on"]
            for name in order:
                run_dir = Path(tmp) / f"run-{round_no}-{name}"
                rates = time_engine(data, args.steps, run_dir, health=name == "on")
                wall[name].append(rates[0])
                cpu[name].append(rates[1])
            line = [
                f"{label} on {r['on'][-1]:6.0f}/s off {r['off'][-1]:6.0f}/s "
                f"({r['on'][-1] / r['off'][-1]:.3f})"
                for label, r in (("wall", wall), ("cpu", cpu))
            ]
            print(f"round {round_no + 1}: " + ";  ".join(line), flush=True)
    for label, rates in (("wall time", wall), ("CPU time", cpu)):
        on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
        ratios = [a / b for a, b in zip(rates["on"], rates["off"], strict=True)]
        print(
            f"{label}: median samples/s on {on:.0f}, off {off:.0f}; cost of health "
            f"{100 * (1 - on / off):.1f}% (ratio of medians), "
            f"{100 * (1 - statistics.median(ratios)):.1f}% (median of per-round ratios)"
        )
    print("target: cost <= 3%")
    for name, ms in parts(data).items():
        print(f"  {name}: {ms:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
