"""Turning a tensor or array into normalized numbers: the math under every renderable here.

Renderables in this package take CPU torch tensors, numpy arrays or nested sequences. This
module converts them once to a float32 numpy array (vectorized, no per-pixel Python), picks
the value range (min..max, or symmetric ±max|x| for signed data) and quantizes values to
palette levels. Keeping it separate from the drawing code lets the widgets and the tests
reason about ranges without rendering anything.

Levels run ``0 .. LEVELS - 1`` (255 of them, an odd count) so that signed data has an exact
middle level, ``MID_LEVEL``, for zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

ArrayLike: TypeAlias = "torch.Tensor | npt.ArrayLike"
FloatArray: TypeAlias = npt.NDArray[np.float32]
LevelArray: TypeAlias = npt.NDArray[np.uint8]

LEVELS = 255
MAX_LEVEL = LEVELS - 1
MID_LEVEL = MAX_LEVEL // 2


def to_numpy(data: ArrayLike) -> FloatArray:
    """``data`` as a float32 numpy array; tensors are detached and moved to the CPU.

    NaN becomes 0 and infinities are clamped to the largest finite float32, so one bad value
    cannot blank a whole picture.
    """
    detach: Any = getattr(data, "detach", None)
    if callable(detach):  # a torch.Tensor, checked without importing torch
        array = np.asarray(detach().float().cpu().numpy(), dtype=np.float32)
    else:
        array = np.asarray(data, dtype=np.float32)
    if not np.isfinite(array).all():
        array = np.nan_to_num(array, nan=0.0)
    return array


def as_image(data: ArrayLike) -> FloatArray:
    """``data`` as a 2-D float32 array: leading size-1 axes are dropped, 1-D becomes one row."""
    array = to_numpy(data)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {tuple(array.shape)}")
    return array


def value_range(
    array: FloatArray, *, signed: bool, vmin: float | None = None, vmax: float | None = None
) -> tuple[float, float]:
    """The (low, high) that map to the ends of the palette.

    Defaults: the data's min and max, or ``(-m, m)`` with ``m = max|x|`` when ``signed``.
    An explicit ``vmin``/``vmax`` overrides either end (for signed data, giving only one end
    mirrors it). The result may have ``low == high`` (constant data); :func:`normalize`
    handles that without dividing by zero.
    """
    if signed:
        if vmin is None and vmax is None:
            m = float(np.abs(array).max()) if array.size else 0.0
            return -m, m
        if vmin is None:
            assert vmax is not None
            return -abs(vmax), float(vmax)
        if vmax is None:
            return float(vmin), abs(vmin)
        return float(vmin), float(vmax)
    empty = array.size == 0
    low = float(vmin) if vmin is not None else (0.0 if empty else float(array.min()))
    high = float(vmax) if vmax is not None else (0.0 if empty else float(array.max()))
    return low, high


def normalize(array: FloatArray, low: float, high: float, *, signed: bool) -> FloatArray:
    """Values mapped to ``[0, 1]`` (sequential) or ``[-1, 1]`` (signed, 0 stays 0), clamped.

    A zero-width range maps everything to 0 (the palette's low end, or its neutral middle
    for signed data) instead of dividing by zero.
    """
    if signed:
        # Zero sits in the middle; each side is scaled by its own end so 0 is always neutral.
        pos = high if high > 0 else 0.0
        neg = -low if low < 0 else 0.0
        out = np.zeros_like(array, dtype=np.float32)
        if pos > 0:
            np.divide(array, pos, out=out, where=array > 0)
        if neg > 0:
            np.divide(array, neg, out=out, where=array < 0)
        return np.clip(out, -1.0, 1.0, out=out)
    span = high - low
    if span <= 0 or not np.isfinite(span):
        return np.zeros_like(array, dtype=np.float32)
    out = (array - np.float32(low)) * np.float32(1.0 / span)
    unit: FloatArray = np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)
    return unit


def quantize(unit: FloatArray, *, signed: bool) -> LevelArray:
    """Normalized values as palette levels ``0 .. MAX_LEVEL`` (signed 0 -> ``MID_LEVEL``)."""
    scaled = (unit + 1.0) * MID_LEVEL if signed else unit * MAX_LEVEL
    return np.rint(scaled).astype(np.uint8)


def shrink(data: ArrayLike, factor: int) -> FloatArray:
    """Average-pool a 2-D image by ``factor`` (a 28×28 digit at 2 becomes 14×14).

    Used to fit more digits or feature maps on a small terminal; edges that do not fill a
    whole block are dropped, as max-pooling layers do.
    """
    image = as_image(data)
    if factor <= 1:
        return image
    rows, cols = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    pooled: FloatArray = blocks.mean(axis=(1, 3), dtype=np.float32)
    return pooled


def fit_to(image: ArrayLike, pixels: int) -> FloatArray:
    """A square image resized to ``pixels`` a side: block means when the ratio is whole,
    else nearest pixels."""
    array = as_image(image)
    side = array.shape[0]
    if side == pixels:
        return array
    if side % pixels == 0:
        return shrink(array, side // pixels)
    index = np.minimum((np.arange(pixels) * side / pixels).astype(int), side - 1)
    resized: FloatArray = array[np.ix_(index, index)]
    return resized
