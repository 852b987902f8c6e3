"""No-grad passes over the model: the test pass, sample predictions and probes.

These are the only places the network is run for looking rather than learning. They run in
the engine's thread, between training steps, so the views never touch the model themselves.
Each restores the model's train/eval mode and consumes no random numbers, so looking at the
network never changes how it trains.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnn_tui.data import LoadedData, Split, normalize
from cnn_tui.engine.events import Mistake, ProbeTaken, SamplesPredicted
from cnn_tui.engine.world import World
from cnn_tui.model import Net, probe

SAMPLE_COUNT = 16
CLASSES = 10

TestResult = tuple[float, int, tuple[tuple[int, ...], ...], tuple[Mistake, ...]]


def sample_indices(test_size: int, seed: int, count: int = SAMPLE_COUNT) -> tuple[int, ...]:
    """A fixed, seeded choice of test digits to show with their predictions."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(test_size, generator=generator)[: min(count, test_size)]
    return tuple(int(i) for i in order)


@torch.no_grad()
def evaluate(
    net: Net,
    split: Split,
    batch_size: int,
    go_on: Callable[[], bool],
    world: World,
) -> TestResult | None:
    """Summed NLL loss, correct count, confusion matrix and mistakes.

    ``go_on()`` is asked before each batch (it may block, to pause the pass); when it says
    False the pass ends with None. In a distributed ``world`` each rank computes its share
    of every batch and the results are summed (the mistakes gathered) over the ranks.
    """
    was_training = net.training
    net.eval()
    try:
        device = split.labels.device
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        confusion = torch.zeros(CLASSES * CLASSES, dtype=torch.int64, device=device)
        wrong: list[torch.Tensor] = []
        for batch_start in range(0, len(split), batch_size):
            if not go_on():
                return None
            start, stop = world.share(batch_start, min(batch_start + batch_size, len(split)))
            images = split.images[start:stop]
            labels = split.labels[start:stop]
            output = net(images)
            loss_sum += F.nll_loss(output, labels, reduction="sum").to(torch.float64)
            confidence, predicted = output.max(1)
            confusion += torch.bincount(labels * CLASSES + predicted, minlength=CLASSES**2)
            miss = (predicted != labels).nonzero().flatten()
            columns = (miss + start, labels[miss], predicted[miss], confidence[miss].exp())
            wrong.append(torch.stack([c.double() for c in columns], dim=1).cpu())
    finally:
        net.train(was_training)
    summed = world.read(torch.cat([loss_sum.view(1), confusion.to(torch.float64)]))
    rows = world.gather_rows(torch.cat(wrong) if wrong else torch.zeros(0, 4, dtype=torch.float64))
    if world.size > 1:
        rows = rows[rows[:, 0].argsort(stable=True)]
    counts = [int(v) for v in summed[1:]]
    matrix = [counts[k * CLASSES : (k + 1) * CLASSES] for k in range(CLASSES)]
    mistakes = tuple(Mistake(int(i), int(t), int(p), float(c)) for i, t, p, c in rows.tolist())
    correct = sum(matrix[k][k] for k in range(CLASSES))
    return summed[0], correct, tuple(tuple(row) for row in matrix), mistakes


@torch.no_grad()
def predict_samples(
    net: Net, data: LoadedData, indices: tuple[int, ...], examples_seen: int
) -> SamplesPredicted:
    index = torch.tensor(indices, dtype=torch.int64)
    images = data.test.images.index_select(0, index.to(data.test.images.device))
    was_training = net.training
    net.eval()
    try:
        confidence, predicted = net(images).max(1)
    finally:
        net.train(was_training)
    return SamplesPredicted(
        examples_seen=examples_seen,
        indices=indices,
        images=data.test.raw.index_select(0, index).float().div(255),
        labels=tuple(int(v) for v in data.test.labels.cpu().index_select(0, index).tolist()),
        predictions=tuple(int(v) for v in predicted.tolist()),
        confidences=tuple(float(v) for v in confidence.exp().tolist()),
    )


def probe_test_digit(net: Net, data: LoadedData, index: int, examples_seen: int) -> ProbeTaken:
    image = data.test.images[index : index + 1]
    label = int(data.test.labels[index])
    return _probe(net, image, examples_seen, source="test", index=index, label=label)


def probe_drawn(net: Net, image: torch.Tensor, data: LoadedData, examples_seen: int) -> ProbeTaken:
    """A digit the user drew, (28, 28) uint8 (or float in [0, 1]), preprocessed exactly as
    training data: :func:`cnn_tui.data.normalize` is the same ToTensor + Normalize arithmetic."""
    batch = normalize(image, data.spec).to(data.test.images.device)
    return _probe(net, batch, examples_seen, source="drawn", index=None, label=None)


def _probe(
    net: Net,
    batch: torch.Tensor,
    examples_seen: int,
    *,
    source: str,
    index: int | None,
    label: int | None,
) -> ProbeTaken:
    stages = {name: t[0].detach().cpu() for name, t in probe(net, batch).items()}
    confidence, predicted = stages["probs"].max(0)
    return ProbeTaken(
        examples_seen=examples_seen,
        source=source,
        index=index,
        label=label,
        stages=stages,
        conv1_weight=net.conv1.weight.detach().cpu().clone(),
        conv2_weight=net.conv2.weight.detach().cpu().clone(),
        prediction=int(predicted),
        confidence=float(confidence),
    )
