"""What the run's processes cost and where they are: sampled off the training thread.

A :class:`Sampler` thread in each process wakes at most once a second and reads, with
psutil, the process's CPU (all its threads: 100 % is one core) and resident memory; on
CUDA, with NVML (nvidia-ml-py), its GPU's utilisation, memory, temperature and power. The
GPU is found by UUID: NVML numbers every GPU of the machine, CUDA only those it was given
(``CUDA_VISIBLE_DEVICES``), so their indices differ. Whatever cannot be read — no NVML, a
counter the GPU does not keep — is None ("n/a" on screen), never an error. The row also
carries the process's heartbeat: where its training thread is, how fast it trains, whether
it is held.

One process: the sampler publishes a :class:`SystemSampled` with its row. A torchrun job:
every rank writes its row to the job's store (``sys/RANK``) and rank 0's sampler publishes
all of them, each with its age — a rank stuck in a collective, or gone, is a row that ages.
The samples go to the run's viewers (the endpoint) only: they are not the run's history.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

import psutil
import torch

from cnn_tui.engine.ddp.courier import Board
from cnn_tui.engine.events import RankSample, SystemSampled
from cnn_tui.engine.world import World

if TYPE_CHECKING:
    from cnn_tui.engine.session import Run

INTERVAL_S = 1.0
COLLECT_AFTER_S = 0.25  # rank 0 reads the ranks' rows this long after they took them
Where = Callable[[], tuple[int, int]]  # (epoch, batch index) of the training thread


def bare_uuid(uuid: object) -> str:
    """A GPU's UUID as CUDA and NVML both can say it: ``GPU-1a2b...`` or ``1a2b...``."""
    text = str(uuid).strip().lower()
    for prefix in ("gpu-", "mig-"):
        text = text.removeprefix(prefix)
    return text


def nvml_index(cuda_uuid: object, nvml_uuids: Sequence[object]) -> int | None:
    """Which of NVML's GPUs is the CUDA device with ``cuda_uuid`` (None: none is)."""
    want = bare_uuid(cuda_uuid)
    return next((i for i, u in enumerate(nvml_uuids) if bare_uuid(u) == want), None)


class Gpu:
    """One GPU as NVML reads it; ``read`` gives None for each counter it cannot read."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml = nvml
        self.handle = handle

    @classmethod
    def of(cls, device: torch.device, nvml: Any = None) -> Gpu | None:
        """The NVML handle of CUDA ``device``; None off CUDA or without NVML."""
        if device.type != "cuda":
            return None
        try:
            if nvml is None:
                import pynvml

                nvml = pynvml
            nvml.nvmlInit()
            uuid = torch.cuda.get_device_properties(device).uuid
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
            index = nvml_index(uuid, [nvml.nvmlDeviceGetUUID(h) for h in handles])
        except Exception:  # no driver, no library, a GPU NVML cannot name: n/a
            return None
        return None if index is None else cls(nvml, handles[index])

    def read(self) -> dict[str, Any]:
        nvml, h = self.nvml, self.handle
        memory = _try(lambda: nvml.nvmlDeviceGetMemoryInfo(h))
        power = _try(lambda: nvml.nvmlDeviceGetPowerUsage(h))
        return {
            "gpu_util": _try(lambda: float(nvml.nvmlDeviceGetUtilizationRates(h).gpu)),
            "gpu_mem_used": None if memory is None else int(memory.used),
            "gpu_mem_total": None if memory is None else int(memory.total),
            "gpu_temp_c": _try(lambda: float(nvml.nvmlDeviceGetTemperature(h, 0))),
            "gpu_power_w": None if power is None else power / 1000.0,
        }


def _try(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception:  # NVMLError_NotSupported and its kin: n/a
        return None


NO_GPU = dict.fromkeys(("gpu_util", "gpu_mem_used", "gpu_mem_total", "gpu_temp_c", "gpu_power_w"))


class Sampler:
    """The sampling thread of one process (see the module docstring)."""

    def __init__(
        self,
        world: World,
        where: Where,
        publish: Callable[[SystemSampled], None] | None,
        *,
        board: Board | None = None,
        interval: float = INTERVAL_S,
        gpu: Gpu | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.where = where
        self.publish = publish
        self.board = board
        self.interval = interval
        self.gpu = gpu if gpu is not None else Gpu.of(world.device)
        self.wall = wall
        self.process = psutil.Process()
        with contextlib.suppress(psutil.Error):
            self.process.cpu_percent(None)  # the first reading only starts the count
        self._last: tuple[float, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cnn-tui sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _loop(self) -> None:
        """Sample at whole multiples of the interval, so that the ranks' rows are taken at
        the same moment; rank 0 reads them all a little later."""
        while True:
            now = self.wall()
            if self._stop.wait(math.floor(now / self.interval + 1) * self.interval - now):
                return
            try:
                self.sample()
                if self.board is not None and self.world.rank == 0 and self.world.size > 1:
                    if self._stop.wait(COLLECT_AFTER_S):
                        return
                    self.share()
            except Exception:  # a sample is worth nothing next to the run: skip it
                continue

    def sample(self) -> None:
        """Take this process's row: publish it (one process) or post it (a rank)."""
        row = self.own()
        world = self.world
        if world.size == 1 or self.board is None:
            if self.publish is not None:
                self.publish(SystemSampled((row,)))
            return
        self.board.set(f"sys/{world.rank}", json.dumps({**asdict(row), "wall": self.wall()}))

    def share(self) -> None:
        """Rank 0: publish every rank's latest row."""
        if self.publish is not None:
            self.publish(SystemSampled(self.collect()))

    def own(self) -> RankSample:
        world, now = self.world, self.wall()
        beat = world.beat
        rate = None
        if self._last is not None and now > self._last[0]:
            rate = (beat.examples - self._last[1]) / (now - self._last[0])
        self._last = (now, beat.examples)
        try:
            with self.process.oneshot():
                cpu: float | None = float(self.process.cpu_percent(None))
                rss: int | None = int(self.process.memory_info().rss)
        except psutil.Error:
            cpu = rss = None
        epoch, batch_index = self.where()
        return RankSample(
            rank=world.rank,
            device=str(world.device),
            epoch=epoch,
            batch_index=batch_index,
            examples=beat.examples,
            samples_per_s=rate,
            forward_ms=beat.forward_ms,
            held=beat.held,
            cpu_percent=cpu,
            rss_bytes=rss,
            age_s=0.0,
            **(self.gpu.read() if self.gpu is not None else NO_GPU),
        )

    def collect(self) -> tuple[RankSample, ...]:
        """Every rank's latest row from the store, with its age."""
        assert self.board is not None
        rows = []
        now = self.wall()
        for rank in range(self.world.size):
            key = f"sys/{rank}"
            if not self.board.check([key]):
                continue
            data = json.loads(self.board.get(key))
            wall = float(data.pop("wall"))
            rows.append(replace(RankSample(**data), age_s=max(0.0, now - wall)))
        return tuple(rows)


def start_sampler(run: Run, publish: Callable[[SystemSampled], None] | None) -> Sampler:
    """A started sampler of ``run``'s process: rank 0 (or the only process) publishes."""
    trainer = run.trainer
    world = trainer.world
    board = getattr(world, "board", None)

    def where() -> tuple[int, int]:
        return trainer.progress.epoch, trainer.progress.batch_index

    return Sampler(world, where, publish, board=board).start()
