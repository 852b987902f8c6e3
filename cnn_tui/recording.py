"""A recorded run as a file: its events and the engine's answers to probes, replayed as is.

Float results of the model differ in the last digit between CPUs, so a screen drawn from a
run trained on the spot differs between machines. A recording made once and committed
does not: :func:`save` writes the events a run emitted, and the answers its engine gave
(or would give) to probe requests, as gzip'd JSON lines in the wire format;
:func:`load` reads them back bit for bit, and :meth:`Recording.answer` replies to a probe
request with the stored answer — never by running a network again, which would depend on
the CPU too.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cnn_tui.endpoint.protocol import event_message, parse_event
from cnn_tui.engine.control import Command, ProbeImage, ProbeIndex
from cnn_tui.engine.events import Event, ProbeTaken
from cnn_tui.wire.lines import read_line, write_line

FORMAT = "cnn-tui-recording/1"
MAX_RECORD_LINE = 64 << 20  # the test digits travel in RunStarted here: a few MB


def request_key(request: ProbeIndex | ProbeImage) -> str:
    """What identifies a probe request: the digit's index, or the drawn image's bytes."""
    if isinstance(request, ProbeIndex):
        return f"index:{request.index}"
    image = request.image.contiguous()
    digest = hashlib.sha256(image.numpy().tobytes()).hexdigest()[:32]
    return f"image:{image.dtype}:{tuple(image.shape)}:{digest}"


@dataclass
class Recording:
    """Events to replay, and answers to the probes a test or a screenshot will ask for."""

    events: list[Event]
    answers: dict[str, ProbeTaken] = field(default_factory=dict)
    description: str = ""

    def add_answer(self, request: ProbeIndex | ProbeImage, answer: ProbeTaken) -> None:
        self.answers[request_key(request)] = answer

    def answer(self, command: Command) -> Event | None:
        """The recorded engine's reply to ``command``, or None if it was not recorded."""
        if isinstance(command, (ProbeIndex, ProbeImage)):
            return self.answers.get(request_key(command))
        return None


def save(path: Path, recording: Recording) -> None:
    lines = [write_line({"type": "recording", "format": FORMAT, "about": recording.description})]
    lines += [write_line(event_message(event)) for event in recording.events]
    for key, answer in recording.answers.items():
        lines.append(write_line({"type": "answer", "key": key, "event": event_message(answer)}))
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same recording always gives the same bytes (a clean diff when remade)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.writelines(lines)


def load(path: Path) -> Recording:
    recording = Recording(events=[])
    with gzip.open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            message = read_line(raw, max_bytes=MAX_RECORD_LINE)
            kind = message.get("type")
            if number == 1:
                if kind != "recording" or message.get("format") != FORMAT:
                    raise ValueError(f"{path} is not a {FORMAT} file")
                recording.description = str(message.get("about", ""))
            elif kind == "event":
                recording.events.append(parse_event(message))
            elif kind == "answer":
                answer = parse_event(message["event"])
                if not isinstance(answer, ProbeTaken):
                    raise ValueError(f"{path} line {number}: an answer is a ProbeTaken")
                recording.answers[str(message["key"])] = answer
    return recording


__all__ = ["FORMAT", "Recording", "load", "request_key", "save"]
