"""Progress through the epoch and the whole run, and the current hyperparameters."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from cnn_tui.config import HyperParams
from cnn_tui.render import bar_text
from cnn_tui.tui.view import RunView
from cnn_tui.tui.widgets.base import ViewLine, ViewSync


def progress_text(view: RunView, width: int, *, ascii: bool) -> Text:
    bar = max(4, (width - 24) // 2)
    text = Text()
    for label, fraction in (("epoch", view.epoch_fraction), ("run", view.run_fraction)):
        text.append(f"{label} ")
        text.append(bar_text(fraction, bar, ascii=ascii), style="" if ascii else "cyan")
        text.append(f" {fraction:4.0%}  ")
    return text


def hparams_text(hp: HyperParams) -> Text:
    return Text(
        f"lr {hp.lr:g} · momentum {hp.momentum:g} · batch {hp.batch_size} · "
        f"log every {hp.log_interval} · epochs {hp.epochs}",
        no_wrap=True,
        overflow="ellipsis",
    )


class RunProgress(ViewLine):
    """``epoch ████░░ 45%  run ██░░░ 15%``, as wide as it is given."""

    def line(self, view: RunView, width: int) -> Text:
        return progress_text(view, width, ascii=self.ascii)


class HParamsLine(ViewSync, Widget):
    """The hyperparameters the engine is using now (as it reported them, not as asked)."""

    DEFAULT_CSS = "HParamsLine { height: 1; }"
    REDRAW_INTERVAL = 0.0
    RELAYOUT = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.init_sync()
        self._hparams: HyperParams | None = None

    def key(self, view: RunView) -> object:
        return view.hparams

    def take(self, view: RunView) -> None:
        self._hparams = view.hparams

    def render(self) -> Text:
        return hparams_text(self._hparams or HyperParams())
