"""cnn-tui: a terminal training monitor for the PyTorch MNIST tutorial's CNN."""

from __future__ import annotations

__version__ = "0.1.0"
