"""``python -m cnn_tui``: the same entry point as the ``cnn-tui`` console script."""

from __future__ import annotations

import sys

from cnn_tui.cli import main

sys.exit(main())
