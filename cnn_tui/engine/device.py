"""Which device trains, and how many CPU threads the engine gets.

Kept apart from :mod:`cnn_tui.engine.session` (which pulls in the datasets and torchvision)
so the CLI can settle both before it loads anything.
"""

from __future__ import annotations

import torch

from cnn_tui.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; ``cuda:N`` GPU N; an unavailable choice is a
    ConfigError."""
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", f"{name} is not available on this machine: use --device cpu")
    if name.startswith("cuda:") and int(name[5:]) >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ConfigError(
            "device",
            f"{name} is not on this machine: it has {count} GPU(s), cuda:0 to cuda:{count - 1}",
        )
    if name == "mps" and not mps_ok:
        raise ConfigError("device", "mps is not available on this machine: use --device cpu")
    return torch.device(name)
