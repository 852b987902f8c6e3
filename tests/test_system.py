"""The system panel: what each process costs, its GPU found by UUID, "n/a" never an error,
a straggler marked; and the header of a distributed run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch
from rich.text import Text
from textual.pilot import Pilot

from cnn_tui.engine.ddp.courier import Board
from cnn_tui.engine.events import RankSample, RunStarted, SystemSampled
from cnn_tui.engine.system import Gpu, Sampler, nvml_index
from cnn_tui.engine.world import World
from cnn_tui.render import ASCII
from cnn_tui.render.system import rank_line, stragglers, system_lines
from cnn_tui.runview import RunView
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.replay import Recording, replay, settle
from cnn_tui.tui.widgets.status import status_text
from cnn_tui.tui.widgets.system import SystemPanel
from tests.ddp_fakes import MemoryBoard
from tests.helpers import drive, wait_until


def row(rank: int = 0, **changes: Any) -> RankSample:
    values: dict[str, Any] = dict(
        rank=rank,
        device="cpu",
        epoch=1,
        batch_index=10,
        examples=640,
        samples_per_s=3000.0,
        forward_ms=5.0,
        held=False,
        cpu_percent=97.0,
        rss_bytes=400 * 2**20,
        gpu_util=None,
        gpu_mem_used=None,
        gpu_mem_total=None,
        gpu_temp_c=None,
        gpu_power_w=None,
        age_s=0.2,
    )
    values.update(changes)
    return RankSample(**values)


# -- NVML ---------------------------------------------------------------------------------------
def test_the_gpu_is_found_by_uuid_not_by_index() -> None:
    nvml = ["GPU-AAAA-1111", "GPU-bbbb-2222", "GPU-cccc-3333"]
    assert nvml_index("cccc-3333", nvml) == 2  # CUDA's device 0 may be NVML's device 2
    assert nvml_index("GPU-BBBB-2222", nvml) == 1
    assert nvml_index("dddd-4444", nvml) is None


class FakeNvml:
    """NVML with three GPUs; the one in use cannot tell its power."""

    class NVMLError(Exception):
        pass

    def __init__(self) -> None:
        self.uuids = ["GPU-a", "GPU-b", "GPU-c"]

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return len(self.uuids)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return self.uuids[handle]

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return SimpleNamespace(gpu=87)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return SimpleNamespace(used=3 * 2**30, total=80 * 2**30)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return 61

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        raise self.NVMLError("Not Supported")


def test_a_gpu_reads_what_it_can_and_says_none_for_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        torch.cuda, "get_device_properties", lambda device: SimpleNamespace(uuid="c")
    )
    gpu = Gpu.of(torch.device("cuda", 0), nvml=FakeNvml())
    assert gpu is not None and gpu.handle == 2  # by UUID: CUDA's 0 is NVML's 2
    assert gpu.read() == {
        "gpu_util": 87.0,
        "gpu_mem_used": 3 * 2**30,
        "gpu_mem_total": 80 * 2**30,
        "gpu_temp_c": 61.0,
        "gpu_power_w": None,
    }


def test_no_nvml_is_no_gpu_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(FakeNvml):
        def nvmlInit(self) -> None:
            raise self.NVMLError("Driver Not Loaded")

    assert Gpu.of(torch.device("cuda", 0), nvml=Broken()) is None
    assert Gpu.of(torch.device("cpu"), nvml=FakeNvml()) is None


# -- sampling -----------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_sample_of_this_process() -> None:
    world, clock, published = World(), Clock(), []
    sampler = Sampler(world, lambda: (2, 7), published.append, wall=clock)
    sampler.sample()
    world.beat.examples += 6400
    clock.now += 2.0
    sampler.sample()
    first, second = (event.ranks[0] for event in published)
    assert first.samples_per_s is None and second.samples_per_s == 3200.0
    assert (second.epoch, second.batch_index, second.examples) == (2, 7, 6400)
    assert second.cpu_percent is not None and second.rss_bytes is not None
    assert second.rss_bytes > 10 * 2**20
    assert second.gpu_util is None and second.device == "cpu"


def test_rank_0_publishes_every_ranks_row_with_its_age() -> None:
    board: Board = MemoryBoard()
    clock, published = Clock(), []
    worlds = [World(), World()]
    for rank, world in enumerate(worlds):
        world.rank, world.size = rank, 2
    zero = Sampler(worlds[0], lambda: (1, 3), published.append, board=board, wall=clock)
    one = Sampler(worlds[1], lambda: (1, 3), None, board=board, wall=clock)
    worlds[1].beat.held = True
    one.sample()
    clock.now += 0.5
    zero.sample()
    zero.share()
    (event,) = published
    assert [r.rank for r in event.ranks] == [0, 1]
    assert event.ranks[1].held and not event.ranks[0].held
    assert event.ranks[1].age_s == 0.5 and event.ranks[0].age_s == 0.0


# -- drawing ------------------------------------------------------------------------------------
def test_a_late_or_slow_rank_is_marked() -> None:
    rows = (row(0), row(1, forward_ms=8.0), row(2, age_s=7.0))
    assert stragglers(rows) == {1: "slow 1.6x", 2: "late 7s"}
    assert stragglers((row(0), row(1, forward_ms=6.0))) == {}  # within noise
    assert stragglers((row(0),)) == {}


def test_missing_values_are_n_a_on_a_gpu_row() -> None:
    gpu = row(0, device="cuda:0", gpu_util=91.0, gpu_mem_used=2**31, gpu_mem_total=80 * 2**30)
    line = rank_line(gpu, 200, ranks=2).plain
    assert "gpu 91%" in line and "mem 2.0/80 GB" in line and line.count("n/a") == 2
    assert "gpu" not in rank_line(row(0), 200, ranks=1).plain  # a CPU process has no GPU


def test_lines_fit_their_width_and_height_and_are_ascii_in_ascii() -> None:
    rows = tuple(row(r, forward_ms=5.0 + (r == 5) * 5) for r in range(8))
    lines = system_lines(SystemSampled(rows), 60, 3, glyphs=ASCII)
    assert len(lines) == 3
    assert all(line.cell_len <= 60 and line.plain.isascii() for line in lines)
    assert lines[0].plain.startswith("rank 5") and "straggler: slow 2.0x" in lines[0].plain
    assert lines[-1].plain.startswith("... 6 more ranks")


def test_the_header_says_how_many_processes(inside_demo: Recording) -> None:
    view = RunView()
    started = next(e for e in inside_demo.events if isinstance(e, RunStarted))
    view.apply(started)
    assert "2x" not in status_text(view, 200, glyphs=ASCII).plain
    from dataclasses import replace

    view.apply(replace(started, world_size=2, backend="gloo"))
    assert "2xcpu" in status_text(view, 200, glyphs=ASCII).plain


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_the_panel_shows_once_the_run_sends_samples(
    inside_demo: Recording, size: tuple[int, int]
) -> None:
    sample = SystemSampled((row(0), row(1, held=True)))
    app = CnnTuiApp(replay([*inside_demo.events, sample]), glyphs=ASCII)

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, inside_demo.events)
        await wait_until(pilot, lambda: app.view.system is not None)
        app.redraw(force=True)
        await pilot.pause()
        panel = app.screen.query_one(SystemPanel)
        assert panel.display and panel.region.height == 2
        lines = [s.text for s in panel.render_lines(panel.region.reset_offset)]
        assert lines[0].startswith("rank 0 e1 b10") and "held" in lines[1]
        assert all(line.isascii() for line in lines)

    drive(app, body, size)


def test_no_samples_no_panel(inside_demo: Recording) -> None:
    app = CnnTuiApp(replay(inside_demo.events), glyphs=ASCII)

    async def body(pilot: Pilot[object]) -> None:
        await settle(pilot, inside_demo.events)
        assert not app.screen.query_one(SystemPanel).display

    drive(app, body)


def test_draw_without_samples_is_empty() -> None:
    assert isinstance(SystemPanel().draw(RunView()), Text)
