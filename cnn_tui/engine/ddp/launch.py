"""What torchrun tells a rank through its environment, read without importing torch.

torchrun (``python -m torch.distributed.run``) starts each rank with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``
set; a process started any other way has none of them and trains alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun job."""

    rank: int
    size: int
    local_rank: int
    local_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env(env: dict[str, str] | None = None) -> Launch | None:
    """The job this process is a rank of, or None when torchrun did not start it (or started
    it alone: a world of one trains like a single process)."""
    env = dict(os.environ) if env is None else env
    try:
        size = int(env["WORLD_SIZE"])
        rank = int(env["RANK"])
        local_rank = int(env.get("LOCAL_RANK", rank))
        local_size = int(env.get("LOCAL_WORLD_SIZE", size))
    except (KeyError, ValueError):
        return None
    if size <= 1 or not 0 <= rank < size:
        return None
    return Launch(rank, size, local_rank, local_size)
