"""The tutorial's ``Net``, layer for layer, and a probe that returns every stage of it.

``forward`` is the tutorial's math with ``log_softmax(dim=1)`` made explicit. ``probe`` runs
the same layers in eval mode (no dropout) and keeps each intermediate tensor, in the order
the tutorial explains a CNN: convolution, ReLU + pooling, flattening, full connection.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Stage name -> (tutorial step, shape for one digit). The pipeline view draws these in order.
STAGES: dict[str, tuple[str, tuple[int, ...]]] = {
    "input": ("input", (1, 28, 28)),
    "conv1": ("convolution", (10, 24, 24)),
    "pool1": ("ReLU + max-pool", (10, 12, 12)),
    "conv2": ("convolution", (20, 8, 8)),
    "pool2": ("ReLU + max-pool", (20, 4, 4)),
    "flatten": ("flattening", (320,)),
    "fc1": ("full connection", (50,)),
    "fc2": ("full connection", (10,)),
    "probs": ("probabilities", (10,)),
}


class Net(nn.Module):
    """The PyTorch MNIST tutorial's CNN."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


@torch.no_grad()
def probe(net: Net, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every stage of ``net`` for a batch ``x`` of shape (n, 1, 28, 28), in eval mode.

    Returns detached tensors keyed by :data:`STAGES`, each with the batch dimension first.
    The model's train/eval mode is restored afterwards.
    """
    was_training = net.training
    net.eval()
    try:
        conv1 = net.conv1(x)
        pool1 = F.relu(F.max_pool2d(conv1, 2))
        conv2 = net.conv2(pool1)
        pool2 = F.relu(F.max_pool2d(conv2, 2))
        flat = pool2.reshape(-1, 320)
        fc1 = F.relu(net.fc1(flat))
        fc2 = net.fc2(fc1)
        probs = F.softmax(fc2, dim=1)
    finally:
        net.train(was_training)
    return {
        "input": x,
        "conv1": conv1,
        "pool1": pool1,
        "conv2": conv2,
        "pool2": pool2,
        "flatten": flat,
        "fc1": fc1,
        "fc2": fc2,
        "probs": probs,
    }


def state_dict_matches(state: dict[str, torch.Tensor]) -> str | None:
    """None when ``state`` fits :class:`Net`, else a short reason it does not."""
    expected = {k: tuple(v.shape) for k, v in Net().state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:3])}")
        return "; ".join(parts)
    for key, shape in expected.items():
        if got[key] != shape:
            return f"{key} has shape {got[key]}, expected {shape}"
    return None
