"""The phrases several views say, written once: which test pass, how long, which digit.

Plain strings, no Textual and no rich, so the headless printer can use them too. Separators
between phrases are the caller's (a glyph set's, on screen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnn_tui.engine.events import ProbeTaken


def test_when(epoch: int) -> str:
    """``after epoch 2``; epoch 0 is the test pass before training."""
    return "before training" if epoch == 0 else f"after epoch {epoch}"


def duration(seconds: float) -> str:
    """``1:05`` or ``2:03:07``, rounded to the second."""
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class ProbeCaption:
    """What is said about a probed digit, in parts a view joins and drops to fit."""

    who: str  # "test #3, Ground Truth: 7" or "your digit"
    answer: str  # "pred 7 (98%)", or "prediction 7 (98%)" where there is room
    when: str  # "after 6,400 examples"


def probe_caption(probe: ProbeTaken, classes: Sequence[str], *, short: bool) -> ProbeCaption:
    def name(k: int) -> str:
        return classes[k] if k < len(classes) else str(k)

    who = "your digit" if probe.source == "drawn" else f"test #{probe.index}"
    if probe.label is not None:
        who += f", Ground Truth: {name(probe.label)}"
    answer = f"{'pred' if short else 'prediction'} {name(probe.prediction)}"
    return ProbeCaption(
        who, f"{answer} ({probe.confidence:.0%})", f"after {probe.examples_seen:,} examples"
    )
