"""The wire codec: every event and request survives JSON, and bad data is refused in words."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import math
import types
import typing
from collections import deque
from collections.abc import Mapping
from typing import Any, Union

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_tui.config import BOUNDS, HyperParams
from cnn_tui.endpoint.protocol import EVENT_TYPES
from cnn_tui.engine.control import REQUESTS
from cnn_tui.wire.codec import DTYPES, WireError, decode, encode, fields_of
from cnn_tui.wire.lines import LineError, nesting, read_line, write_line

SMALL_SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=3)


@st.composite
def tensors(draw: st.DrawFn) -> torch.Tensor:
    dtype = DTYPES[draw(st.sampled_from(sorted(DTYPES)))]
    shape = draw(SMALL_SHAPES)
    size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    raw = draw(st.binary(min_size=size, max_size=size))
    if not raw:
        return torch.empty(shape, dtype=dtype)
    if dtype is torch.bool:
        raw = bytes(b & 1 for b in raw)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)


def hyperparams() -> st.SearchStrategy[HyperParams]:
    def bounded(name: str) -> st.SearchStrategy[Any]:
        b = BOUNDS[name]
        if b.kind is int:
            return st.integers(int(b.low), int(b.high))
        return st.floats(
            b.low, b.high, exclude_min=not b.low_inclusive, exclude_max=not b.high_inclusive
        )

    return st.builds(HyperParams, **{name: bounded(name) for name in BOUNDS})


def values(tp: Any) -> st.SearchStrategy[Any]:
    """Any value of the annotated type ``tp`` (the codec's whole domain)."""
    if tp is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if tp is int:
        return st.integers(-(2**62), 2**62)
    if tp is str:
        return st.text(max_size=20)
    if tp is bool:
        return st.booleans()
    if tp is type(None):
        return st.none()
    if tp is HyperParams:
        return hyperparams()
    if tp is torch.Tensor:
        return tensors()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if dataclasses.is_dataclass(tp):
        return st.builds(tp, **{n: values(t) for n, t in fields_of(tp).items()})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return st.one_of(*(values(a) for a in args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(values(args[0]), max_size=4).map(tuple)
    if origin is tuple:
        return st.tuples(*(values(a) for a in args))
    if origin in (list, deque):
        return st.lists(values(args[0]), max_size=4)
    if origin in (dict, Mapping):
        return st.dictionaries(st.text(max_size=8), values(args[1]), max_size=3)
    raise TypeError(tp)


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and tensors compared bit for bit."""
    if isinstance(a, torch.Tensor):
        return (
            isinstance(b, torch.Tensor)
            and (a.dtype, a.shape) == (b.dtype, b.shape)
            and a.numpy().tobytes() == b.numpy().tobytes()
        )
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple, deque)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return bool(a == b) and type(a) is type(b)


KINDS = {**EVENT_TYPES, **REQUESTS}


@pytest.mark.parametrize("name", sorted(KINDS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_event_and_request_survives_a_line_of_json(name: str, data: st.DataObject) -> None:
    tp = KINDS[name]
    value = data.draw(values(tp))
    line = write_line({"v": encode(value, tp)})
    assert b"NaN" not in line.replace(b'"NaN"', b"") and b"Infinity" not in line.replace(
        b'"Infinity"', b""
    ).replace(b'"-Infinity"', b"")
    assert same(decode(read_line(line)["v"], tp), value)


def test_a_field_of_the_wrong_type_is_named() -> None:
    good = encode(HyperParams(), HyperParams)
    with pytest.raises(WireError, match=r"hp\.lr: must be a number"):
        decode({**good, "lr": "fast"}, HyperParams, "hp")
    with pytest.raises(WireError, match="lr: must be at most 10"):
        decode({**good, "lr": 50}, HyperParams)
    with pytest.raises(WireError, match="unknown field 'speed'"):
        decode({**good, "speed": 1}, HyperParams)
    with pytest.raises(WireError, match="must be a whole number"):
        decode(True, int)


def test_a_tensor_must_match_its_bytes() -> None:
    good = encode(torch.arange(6, dtype=torch.float32).reshape(2, 3), torch.Tensor)
    with pytest.raises(WireError, match="do not make"):
        decode({**good, "shape": [3, 3]}, torch.Tensor)
    with pytest.raises(WireError, match="dtype must be one of"):
        decode({**good, "dtype": "object"}, torch.Tensor)
    with pytest.raises(WireError, match="over the limit"):
        decode({**good, "shape": [1 << 20, 1 << 20]}, torch.Tensor)
    with pytest.raises(WireError, match="not base64"):
        decode({**good, "b64": "!!!"}, torch.Tensor)


def test_the_reader_refuses_what_json_would_let_through() -> None:
    with pytest.raises(LineError, match="NaN is not JSON"):
        read_line(b'{"lr": NaN}')
    with pytest.raises(LineError, match="Infinity is not JSON"):
        read_line(b'{"lr": -Infinity}')
    with pytest.raises(LineError, match="nested deeper"):
        read_line(b"[" * 50_000 + b"]" * 50_000)
    with pytest.raises(LineError, match="over the"):
        read_line(b'{"a": "' + b"x" * (1 << 20) + b'"}')
    with pytest.raises(LineError, match="not UTF-8"):
        read_line(b'{"a": "\xff"}')
    with pytest.raises(LineError, match="not list"):
        read_line(b"[1, 2]")
    with pytest.raises(LineError, match="not JSON"):
        read_line(b'{"a": ' + b"1" * 5000 + b"}")
    with pytest.raises(ValueError):
        write_line({"lr": math.nan})


def test_nesting_skips_brackets_inside_strings() -> None:
    assert nesting(b'{"a": "[[[[{{{{", "b": [[1]]}') == 3
    assert nesting(b'{"a": "\\"[[["}') == 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[{"\\k'), inner, max_size=3)
    ),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(_JSON, st.integers(min_value=0, max_value=8))
def test_nesting_is_the_depth_and_the_limit_decides_exactly(value: object, limit: int) -> None:
    line = write_line({"v": value})
    assert nesting(line) == 1 + _depth(value)
    if 1 + _depth(value) > limit:
        with pytest.raises(LineError, match="nested deeper"):
            read_line(line, max_depth=limit)
    else:
        assert read_line(line, max_depth=limit) == {"v": value}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_an_object_or_a_line_error(raw: bytes) -> None:
    with contextlib.suppress(LineError):
        assert isinstance(read_line(raw), dict)
