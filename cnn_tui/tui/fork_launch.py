"""Starting a fork's run: the command line that resumes it with the settings chosen.

The fork's directory holds a checkpoint of the parent's exact point (``engine/fork.py``);
its run is ``cnn-tui --resume FORK`` with the new settings and the parent's data: the same
dataset, the same ``--data-dir``, no downloading if the parent trained on the packaged
sample.
"""

from __future__ import annotations

from typing import Any

from cnn_tui.engine.events import RunStarted


def fork_argv(fork_dir: str, changes: dict[str, Any], parent: RunStarted | None) -> list[str]:
    argv = ["--resume", fork_dir]
    for name, value in changes.items():
        argv += [
            f"--{name.replace('_', '-')}",
            f"{value:g}" if isinstance(value, float) else str(value),
        ]
    if parent is not None:
        argv += ["--dataset", parent.dataset]
        if parent.data_dir:
            argv += ["--data-dir", parent.data_dir]
        if parent.source == "sample":
            argv.append("--offline")
        if parent.device in ("cpu", "mps"):
            argv += ["--device", parent.device]
    return argv
