"""Explicit JSON for the run's dataclasses — events, commands, the view — and never pickle.

``encode(value, tp)`` turns a value of type ``tp`` into plain JSON values; ``decode(data,
tp)`` rebuilds one and checks every field against its annotation, so a message of the wrong
shape is a :class:`WireError` naming the field, never a half-built object. Both directions
follow the type, not the value, so the same annotations the engine is typed with are the
schema: a new event needs no codec code.

- A tensor is ``{"dtype": "float32", "shape": [10, 5, 5], "b64": "..."}``: its raw
  little-endian bytes, base64-encoded, for a closed set of dtypes.
- A float that is not finite (a diverged loss, an unknown accuracy) is the string ``"NaN"``,
  ``"Infinity"`` or ``"-Infinity"``: the JSON itself never holds them.
- A tuple of flat records (``tuple[Mistake, ...]``) is stored by columns, which keeps a test
  pass with thousands of mistakes a few hundred kilobytes.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import math
import sys
import types
import typing
from collections import deque
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Union

import numpy as np
import torch

from cnn_tui.config import ConfigError

MAX_ELEMENTS = 1 << 24  # elements in one tensor: 16 M (the test split is 7.8 M bytes)
MAX_DIMS = 6

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}
SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
FLAT_KINDS = (int, float, str, bool)


class WireError(ValueError):
    """Data that is not a valid value of the expected type; ``str(err)`` says where and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


# -- encoding -------------------------------------------------------------------------------
def encode(value: Any, tp: Any) -> Any:
    """``value`` (of type ``tp``) as JSON-ready data: dicts, lists, str, int, float, bool."""
    if tp is Any:
        return value
    if tp is float:
        return _encode_float(value)
    if tp in (int, str, bool) or value is None:
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return value.value
    if tp is torch.Tensor:
        return encode_tensor(value)
    if dataclasses.is_dataclass(tp):
        return {name: encode(getattr(value, name), ftp) for name, ftp in fields_of(tp).items()}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return encode(value, _member_for(value, args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if _is_flat_record(args[0]):
            return _encode_columns(value, args[0])
        return [encode(v, args[0]) for v in value]
    if origin is tuple:
        return [encode(v, t) for v, t in zip(value, args, strict=True)]
    if origin in (list, deque):
        return [encode(v, args[0]) for v in value]
    if origin in (dict, Mapping):
        return {str(k): encode(v, args[1]) for k, v in value.items()}
    raise TypeError(f"no wire encoding for {tp!r}")


def encode_tensor(tensor: torch.Tensor) -> dict[str, Any]:
    name = DTYPE_NAMES.get(tensor.dtype)
    if name is None:
        raise TypeError(f"no wire encoding for tensors of {tensor.dtype}")
    array = tensor.detach().cpu().contiguous().numpy()
    if sys.byteorder != "little":
        array = array.byteswap()
    return {
        "dtype": name,
        "shape": list(tensor.shape),
        "b64": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def _encode_float(value: float) -> float | str:
    if math.isfinite(value):
        return float(value)
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _member_for(value: Any, members: tuple[Any, ...]) -> Any:
    for member in members:
        if member is type(None):
            if value is None:
                return member
            continue
        base = typing.get_origin(member) or member
        if base is float and isinstance(value, (int, float)):
            return member
        if isinstance(base, type) and isinstance(value, base):
            return member
    raise TypeError(f"{value!r} is none of {members}")


def _encode_columns(records: Any, record_type: Any) -> dict[str, list[Any]]:
    return {
        name: [encode(getattr(r, name), ftp) for r in records]
        for name, ftp in fields_of(record_type).items()
    }


# -- decoding -------------------------------------------------------------------------------
Decoder = Callable[[Any, str], Any]


def decode(data: Any, tp: Any, where: str = "") -> Any:
    """A value of type ``tp`` built from JSON ``data``; WireError if it does not fit."""
    return _decoder(tp)(data, where)


@cache
def _decoder(tp: Any) -> Decoder:
    """The decoder of ``tp``, worked out once per type: a viewer decodes ~30 events a second,
    and walking the annotations for every value was two thirds of its reading thread."""
    if tp is Any:
        return lambda data, where: data
    if tp is type(None):
        return _decode_none
    if tp is bool:
        return lambda data, where: _expect(data, bool, where, "true or false")
    if tp is int:
        return _decode_int
    if tp is float:
        return _decode_float
    if tp is str:
        return lambda data, where: _expect(data, str, where, "a string")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda data, where: _decode_enum(data, tp, where)
    if tp is torch.Tensor:
        return decode_tensor
    if dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return lambda data, where: _decode_union(data, args, where)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if _is_flat_record(args[0]):
            return lambda data, where: _decode_columns(data, args[0], where)
        items = _items_decoder(args[0])
        return lambda data, where: tuple(items(data, where))
    if origin is tuple:
        return _fixed_tuple_decoder(args)
    if origin in (list, deque):
        items = _items_decoder(args[0])
        if origin is list:
            return items
        return lambda data, where: deque(items(data, where))
    if origin in (dict, Mapping):
        return _mapping_decoder(args[1])
    return lambda data, where: _no_decoding(tp)


def _no_decoding(tp: Any) -> Any:
    raise TypeError(f"no wire decoding for {tp!r}")


def _decode_none(data: Any, where: str) -> None:
    if data is not None:
        raise WireError(where, "must be null")
    return None


def _decode_int(data: Any, where: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise WireError(where, "must be a whole number")
    return data


def _decode_enum(data: Any, tp: type[enum.Enum], where: str) -> enum.Enum:
    try:
        return tp(data)
    except ValueError:
        raise WireError(where, f"must be one of {[m.value for m in tp]}") from None


def _items_decoder(tp: Any) -> Decoder:
    """A list's decoder, chosen once for its item type: plain values (a health sample's
    histograms, 4 x 64 counts) checked in one pass, anything else item by item."""
    if tp in FLAT_KINDS:
        return lambda data, where: _flat_column(data, tp, where)
    item = _decoder(tp)

    def decode_items(data: Any, where: str) -> list[Any]:
        items = _expect(data, list, where, "a list")
        return [item(v, f"{where}[{i}]") for i, v in enumerate(items)]

    return decode_items


def _fixed_tuple_decoder(args: tuple[Any, ...]) -> Decoder:
    decoders = [_decoder(t) for t in args]

    def decode_fixed_tuple(data: Any, where: str) -> tuple[Any, ...]:
        items = _expect(data, list, where, f"a list of {len(args)}")
        if len(items) != len(args):
            raise WireError(where, f"must be a list of {len(args)}")
        return tuple(
            d(v, f"{where}[{i}]") for i, (v, d) in enumerate(zip(items, decoders, strict=True))
        )

    return decode_fixed_tuple


def _mapping_decoder(tp: Any) -> Decoder:
    value = _decoder(tp)

    def decode_mapping(data: Any, where: str) -> dict[str, Any]:
        mapping = _expect(data, dict, where, "an object")
        return {k: value(v, f"{where}.{k}") for k, v in mapping.items()}

    return decode_mapping


def decode_tensor(data: Any, where: str = "") -> torch.Tensor:
    obj = _expect(data, dict, where, "a tensor object")
    if set(obj) != {"dtype", "shape", "b64"}:
        raise WireError(where, "a tensor has exactly dtype, shape and b64")
    dtype = DTYPES.get(obj["dtype"]) if isinstance(obj["dtype"], str) else None
    if dtype is None:
        raise WireError(where, f"dtype must be one of {sorted(DTYPES)}")
    shape = obj["shape"]
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise WireError(where, f"shape must be a list of at most {MAX_DIMS} sizes >= 0")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise WireError(where, f"a tensor of {count} elements is over the limit")
    if not isinstance(obj["b64"], str):
        raise WireError(where, "b64 must be a string")
    try:
        raw = base64.b64decode(obj["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise WireError(where, "b64 is not base64") from None
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != count * itemsize:
        raise WireError(where, f"{len(raw)} bytes do not make a {obj['dtype']} tensor {shape}")
    if not raw:
        return torch.empty(shape, dtype=dtype)
    array = np.frombuffer(raw, dtype=torch.empty((), dtype=dtype).numpy().dtype)
    if sys.byteorder != "little":
        array = array.byteswap()
    return torch.from_numpy(array.copy()).reshape(shape)


def _decode_float(data: Any, where: str) -> float:
    if isinstance(data, str) and data in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[data]
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise WireError(where, "must be a number")
    return float(data)


def _decode_union(data: Any, members: tuple[Any, ...], where: str) -> Any:
    if data is None and type(None) in members:
        return None
    reasons = []
    for member in members:
        if member is type(None):
            continue
        try:
            return decode(data, member, where)
        except WireError as err:
            reasons.append(err.reason)
    raise WireError(where, " or ".join(dict.fromkeys(reasons)) or "has the wrong type")


def _dataclass_decoder(tp: Any) -> Decoder:
    fields = fields_of(tp)
    names = frozenset(fields)
    defaulted = frozenset(name for name in fields if _has_default(tp, name))
    bounded = _bounded_deques(tp)
    decoders: list[tuple[str, Decoder]] = []

    def decode_dataclass(data: Any, where: str) -> Any:
        obj = _expect(data, dict, where, "an object")
        if not names.issuperset(obj):
            raise WireError(where, f"unknown field {sorted(set(obj) - names)[0]!r}")
        if len(decoders) < len(fields):  # on first use: a field's type may be this one
            decoders[:] = [(name, _decoder(ftp)) for name, ftp in fields.items()]
        values: dict[str, Any] = {}
        for name, decode_field in decoders:
            if name in obj:
                values[name] = decode_field(obj[name], f"{where}.{name}" if where else name)
            elif name not in defaulted:
                raise WireError(where, f"missing field {name!r}")
        try:
            value = tp(**values)
        except ConfigError as err:
            raise WireError(f"{where}.{err.field}" if where else err.field, err.reason) from None
        for name, bound in bounded:
            current = getattr(value, name, None)
            if isinstance(current, deque) and current.maxlen != bound:
                object.__setattr__(value, name, deque(current, maxlen=bound))
        return value

    return decode_dataclass


def _decode_columns(data: Any, record_type: Any, where: str) -> tuple[Any, ...]:
    columns = _expect(data, dict, where, "an object of columns")
    fields = fields_of(record_type)
    if set(columns) != set(fields):
        raise WireError(where, f"columns must be exactly {sorted(fields)}")
    decoded = {
        name: _flat_column(columns[name], ftp, f"{where}.{name}") for name, ftp in fields.items()
    }
    lengths = {len(column) for column in decoded.values()}
    if len(lengths) > 1:
        raise WireError(where, "columns differ in length")
    count = lengths.pop() if lengths else 0
    return tuple(
        record_type(**{name: column[i] for name, column in decoded.items()}) for i in range(count)
    )


def _flat_column(data: Any, tp: Any, where: str) -> list[Any]:
    """One column of flat values, checked in one pass (a test pass has thousands)."""
    column: list[Any] = _expect(data, list, where, "a list")
    kinds = set(map(type, column))  # exact types: a bool is not a number here
    if tp is float:
        if kinds <= {float}:
            return column
        if kinds <= {float, int}:
            return [float(v) for v in column]
        return [_decode_float(v, f"{where}[{i}]") for i, v in enumerate(column)]
    if kinds <= {tp}:
        return column
    return [decode(v, tp, f"{where}[{i}]") for i, v in enumerate(column)]


def _expect(data: Any, kind: type, where: str, what: str) -> Any:
    if not isinstance(data, kind) or (kind is not bool and isinstance(data, bool)):
        raise WireError(where, f"must be {what}")
    return data


def _has_default(tp: Any, name: str) -> bool:
    for f in dataclasses.fields(tp):
        if f.name == name:
            return (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            )
    return False


def _bounded_deques(tp: Any) -> tuple[tuple[str, int], ...]:
    """The deque fields whose default has a ``maxlen``: they keep that bound when decoded."""
    bounded = []
    for f in dataclasses.fields(tp):
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
            if isinstance(default, deque) and default.maxlen is not None:
                bounded.append((f.name, default.maxlen))
    return tuple(bounded)


# -- types ----------------------------------------------------------------------------------
def fields_of(tp: Any) -> dict[str, Any]:
    """A dataclass's field names and resolved annotations, in order."""
    return _fields(tp)


@cache
def _fields(tp: type) -> dict[str, Any]:
    hints = typing.get_type_hints(tp)
    return {f.name: hints[f.name] for f in dataclasses.fields(tp)}


def _is_flat_record(tp: Any) -> bool:
    return dataclasses.is_dataclass(tp) and all(t in FLAT_KINDS for t in fields_of(tp).values())
