"""The hyperparameters the engine is using now (as it reported them, not as asked)."""

from __future__ import annotations

from rich.text import Text

from cnn_tui.config import HyperParams
from cnn_tui.render import UNICODE, Glyphs
from cnn_tui.runview import Part, RunView
from cnn_tui.tui.widgets.base import ViewWidget


def hparams_text(hp: HyperParams, *, glyphs: Glyphs = UNICODE) -> Text:
    facts = (
        f"lr {hp.lr:g}",
        f"momentum {hp.momentum:g}",
        f"batch {hp.batch_size}",
        f"log every {hp.log_interval}",
        f"epochs {hp.epochs}",
    )
    return Text(glyphs.sep.join(facts), no_wrap=True, overflow=glyphs.overflow)


class HParamsLine(ViewWidget):
    DEFAULT_CSS = "HParamsLine { height: 1; }"
    DRAWS = Part.HPARAMS
    EVERY = 0.0
    RELAYOUT = True  # as wide as its text: the progress bars beside it take the rest

    def draw(self, view: RunView) -> Text:
        return hparams_text(view.hparams, glyphs=self.glyphs)
