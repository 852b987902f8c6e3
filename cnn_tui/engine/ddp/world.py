"""The World of one rank of a torchrun job: torch.distributed and DistributedDataParallel.

:func:`join` initialises the default process group from torchrun's environment — gloo on
the CPU, NCCL on CUDA with one GPU per rank (``cuda:LOCAL_RANK``) — and a gloo side group
for the courier's plans (so they never queue behind the metrics, and cost a GPU nothing).

Each global batch (the tutorial's 64, a slice of the epoch's seeded permutation) is shared
between the ranks in contiguous parts (:func:`~cnn_tui.engine.world.share_bounds`); each
rank back-propagates its summed loss times ``size / len(batch)``, and DDP's average over
the ranks makes that the tutorial's mean gradient over the global batch, whatever the size
of the last batch. The test pass is shared the same way, its sums added over the ranks and
its mistakes gathered. The only other collectives are the sums read at logging batches
(:meth:`Distributed.read`): losses, correct counts.
"""

from __future__ import annotations

import datetime
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from cnn_tui.config import HyperParams
from cnn_tui.engine.control import Control
from cnn_tui.engine.ddp.courier import Board, Courier, Plan, Waiter
from cnn_tui.engine.ddp.launch import Launch
from cnn_tui.engine.world import World, share_bounds

STORE_PREFIX = "cnn-tui/"


class SideExchange:
    """The courier's plans: an asynchronous MAX all-reduce on a gloo group of their own."""

    def __init__(self, group: dist.ProcessGroup | None) -> None:
        self.group = group

    def post(self, plan: Plan) -> Waiter:
        values = torch.tensor(plan, dtype=torch.int64)
        work = dist.all_reduce(values, op=dist.ReduceOp.MAX, group=self.group, async_op=True)
        assert work is not None

        def wait() -> Plan:
            work.wait()
            newest, stop = values.tolist()
            return int(newest), int(stop)

        return wait


def rank_device(kind: str, launch: Launch) -> torch.device:
    """The device of a rank: the CPU, or its own GPU (``cuda:LOCAL_RANK``)."""
    return torch.device("cuda", launch.local_rank) if kind == "cuda" else torch.device("cpu")


def job_store() -> Board:
    """The job's key-value store (the one torchrun's rendezvous set up), our keys apart."""
    from torch.distributed import PrefixStore  # type: ignore[attr-defined]

    store = dist.distributed_c10d._get_default_store()
    board: Board = PrefixStore(STORE_PREFIX, store)
    return board


class Distributed(World):
    """One rank's world (see the module docstring); :func:`join` makes it."""

    def __init__(self, launch: Launch, device: torch.device, side: dist.ProcessGroup) -> None:
        super().__init__(device)
        self.launch = launch
        self.rank, self.size = launch.rank, launch.size
        self.backend = str(dist.get_backend())
        self.side = side
        self.board = job_store()
        self.courier: Courier | None = None

    def wrap(self, net: nn.Module) -> nn.Module:
        """DDP's wrapper; building it broadcasts rank 0's weights to every rank (the
        tutorial's Net has no buffers to keep in step).

        Every rank starts from the same random state (the seed, or the checkpoint's), which
        would give every rank's share the same dropout masks: the ranks other than 0 draw a
        seed from it and add their rank. Rank 0 keeps the stream a checkpoint saves.
        """
        if self.rank:
            base = int(torch.randint(0, 2**62, (1,)).item())
            torch.manual_seed(base + self.rank)
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids)

    def control(self, source: Control) -> Control:
        self.courier = Courier(
            self.rank, self.board, SideExchange(self.side), source, on_hold=self._held
        )
        self.courier.start()
        return self.courier.replica

    def _held(self, held: bool) -> None:
        self.beat.held = held

    def tick(self) -> None:
        assert self.courier is not None
        self.courier.tick()

    def share(self, start: int, stop: int) -> tuple[int, int]:
        return share_bounds(start, stop, self.rank, self.size)

    def loss_scale(self, batch: int) -> float | None:
        return self.size / batch

    def read(self, values: torch.Tensor) -> list[float]:
        dist.all_reduce(values)
        return [float(v) for v in values.tolist()]

    def gather_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Every rank's rows (any number each), in rank order, on every rank."""
        local = rows.to(self.device)
        counts = [torch.zeros(1, dtype=torch.int64, device=self.device) for _ in range(self.size)]
        dist.all_gather(counts, torch.tensor([len(local)], device=self.device))
        sizes = [int(c) for c in counts]
        padded = torch.zeros(max(sizes), *local.shape[1:], dtype=local.dtype, device=self.device)
        padded[: len(local)] = local
        gathered = [torch.empty_like(padded) for _ in range(self.size)]
        dist.all_gather(gathered, padded)
        return torch.cat([g[:n] for g, n in zip(gathered, sizes, strict=True)]).cpu()

    def check_hparams(self, hparams: HyperParams) -> str | None:
        if hparams.batch_size % self.size:
            return (
                f"batch_size must be a multiple of {self.size}, the number of processes "
                f"(got {hparams.batch_size})"
            )
        return None

    def close(self, *, clean: bool = True) -> None:
        if not clean:
            return  # another rank may be inside a collective: torchrun ends the job
        if self.courier is not None:
            self.courier.drain()
        if dist.is_initialized():
            dist.destroy_process_group()


def join(
    launch: Launch, device_kind: str, *, timeout: datetime.timedelta | None = None
) -> Distributed:
    """Join the torchrun job as ``launch.rank``: the process groups and this rank's device."""
    device = rank_device(device_kind, launch)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device, timeout=timeout)
    else:
        dist.init_process_group("gloo", timeout=timeout)
    side = dist.new_group(backend="gloo")
    assert isinstance(side, dist.ProcessGroup)
    return Distributed(launch, device, side)


def wait_for_key(board: Board, key: str) -> None:
    """Poll ``board`` for ``key`` (no store timeouts, no warnings)."""
    while not board.check([key]):
        time.sleep(0.1)
