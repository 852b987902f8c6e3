"""Watching's share of a busy box: how far a monitor stretches its redraw intervals."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cnn_tui.data import LoadedData
from cnn_tui.endpoint.client import RunClient
from cnn_tui.endpoint.link import PICTURE_EVERY
from cnn_tui.endpoint.remote import RemoteSession
from cnn_tui.runview import RunView
from cnn_tui.tui.app import CnnTuiApp
from cnn_tui.tui.pacing import MOST_STRETCH, HostTimes, Pacer, next_stretch
from cnn_tui.tui.replay import ReplaySession, replay
from cnn_tui.tui.session import Sink
from cnn_tui.tui.widgets.status import StatusLine
from tests.endpoint_helpers import Viewer, served_run, wait_until
from tests.helpers import drive


def test_over_its_share_on_a_busy_box_a_monitor_stretches_in_proportion() -> None:
    assert next_stretch(share=0.04, busy=True, budget=0.02) == pytest.approx(2.0)
    assert next_stretch(share=0.05, busy=True, budget=0.02) == pytest.approx(2.5)
    assert next_stretch(share=0.025, busy=True, budget=0.02) == pytest.approx(1.25)


def test_the_stretch_stays_between_none_and_the_most() -> None:
    assert next_stretch(share=0.01, busy=True, budget=0.02) == 1.0
    assert next_stretch(share=0.50, busy=True, budget=0.02) == MOST_STRETCH


def test_with_a_core_to_spare_nothing_is_stretched() -> None:
    assert next_stretch(share=0.50, busy=False, budget=0.02) == 1.0


class Box:
    """What a pacer reads, moved on by hand: this process's CPU, the clock, the box's CPU."""

    def __init__(self) -> None:
        self.cpu, self.wall, self.busy, self.total = 0.0, 0.0, 0.0, 0.0

    def spend(self, seconds: float, share: float, box_busy: float, cores: int = 2) -> None:
        """``seconds`` pass; this process uses ``share`` of a core, the box ``box_busy`` of all."""
        self.cpu += share * seconds
        self.wall += seconds
        self.busy += box_busy * cores * seconds
        self.total += cores * seconds

    def pacer(self) -> Pacer:
        return Pacer(
            budget=0.10,
            process_time=lambda: self.cpu,
            clock=lambda: self.wall,
            host=lambda: HostTimes(self.busy, self.total),
        )


@pytest.fixture
def box() -> Box:
    return Box()


def test_five_monitors_share_the_budget_one_alone_keeps_its_pace(box: Box) -> None:
    pacer = box.pacer()  # 10 % of a core for all the monitors together
    box.spend(2.0, share=0.04, box_busy=1.0)
    assert pacer.look(watching=1) == 1.0  # 4 % of the whole budget
    box.spend(2.0, share=0.04, box_busy=1.0)
    assert pacer.look(watching=5) == pytest.approx(2.0)  # twice its 2 %
    # A look that drew nothing (the charts redraw every few seconds) moves it only part of
    # the way: the share is over the last few looks, (0.08 + 0.08 + 0) core-seconds in 6 s.
    box.spend(2.0, share=0.0, box_busy=1.0)
    assert pacer.look(watching=5) == pytest.approx((0.16 / 6) / 0.02)


def test_the_share_is_over_the_last_four_looks(box: Box) -> None:
    pacer = box.pacer()
    for _ in range(4):
        box.spend(2.0, share=0.02, box_busy=1.0)
        assert pacer.look(watching=5) == 1.0  # its 2 %, no more
    box.spend(2.0, share=0.06, box_busy=1.0)  # a redraw of everything
    assert pacer.look(watching=5) == pytest.approx((0.02 * 3 + 0.06) / 4 / 0.02)  # 1.5, not 3


def test_a_monitor_that_costs_twice_its_share_settles_at_twice_the_pace(box: Box) -> None:
    pacer = box.pacer()  # drawing is all it does: its cost is 0.04 / stretch
    stretches = []
    for _ in range(12):
        box.spend(2.0, share=0.04 / pacer.stretch, box_busy=1.0)
        stretches.append(pacer.look(watching=5))
    assert stretches == [pytest.approx(2.0)] * 12  # at once, and it stays: no swing


def test_the_stretch_ends_when_the_box_has_a_core_to_spare(box: Box) -> None:
    pacer = box.pacer()
    box.spend(2.0, share=0.06, box_busy=0.97)
    assert pacer.look(watching=5) == pytest.approx(3.0)
    box.spend(2.0, share=0.06, box_busy=0.5)  # paused: training gave its cores back
    assert pacer.look(watching=5) == 1.0


def test_no_time_between_two_looks_changes_nothing(box: Box) -> None:
    pacer = box.pacer()
    box.spend(2.0, share=0.04, box_busy=1.0)
    assert pacer.look(watching=4) == pytest.approx(1.6)
    assert pacer.look(watching=4) == pytest.approx(1.6)


def test_a_count_of_none_is_this_monitor_alone(box: Box) -> None:
    pacer = box.pacer()
    box.spend(2.0, share=0.2, box_busy=1.0)
    assert pacer.look(watching=0) == pytest.approx(2.0)  # 20 % of the 10 % one alone has


def test_a_monitor_stretches_its_redraws_and_says_so_once(box: Box) -> None:
    paced: list[float] = []  # what the run was asked: send as much less often

    def open_session(sink: Sink) -> ReplaySession:
        session = replay([])(sink)
        session.pace = paced.append  # type: ignore[method-assign]
        return session

    app = CnnTuiApp(open_session, pacer=box.pacer())

    async def body(pilot: Pilot[object]) -> None:
        assert app.stretch == 1.0
        for _ in range(2):  # a monitor alone at half a core of a busy box
            box.spend(2.0, share=0.5, box_busy=1.0)
            app.look_at_cpu()
        await pilot.pause()
        assert app.stretch == MOST_STRETCH
        assert paced == [MOST_STRETCH]  # once: the second look kept the pace
        told = [n.message for n in app._notifications if "busy" in n.message]
        assert told == [
            "the box's cores are busy training: this monitor has 10% of a core, "
            "so charts and pictures redraw less often"
        ]

    drive(app, body)


class CountingStatus(StatusLine):
    def __init__(self) -> None:
        super().__init__()
        self.shown = 0

    def show(self, view: RunView) -> None:
        super().show(view)
        self.shown += 1


def test_a_widget_waits_its_interval_times_the_stretch() -> None:
    widget, view = CountingStatus(), RunView()
    widget.sync(view, 10.0, stretch=3.0)
    view.status_version += 1
    widget.sync(view, 10.0 + widget.EVERY, stretch=3.0)
    assert widget.shown == 1
    widget.sync(view, 10.0 + 3 * widget.EVERY, stretch=3.0)
    assert widget.shown == 2
    view.status_version += 1
    widget.sync(view, None, stretch=3.0)  # at once (a state change) is never stretched
    assert widget.shown == 3


def test_every_viewer_is_told_how_many_watch(tiny_data: LoadedData, run_dir: Path) -> None:
    def counts(viewer: Viewer) -> list[int]:
        return [m["viewers"] for m in list(viewer.messages) if m.get("type") == "watching"]

    with served_run(tiny_data, run_dir, paused=True):
        first = Viewer(RunClient(run_dir))
        wait_until(lambda: counts(first) == [1])
        second = Viewer(RunClient(run_dir))
        wait_until(lambda: counts(second) == [2] and counts(first) == [1, 2])
        second.client.close()
        wait_until(lambda: counts(first) == [1, 2, 1])
        first.client.close()


def test_a_session_knows_how_many_watch(tiny_data: LoadedData, run_dir: Path) -> None:
    with served_run(tiny_data, run_dir, paused=True):
        other = Viewer(RunClient(run_dir))
        other.wait_for(lambda m: m.get("type") == "watching")
        session = RemoteSession(run_dir, read_only=True)
        assert session.watching == 2  # the one there, and this one (the hello's count)
        threading.Thread(target=session.run, daemon=True).start()
        other.client.close()
        wait_until(lambda: session.watching == 1)
        session.leave()


def test_a_session_asks_the_run_for_its_pace(tiny_data: LoadedData, run_dir: Path) -> None:
    with served_run(tiny_data, run_dir, paused=True) as served:
        session = RemoteSession(run_dir, read_only=True)
        threading.Thread(target=session.run, daemon=True).start()
        wait_until(lambda: len(served.endpoint.viewers) == 1)
        (link,) = served.endpoint.viewers.values()
        session.pace(2.5)
        wait_until(lambda: link.picture_every == pytest.approx(2.5 * PICTURE_EVERY))
        session.leave()
