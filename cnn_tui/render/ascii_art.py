"""Pure-ASCII drawing of normalized images, for ``NO_COLOR`` and plain terminals.

Sequential data uses the ramp ``" .:-=+*#%@"`` (the minimum is a space, the maximum ``@``).
Signed data cannot rely on colour to show its sign, so it uses two disjoint ramps of
increasing weight, zero being a space in both::

    magnitude   0  1  2  3  4  5
    positive       .  +  *  #  @
    negative       ,  -  =  o  O

so ``+``/``-`` sit at the same strength and no character means both signs.

Aspect: a terminal cell is about twice as tall as it is wide, so each character stands for
one pixel column and **two pixel rows, averaged**. An ASCII heatmap therefore has exactly the
footprint of the colour (half-block) one — toggling modes does not reflow the layout — and
digits keep their proportions instead of looking twice as tall. Averaging (rather than
dropping every other row) keeps thin horizontal strokes visible at half strength.
Everything is computed with numpy; Python only joins finished rows.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt

from cnn_tui.render.scaling import FloatArray

ASCII_RAMP = " .:-=+*#%@"
POSITIVE_RAMP = " .+*#@"
NEGATIVE_RAMP = " ,-=oO"

_RAMP = np.frombuffer(ASCII_RAMP.encode("ascii"), dtype=np.uint8)
_POSITIVE = np.frombuffer(POSITIVE_RAMP.encode("ascii"), dtype=np.uint8)
_NEGATIVE = np.frombuffer(NEGATIVE_RAMP.encode("ascii"), dtype=np.uint8)


def ascii_default() -> bool:
    """True when the ``NO_COLOR`` environment variable is set to a non-empty value."""
    return bool(os.environ.get("NO_COLOR"))


def pair_rows(unit: FloatArray) -> FloatArray:
    """Rows averaged two by two (an odd last row stands alone), shape (ceil(h/2), w)."""
    if unit.shape[0] % 2:
        unit = np.concatenate([unit, unit[-1:]], axis=0)
    pairs: FloatArray = (unit[0::2] + unit[1::2]) * np.float32(0.5)
    return pairs


def ascii_codes(unit: FloatArray, *, signed: bool) -> npt.NDArray[np.uint8]:
    """ASCII byte per value of a normalized array (``[0, 1]``, or ``[-1, 1]`` if signed)."""
    if signed:
        top = len(POSITIVE_RAMP) - 1
        index = np.minimum((np.abs(unit) * (top + 1)).astype(np.intp), top)
        codes: npt.NDArray[np.uint8] = np.where(unit < 0, _NEGATIVE[index], _POSITIVE[index])
        return codes
    top = len(ASCII_RAMP) - 1
    index = np.minimum((unit * (top + 1)).astype(np.intp), top)
    return _RAMP[index]


def ascii_lines(unit: FloatArray, *, signed: bool) -> list[str]:
    """The text rows for a normalized image: one character per column, two rows per line."""
    if unit.size == 0:
        return []
    codes = np.ascontiguousarray(ascii_codes(pair_rows(unit), signed=signed))
    width = codes.shape[1]
    text = codes.tobytes().decode("ascii")
    return [text[i : i + width] for i in range(0, len(text), width)]
