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


def reserve_threads_for_engine() -> int:
    """Make the calling (UI) thread single-threaded; return the threads the engine should use.

    torch's CPU ops run on an OpenMP thread team owned by the thread that calls them. When
    a second thread (the UI) also owns a team, libgomp sees more threads than cores and stops
    spin-waiting between ops: training on a worker thread then ran at ~0.65× its speed on the
    main thread (benchmarks/ui_overhead.py). A thread limited to one thread never starts a
    team, so the worker's team keeps the cores to itself. Call before any torch work.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    return threads
