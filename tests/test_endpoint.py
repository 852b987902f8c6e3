"""The run endpoint in one process: catch-up, live events, commands, routing, limits."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
import torch

from cnn_tui.data import LoadedData
from cnn_tui.endpoint import address
from cnn_tui.endpoint.catchup import ViewAssembler
from cnn_tui.endpoint.client import EndpointError, RunClient
from cnn_tui.endpoint.protocol import parse_event
from cnn_tui.endpoint.server import Endpoint
from cnn_tui.engine.control import Control, Pause, ProbeImage, ProbeIndex, Resume, SetHParams, Step
from cnn_tui.engine.events import BatchLogged, RunState
from tests.endpoint_helpers import Viewer, served_run, state_is, wait_until


def restored_view(viewer: Viewer) -> ViewAssembler:
    viewer.wait_for(lambda m: m.get("type") == "ready")
    assembler = ViewAssembler()
    for message in viewer.messages:
        if message.get("type") == "view":
            assembler.add(message)
    return assembler


def test_a_viewer_gets_the_run_so_far_then_live_events(
    tiny_data: LoadedData, run_dir: Path
) -> None:
    with served_run(tiny_data, run_dir, paused=True) as s:
        s.control.until_blocked()  # paused in the first test pass
        s.control.step(4)
        s.control.until_blocked()
        viewer = Viewer(RunClient(run_dir))
        assert viewer.client.hello["run_id"] == "test-run"
        assert viewer.client.hello["state"] == "paused"
        view = restored_view(viewer).build()
        logged = [e.examples_seen for e in s.recorder.of(BatchLogged)]
        assert view.curves.train_x == logged and len(logged) == 4
        assert view.state is RunState.PAUSED and view.started is not None
        assert view.started.test_images is None  # fetched on demand, not sent to everyone
        viewer.client.send(Step(1))
        moved = viewer.wait_for(lambda m: m.get("name") == "BatchLogged")
        assert parse_event(moved) == s.recorder.of(BatchLogged)[-1]
        viewer.client.close()


def test_a_pause_from_one_viewer_shows_in_the_other(tiny_data: LoadedData, run_dir: Path) -> None:
    with served_run(tiny_data, run_dir) as s:
        first, second = Viewer(RunClient(run_dir)), Viewer(RunClient(run_dir))
        for v in (first, second):
            v.wait_for(lambda m: m.get("type") == "ready")
        first.client.send(Pause())
        s.control.until_blocked()
        for v in (first, second):
            v.wait_for(state_is("paused"))
        second.client.send(SetHParams({"lr": 0.05}))
        second.client.send(Resume())
        for v in (first, second):
            changed = v.wait_for(lambda m: m.get("name") == "HParamsChanged")
            assert changed["data"]["new"]["lr"] == 0.05
        assert s.run.trainer.optimizer.param_groups[0]["lr"] == 0.05


def test_a_probe_is_answered_to_the_viewer_that_asked(tiny_data: LoadedData, run_dir: Path) -> None:
    with served_run(tiny_data, run_dir, paused=True, visual_every=1) as s:
        s.control.until_blocked()
        asker, other = Viewer(RunClient(run_dir)), Viewer(RunClient(run_dir))
        for v in (asker, other):
            v.wait_for(lambda m: m.get("type") == "ready")
        asker.client.send(ProbeIndex(7))
        answer = asker.wait_for(lambda m: m.get("name") == "ProbeTaken")
        assert answer["data"]["index"] == 7
        drawn = torch.zeros(28, 28, dtype=torch.uint8)
        drawn[4:24, 13:15] = 255
        other.client.send(ProbeImage(drawn))
        other.wait_for(lambda m: m.get("name") == "ProbeTaken" and m["data"]["source"] == "drawn")
        s.control.step(2)  # the periodic probe follows each viewer's own digit
        s.control.until_blocked()
        asker.wait_for(lambda m: m.get("name") == "ProbeTaken" and m["data"]["examples_seen"] > 0)
        other.wait_for(lambda m: m.get("name") == "ProbeTaken" and m["data"]["examples_seen"] > 0)
        probes = {
            name: [(m["data"]["source"], m["data"]["index"]) for m in v.events("ProbeTaken")]
            for name, v in (("asker", asker), ("other", other))
        }
        assert ("test", 0) not in probes["asker"] and ("test", 7) in probes["asker"]
        assert ("drawn", None) not in probes["asker"]
        assert ("test", 7) not in probes["other"] and ("test", 0) in probes["other"]


def test_bad_messages_get_replies_and_never_reach_training(
    tiny_data: LoadedData, run_dir: Path
) -> None:
    with served_run(tiny_data, run_dir) as s:
        viewer = Viewer(RunClient(run_dir))
        viewer.wait_for(lambda m: m.get("type") == "ready")
        sock = viewer.client._sock
        garbage = [
            b"\x00\xff\xfe random bytes\n",
            b"x" * (10 << 20) + b"\n",
            b"{not json\n",
            b'{"type": "command", "id": 1, "name": "Explode"}\n',
            b'{"type": "command", "id": 2, "name": "SetHParams", "args": {"changes": "fast"}}\n',
            b'{"type": "command", "name": "SetHParams", "args": {"changes": {"lr": NaN}}}\n',
            b'{"type": "command", "name": "SetHParams", "args": {"changes": {"lr": -1}}}\n',
            b'{"type": "command", "id": 5, "name": "Step", "args": {"batches": 0}}\n',
            b'{"type": "teleport"}\n',
        ]
        bad_paces = [
            b'{"type": "pace", "stretch": "slow"}\n',
            b'{"type": "pace", "stretch": 100}\n',
        ]
        for line in garbage:
            sock.sendall(line)
        sock.sendall(b'{"type": "pace", "stretch": 1}\n')  # valid: ten bad in a row hang up
        for line in bad_paces:
            sock.sendall(line)
        viewer.client.send(SetHParams({"lr": 0.02}))
        ok = viewer.wait_for(lambda m: m.get("type") == "reply" and m.get("ok") is True)
        errors = [m for m in viewer.messages if m.get("type") == "reply" and not m["ok"]]
        assert len(errors) == len(garbage) + len(bad_paces)
        assert any("over the size limit" in m["error"] for m in errors)
        assert any("unknown command 'Explode'" in m["error"] for m in errors)
        assert any("lr must be greater than 0" in m["error"] for m in errors)
        assert any("stretch must be from 1 to 10 (got 100)" in m["error"] for m in errors)
        assert ok["id"] is not None
        before = s.batches
        wait_until(lambda: s.batches > before + 2)  # training goes on
        wait_until(lambda: s.run.trainer.hparams.lr == 0.02)
        assert not viewer.ended.is_set()


def test_a_viewer_that_keeps_sending_garbage_is_disconnected(
    tiny_data: LoadedData, run_dir: Path
) -> None:
    with served_run(tiny_data, run_dir, paused=True) as s:
        s.control.until_blocked()
        viewer = Viewer(RunClient(run_dir))
        for _ in range(12):
            viewer.client._sock.sendall(b"{]\n")
        bye = viewer.wait_for(lambda m: m.get("type") == "bye")
        assert "bad messages in a row" in bye["reason"]
        viewer.ended.wait(10)
        assert s.endpoint.viewer_count == 0


def test_a_flood_of_commands_is_capped(tiny_data: LoadedData, run_dir: Path) -> None:
    with served_run(tiny_data, run_dir) as s:
        viewer = Viewer(RunClient(run_dir))
        before = s.batches
        lrs = {
            viewer.client.send(SetHParams({"lr": 0.01 + k * 1e-6})): 0.01 + k * 1e-6
            for k in range(3000)
        }
        viewer.wait_for(lambda m: m.get("type") == "reply" and m.get("id") == max(lrs))
        replies = [m for m in viewer.messages if m.get("type") == "reply"]
        refused = [m for m in replies if not m["ok"]]
        assert refused and all("too many commands" in m["error"] for m in refused)
        accepted = [m["id"] for m in replies if m["ok"]]
        assert len(accepted) < 400  # a burst, then about 50 a second
        wait_until(lambda: s.run.trainer.hparams.lr == lrs[max(accepted)])
        wait_until(lambda: s.batches > before + 2)  # training went on through it
        assert not viewer.ended.is_set()


def test_a_viewer_that_does_not_read_loses_pictures_never_metrics(
    tiny_data: LoadedData, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cnn_tui.endpoint import link

    monkeypatch.setattr(link, "PICTURE_BACKLOG", 64 << 10)
    with served_run(tiny_data, run_dir, visual_every=1) as s:
        client = RunClient(run_dir)  # connected, and not reading for now
        wait_until(lambda: any(v.dropped for v in s.endpoint.viewers.values()), 60)
        s.control.pause()
        s.control.until_blocked()
        viewer = Viewer(client)  # now it reads everything that was kept for it
        viewer.wait_for(state_is("paused"))
        caught_up = restored_view(viewer).build().curves.train_x
        live = [m["data"]["examples_seen"] for m in viewer.events("BatchLogged")]
        assert caught_up + live == [e.examples_seen for e in s.recorder.of(BatchLogged)]
        pictures = len(viewer.events("SamplesPredicted"))
        assert pictures < len(
            [e for e in s.recorder.events if type(e).__name__ == "SamplesPredicted"]
        )


def test_a_viewer_too_far_behind_is_told_and_disconnected(
    tiny_data: LoadedData, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cnn_tui.endpoint import link

    monkeypatch.setattr(link, "MAX_BACKLOG", 256 << 10)
    with served_run(tiny_data, run_dir, visual_every=1) as s:
        client = RunClient(run_dir)  # never reads until it is cut off
        wait_until(lambda: s.endpoint.viewer_count == 1)
        wait_until(lambda: s.endpoint.viewer_count == 0, 60)
        viewer = Viewer(client)
        bye = viewer.wait_for(lambda m: m.get("type") == "bye")
        assert "fell too far behind" in bye["reason"]


def test_the_socket_is_the_owners_alone(tiny_data: LoadedData, run_dir: Path) -> None:
    with served_run(tiny_data, run_dir, paused=True) as s:
        mode = (run_dir / "control.sock").stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
        s.control.until_blocked()


def test_the_peer_check_refuses_another_uid() -> None:
    address.check_peer(os.getuid())
    with pytest.raises(address.AddressError, match="refused"):
        address.check_peer(os.getuid() + 1, who="viewer")
    left, right = socket.socketpair(socket.AF_UNIX)
    assert address.peer_uid(left) == os.getuid()
    left.close()
    right.close()


def test_each_end_refuses_a_peer_of_another_uid(tiny_data: LoadedData, run_dir: Path) -> None:
    stranger = os.getuid() + 1
    with served_run(tiny_data, run_dir, paused=True, owner_uid=stranger) as s:
        s.control.until_blocked()
        with pytest.raises(EndpointError, match="did not answer properly"):
            RunClient(run_dir)  # the run expects another user: it hangs up at once
        assert s.endpoint.viewer_count == 0
    with served_run(tiny_data, run_dir, paused=True) as s:
        s.control.until_blocked()
        with pytest.raises(address.AddressError, match=f"the run runs as uid {os.getuid()}"):
            RunClient(run_dir, server_uid=stranger)


def test_a_deep_run_directory_gets_its_socket_elsewhere(
    tiny_data: LoadedData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "rt"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "run"
    with served_run(tiny_data, deep, paused=True) as s:
        link = deep / "control.sock"
        assert link.is_symlink() and Path(os.readlink(link)).parent == runtime / "cnn-tui"
        s.control.until_blocked()
        viewer = Viewer(RunClient(deep))
        viewer.wait_for(lambda m: m.get("type") == "ready")
        viewer.client.close()
    assert not link.exists() and not list((runtime / "cnn-tui").iterdir())


def test_a_run_leaves_alone_a_socket_that_is_not_its_own(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    old = Endpoint(run_dir, run_id="old", control=Control())
    old.start()
    # Its directory deleted and made again, a new run binds the same path while it lives.
    new = Endpoint(run_dir, run_id="new", control=Control())
    new.start()
    try:
        old.close()
        client = RunClient(run_dir)
        assert client.hello["run_id"] == "new"
        client.close()
    finally:
        new.close()
    assert not (run_dir / "control.sock").exists()
