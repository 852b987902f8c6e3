"""Recordings as files (``cnn_tui.recording``) and as the tests use them (``tests/recordings``):
read back bit for bit, the same bytes every time they are written, answers found by request."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch

from cnn_tui import recording
from cnn_tui.engine.control import Command, ProbeImage, ProbeIndex, Stop
from cnn_tui.engine.events import Event, ProbeTaken
from cnn_tui.model import Net
from tests.recordings import RECIPES, Live, MissingAnswer, Replayed, Store, path_of


def answer_of(index: int | None, value: float) -> ProbeTaken:
    stages = {"probs": torch.full((10,), value)}
    source = "drawn" if index is None else "test"
    zeros1, zeros2 = torch.zeros(10, 1, 5, 5), torch.zeros(20, 10, 5, 5)
    return ProbeTaken(0, source, index, None, stages, zeros1, zeros2, 0, value)


def drawing(ink: int) -> ProbeImage:
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[14, :ink] = 255
    return ProbeImage(image)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_committed_recording_reads_back_and_writes_the_same_bytes(
    name: str, tmp_path: Path
) -> None:
    """What the snapshots replay is what the file holds, and remaking it changes no byte."""
    committed = path_of(name)
    again = tmp_path / committed.name
    recording.save(again, recording.load(committed))
    assert again.read_bytes() == committed.read_bytes()


def test_answers_are_found_by_what_was_asked() -> None:
    seven = drawing(7)
    saved = recording.Recording(events=[])
    saved.add_answer(ProbeIndex(3), answer_of(3, 0.5))
    saved.add_answer(seven, answer_of(None, 0.25))
    found = saved.answer(ProbeIndex(3, viewer=2))  # whoever asks
    assert isinstance(found, ProbeTaken) and found.index == 3
    transposed = ProbeImage(seven.image.t().contiguous().t())  # same pixels, other strides
    found = saved.answer(transposed)
    assert isinstance(found, ProbeTaken) and found.confidence == 0.25
    assert saved.answer(drawing(8)) is None and saved.answer(ProbeIndex(4)) is None
    assert saved.answer(Stop()) is None


def test_a_saved_recording_loads_bit_for_bit(tmp_path: Path) -> None:
    answer = answer_of(None, 1 / 3)
    saved = recording.Recording([answer_of(5, 0.1)], {"image:x": answer}, "about")
    path = tmp_path / "r.rec.gz"
    recording.save(path, saved)
    back = recording.load(path)
    assert back.description == "about" and list(back.answers) == ["image:x"]
    event = back.events[0]
    assert isinstance(event, ProbeTaken) and event.index == 5
    assert back.answers["image:x"].confidence == 1 / 3
    assert torch.equal(back.answers["image:x"].stages["probs"], answer.stages["probs"])


def test_a_file_that_is_not_a_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.rec.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"type": "recording", "format": "cnn-tui-recording/0"}\n')
    with pytest.raises(ValueError, match="is not a cnn-tui-recording/1 file"):
        recording.load(path)


def test_a_missing_answer_says_which_file_and_how_to_make_it_again() -> None:
    store = Store(update=False)
    replayed = Replayed("inside-demo", [], {}, None, store)
    assert replayed.answer(drawing(3)) is None  # a stroke in progress may go unanswered
    message = store.test_ended()
    assert message is not None and "inside-demo.rec.gz" in message
    assert "--update-recordings" in message
    with pytest.raises(MissingAnswer, match="--update-recordings"):
        replayed.probe(ProbeIndex(1))
    assert store.test_ended() is not None


def test_updating_keeps_every_digit_asked_for_and_the_last_drawing_of_each_test() -> None:
    """Strokes of a drawing in progress reach the engine as timing has it: only the last,
    the one the screen ends on, goes into the file, so its bytes do not depend on timing."""
    store = Store(update=True)

    def answer(command: Command) -> Event | None:
        if isinstance(command, ProbeIndex):
            return answer_of(command.index, 0.5)
        if isinstance(command, ProbeImage):
            return answer_of(None, float(command.image.sum()))
        return None

    replayed = Replayed("inside-demo", [], {}, Live([], answer, Net()), store)
    store.kept["inside-demo"] = {}
    for ink in (1, 2, 3):
        replayed.answer(drawing(ink))
    replayed.answer(ProbeIndex(1))
    replayed.answer(ProbeIndex(2))
    assert store.test_ended() is None
    replayed.answer(drawing(9))  # the next test's one drawing
    store.test_ended()
    keys = {recording.request_key(c) for c in (drawing(3), drawing(9), ProbeIndex(1))}
    keys.add(recording.request_key(ProbeIndex(2)))
    assert set(store.kept["inside-demo"]) == keys
