"""The glyph set everything on screen is drawn with: Unicode and colour, or plain ASCII.

A renderer takes one :class:`Glyphs` instead of an ``ascii`` flag and asks it for each
character that differs between the two sets (``glyphs.arrow``, not ``"->" if ascii else
"→"``). :data:`ASCII` draws heatmaps with ASCII ramps, uses no colour, and every character
it names is ASCII, so a ``NO_COLOR`` terminal (see :func:`default_glyphs`) gets ASCII text
from this project; text that comes from elsewhere (a log line, a class name) goes through
:meth:`Glyphs.text`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import OverflowMethod
from rich.style import StyleType

from cnn_tui.render.ascii_art import ascii_default


@dataclass(frozen=True, slots=True)
class Glyphs:
    ascii: bool  # ASCII ramps instead of coloured half blocks, and no colour at all
    ellipsis: str  # "waiting for the first probe…"
    cut: str  # the end of a title cut short in a tile (nothing in ASCII: three dots eat it)
    sep: str  # between facts on a line: "epoch 1/3 · 640 seen"
    tight_sep: str  # between two facts in a narrow caption: "#1234 · 87%"
    dash: str  # in a heading: "true 4 predicted as 7 — 33 digits"
    missing: str  # a value not known yet: "–/s"
    arrow: str  # "conv1 → ReLU"
    connector: str  # three cells between two blocks of a diagram
    times: str  # "5×5"
    plus_minus: str
    down: str  # "true ↓"
    left_right: str  # "←/→"
    up_down: str  # "↑↓"
    right_mark: str  # after a right prediction (none in ASCII: only mistakes are marked)
    wrong_mark: str
    no_count: str  # an empty cell of the confusion matrix
    line: str  # a chart's line, in its title
    point: str  # a chart's test points: the title's and plotext's marker
    spark: str  # a sparkline's levels, lowest first

    def style(self, style: StyleType) -> StyleType:
        """``style``, or no style at all in ASCII."""
        return "" if self.ascii else style

    @property
    def overflow(self) -> OverflowMethod:
        """How rich cuts a line too long for its space: with an ellipsis where it can."""
        return "crop" if self.ascii else "ellipsis"

    def text(self, text: str) -> str:
        """Text from elsewhere (a log line, a class name) in this set's characters."""
        if not self.ascii or text.isascii():
            return text
        return text.translate(_TO_ASCII).encode("ascii", "replace").decode("ascii")

    def keys(self, keys: str) -> str:
        """Keys as the footer and the help show them (``←→``) in this set."""
        return self.text(keys.translate(_KEYS_TO_ASCII)) if self.ascii else keys


# What Glyphs.text makes of the characters other code writes (the engine's "lr 0.01→0.05")
_TO_ASCII = str.maketrans(
    {"→": "->", "←": "<-", "↓": "v", "↑": "^", "·": "-", "…": "...", "×": "x", "±": "+/-"}
    | {"–": "-", "—": "-", "─": "-", "✓": "", "✗": "x", "●": "x"}
)

_KEYS_TO_ASCII = str.maketrans({"←": "<", "→": ">", "↑": "^", "↓": "v"})

UNICODE = Glyphs(
    ascii=False,
    ellipsis="…",
    cut="…",
    sep=" · ",
    tight_sep=" · ",
    dash="—",
    missing="–",
    arrow="→",
    connector=" → ",
    times="×",
    plus_minus="±",
    down="↓",
    left_right="←/→",
    up_down="↑↓",
    right_mark="✓",
    wrong_mark="✗",
    no_count="·",
    line="─",
    point="●",
    spark="▁▂▃▄▅▆▇█",
)
ASCII = Glyphs(
    ascii=True,
    ellipsis="...",
    cut="",
    sep=" - ",
    tight_sep=" ",
    dash="-",
    missing="-",
    arrow="->",
    connector=" ->",
    times="x",
    plus_minus="+/-",
    down="v",
    left_right="<-/->",
    up_down="up/down",
    right_mark="",
    wrong_mark="x",
    no_count=".",
    line="-",
    point="x",
    spark="_.-=+*#@",
)


def default_glyphs() -> Glyphs:
    """ASCII when ``NO_COLOR`` is set, else Unicode and colour."""
    return ASCII if ascii_default() else UNICODE
