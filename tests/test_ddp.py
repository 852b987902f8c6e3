"""Training with PyTorch's DDP on CPU (gloo, two processes): the math, the commands, a stop.

- One step on a fixed global batch, dropout off, gives the same weights on two ranks as on
  one — with uneven and empty shares too: a doubled or halved gradient would not.
- ``cnn-tui --nproc 2`` (torchrun underneath) trains; a pause sent through the run's
  endpoint holds both ranks at the same step, as each rank reports it; a step moves both by
  one; SIGTERM leaves one checkpoint, which resumes with one process and with two.
- ``--nproc`` out of bounds is one line and exit status 2, before anything starts.

The job tests start real torchrun jobs (about 20 s each on two cores) and synchronise only
on what the program reports: its output, its endpoint's events.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import torch

from cnn_tui.cli import main
from cnn_tui.data import LoadedData
from cnn_tui.engine.checkpoint import load_checkpoint
from cnn_tui.engine.control import Pause, Resume, Step
from cnn_tui.engine.ddp.launch import Launch
from cnn_tui.engine.step import train_step
from cnn_tui.model import Net
from tests.endpoint_helpers import Viewer
from tests.jobs import connect, head, job, write_idx

BATCHES = (64, 5, 1)  # even shares; 3 + 2; 1 + an empty share
LR = 0.5


# -- the math -------------------------------------------------------------------------------
def _steps(data: LoadedData, world: Any | None) -> dict[str, torch.Tensor]:
    """BATCHES as consecutive global batches, dropout off; the weights after them."""
    torch.manual_seed(3)
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.5)
    model = net if world is None else world.wrap(net)
    model.eval()  # dropout off: the ranks' masks could not match one process's
    start = 0
    for batch in BATCHES:
        low, high = (start, start + batch) if world is None else world.share(start, start + batch)
        x, y = data.train.images[low:high], data.train.labels[low:high]
        scale = None if world is None else world.loss_scale(batch)
        train_step(model, optimizer, x, y, scale=scale, batch=batch)
        start += batch
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _rank(rank: int, port: int, data: LoadedData, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2"
    )
    from cnn_tui.engine.ddp.world import join

    world = join(Launch(rank, 2, rank, 2), "cpu")
    weights = _steps(data, world)
    world.close()
    if rank == 0:
        torch.save(weights, out)


def test_two_ranks_take_the_step_one_process_takes(tiny_data: LoadedData, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "ranks.pt"
    context = multiprocessing.get_context("fork")  # torch is imported already: no start-up
    ranks = [context.Process(target=_rank, args=(r, port, tiny_data, str(out))) for r in (0, 1)]
    for process in ranks:
        process.start()
    for process in ranks:
        process.join(120)
    assert [p.exitcode for p in ranks] == [0, 0]
    two = torch.load(out)
    one = _steps(tiny_data, None)
    for name, value in one.items():
        torch.testing.assert_close(two[name], value, rtol=1e-5, atol=1e-6, msg=name)
    torch.manual_seed(3)
    untouched = Net().state_dict()
    moved = max(float((one[k] - untouched[k]).abs().max()) for k in one)
    assert moved > 1e-3  # the steps did move the weights: a wrong gradient would show


# -- the job --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data_dir(sample_data: LoadedData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """256 training digits (4 global batches of 64), 200 test digits."""
    return write_idx(tmp_path_factory.mktemp("data"), head(sample_data, 256, 200))


def _held_at(viewer: Viewer, away_from: tuple[int, int] | None = None) -> list[tuple[int, int]]:
    """Where each rank is in the first sample in which both report they wait for a command
    (and, with ``away_from``, both have moved from there: a row may be a second old)."""

    def where(message: dict[str, Any]) -> list[tuple[int, int]] | None:
        if message.get("type") != "event" or message["name"] != "SystemSampled":
            return None
        rows = message["data"]["ranks"]
        if len(rows) != 2 or not all(r["held"] for r in rows):
            return None
        places = [(r["epoch"], r["batch_index"]) for r in rows]
        return None if away_from in places else places

    found = where(viewer.wait_for(lambda m: where(m) is not None, 120))
    assert found is not None
    return found


def test_a_job_pauses_steps_and_stops_as_one_run(data_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    common = ["--data-dir", str(data_dir), "--log-interval", "1"]
    with job(
        ["--nproc", "2", "--headless", "--run-dir", str(run_dir), "--epochs", "200", *common]
    ) as j:
        viewer = Viewer(connect(run_dir, j.process))
        viewer.wait_for(lambda m: m.get("name") == "BatchLogged", 120)
        viewer.client.send(Pause())
        where = _held_at(viewer)
        assert where[0] == where[1], where  # both ranks hold at the same step
        viewer.client.send(Step())
        after = _held_at(viewer, away_from=where[0])
        assert after[0] == after[1], after  # both took the one step, and hold again
        steps = [(epoch - 1) * 4 + batch for epoch, batch in (where[0], after[0])]
        assert steps[1] == steps[0] + 1  # 4 batches an epoch
        viewer.client.send(Resume())
        mark = len(viewer.messages)
        viewer.wait_for(
            lambda m: viewer.messages.index(m) > mark and m.get("name") == "BatchLogged", 120
        )
        j.process.send_signal(signal.SIGTERM)  # torchrun passes it on to both ranks
        assert j.finish() == 128 + signal.SIGTERM, j.output
    assert j.lines[-1].startswith("Stopped (SIGTERM): "), j.output
    assert "closing signal" not in j.output  # torchrun's own chatter is kept to its errors
    saved = sorted(p.name for p in run_dir.iterdir() if p.suffix in (".pt", ".tmp"))
    assert saved == ["checkpoint.pt"]  # one checkpoint, nothing half-written
    stopped = load_checkpoint(run_dir)
    assert stopped.progress.epoch >= 1

    # The same checkpoint resumes with one process...
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "checkpoint.pt").write_bytes((run_dir / "checkpoint.pt").read_bytes())
    epochs = str(stopped.progress.epoch + 1)
    resume = ["--headless", "--epochs", epochs, "--log-interval", "1", *common[:2]]
    assert main([*resume, "--resume", str(alone)]) == 0
    assert load_checkpoint(alone).progress.epoch == int(epochs) + 1

    # ... and with two.
    with job(["--nproc", "2", *resume, "--resume", str(run_dir)]) as j:
        assert j.finish() == 0, j.output
    assert any(line.startswith("Resumed from") for line in j.lines), j.output
    assert j.lines[-1].startswith("Done: "), j.output
    assert load_checkpoint(run_dir).progress.epoch == int(epochs) + 1


# -- the command line -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "--nproc must be at least 1 (got 0)"),
        ("-1", "--nproc must be at least 1 (got -1)"),
        ("65", "--nproc must be at most 64 (got 65)"),
        (str((os.cpu_count() or 1) + 1), "--nproc must be at most "),
        ("two", "argument --nproc: invalid int value: 'two'"),
    ],
)
def test_a_bad_nproc_is_one_line_and_exit_2(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--nproc", value, "--headless", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err, err


def test_a_batch_that_does_not_split_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two cores")
    assert main(["--nproc", "2", "--batch-size", "63", "--headless", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "cnn-tui: error: --batch-size 63 does not split over 2 processes: the global batch "
        "is shared by the ranks, so use a multiple of 2"
    ]


def test_the_job_command_is_torchrun_without_our_nproc() -> None:
    from cnn_tui.torchrun import job_command, without_nproc

    argv = ["--nproc", "2", "--epochs", "3", "--npro=2", "--np", "2", "--lr", "0.1"]
    assert without_nproc(argv) == ["--epochs", "3", "--lr", "0.1"]
    command = job_command(["--nproc", "4", "--headless"], 4)
    assert command[1:] == [
        "-m",
        "cnn_tui.torchrun",
        "--standalone",  # a free port for every job: two jobs on one box never collide
        "--nproc-per-node",
        "4",
        "-m",
        "cnn_tui",
        "--headless",
    ]


def test_torchrun_ranks_are_read_from_the_environment() -> None:
    from cnn_tui.engine.ddp.launch import from_env

    job = {"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    assert from_env(job) == Launch(1, 4, 1, 2)
    assert from_env({"RANK": "0", "WORLD_SIZE": "1"}) is None  # alone: a plain run
    assert from_env({}) is None
