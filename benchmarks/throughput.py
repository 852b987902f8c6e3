"""Training throughput, side by side in one run: the tutorial's loop, our engine, a bare loop.

    python benchmarks/throughput.py --data-dir ../shared/data [--steps 300] [--rounds 5]

(a) tutorial: torchvision MNIST + ToTensor + Normalize + DataLoader(batch 64, shuffle), SGD.
(b) engine:   cnn_tui's Trainer with its events on (the headless printer to /dev/null and the
              JSONL run log), as ``cnn-tui --headless`` runs it.
(c) bare:     forward/backward/step over the preloaded normalized tensor, batch = index.

Each round times ``steps`` batches of each, in alternating order (a b c, then c b a, ...),
from the start of the loop (so warm-up and per-epoch set-up count for all three). Prints
samples/s per round, medians, and the ratios of medians: targets (b)/(a) >= 2.0, (b)/(c) >= 0.9.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from engine_timing import BATCH, time_engine
from torchvision import transforms

from cnn_tui.data import LoadedData, load_data
from cnn_tui.model import Net


def tutorial_loop(root: Path, steps: int) -> float:
    dataset = torchvision.datasets.MNIST(
        str(root),
        train=True,
        download=False,
        transform=transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        ),
    )
    torch.manual_seed(1)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    net.train()
    began = time.perf_counter()
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)
    seen = 0
    for batch_idx, (data, target) in enumerate(loader):
        optimizer.zero_grad()
        loss = F.nll_loss(net(data), target)
        loss.backward()
        optimizer.step()
        seen += len(data)
        if batch_idx + 1 == steps:
            break
    return seen / (time.perf_counter() - began)


def bare_loop(data: LoadedData, steps: int) -> float:
    images, labels = data.train.images, data.train.labels
    torch.manual_seed(1)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    net.train()
    began = time.perf_counter()
    order = torch.randperm(len(labels))
    seen = 0
    for step in range(steps):
        index = order[step * BATCH : (step + 1) * BATCH]
        x, y = images[index], labels[index]
        optimizer.zero_grad()
        loss = F.nll_loss(net(x), y)
        loss.backward()
        optimizer.step()
        seen += len(y)
    return seen / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--steps", type=int, default=301, help="batches per timing (ends at a logged batch)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if (args.steps - 1) % 10:
        parser.error("--steps must be 1 more than a multiple of the log interval (10)")
    data = load_data("mnist", device="cpu", data_dir=args.data_dir)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, data: {data.source.detail}"
    )
    results: dict[str, list[float]] = {"tutorial": [], "engine": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp:
        runners: dict[str, Callable[[], float]] = {
            "tutorial": lambda: tutorial_loop(args.data_dir, args.steps),
            "engine": lambda: time_engine(data, args.steps, Path(tmp) / "run")[0],
            "bare": lambda: bare_loop(data, args.steps),
        }
        names = list(runners)
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else names[::-1]
            for name in order:
                results[name].append(runners[name]())
            print(
                f"round {round_no + 1}: "
                + "  ".join(f"{n} {results[n][-1]:7.0f}/s" for n in names),
                flush=True,
            )
    median = {name: statistics.median(values) for name, values in results.items()}
    print("median samples/s: " + ", ".join(f"{n} {median[n]:.0f}" for n in names))
    print(f"(b)/(a) engine/tutorial = {median['engine'] / median['tutorial']:.2f}  (target >= 2.0)")
    print(f"(b)/(c) engine/bare     = {median['engine'] / median['bare']:.2f}  (target >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
