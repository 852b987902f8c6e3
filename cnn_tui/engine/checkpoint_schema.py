"""What a checkpoint file must hold, checked in full before anything uses it.

``torch.load(weights_only=True)`` guarantees that no code runs, not that what comes back is
a checkpoint: a damaged or hand-edited file can hold any mix of dicts, lists, numbers and
tensors, and the session would trip over it later with a KeyError, a TypeError in
``Progress(...)`` or a RuntimeError in ``load_state_dict``. :func:`check_payload` walks the
whole structure against what :func:`save_checkpoint` writes — every key and type, the
weights' names, shapes and dtypes against the tutorial's ``Net``, the optimizer state
against what ``torch.optim.SGD`` makes for it, the RNG state, progress counters and
histories, hyperparameters within ``config.BOUNDS`` — and raises :class:`Invalid` with a
short reason ("its progress.epoch is 'x', expected a whole number ≥ 1"). The loader adds
the file's name. This module is the on-disk format's one description.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import torch

from cnn_tui.config import (
    BOUNDS,
    DATASET_NAMES,
    SEED_BOUND,
    ConfigError,
    HyperParams,
    parse_bounded,
)
from cnn_tui.model import Net, state_dict_matches

FORMAT = "cnn-tui-checkpoint/1"
MODEL = "Net"
KEYS = (
    "format",
    "model",
    "model_state",
    "optimizer_state",
    "hparams",
    "seed",
    "dataset",
    "progress",
    "rng_state",
)
MAX_COUNT = 2**53  # counters stay exact as floats and as JSON numbers
MAX_EPOCH = int(BOUNDS["epochs"].high) + 1  # epochs + 1 once all are done
HPARAM_NAMES = tuple(HyperParams().to_dict())

# Progress's fields: (the lowest value, or the arity and item kinds of a history's entries)
COUNTERS = {
    "epoch": 1,
    "position": 0,
    "batch_index": 0,
    "train_correct": 0,
    "train_seen": 0,
    "last_tested": -1,
    "probe_index": 0,
}
HISTORIES = {
    "train_history": ("seen", "loss"),
    "test_history": ("epoch", "seen", "loss", "correct", "total"),
    "hparam_history": ("seen", "summary"),
}
PROGRESS_KEYS = (*COUNTERS, "train_seconds", *HISTORIES)


class Invalid(Exception):
    """What is wrong with a payload, as a short phrase about "it" (the checkpoint)."""


def check_payload(payload: object) -> dict[str, Any]:
    """A cnn-tui checkpoint's payload, checked; returned with plain, normalized values."""
    top = _mapping(payload, "it", what="a checkpoint")
    if not _is_text(top.get("format"), FORMAT):
        raise Invalid(f"its format is {_show(top.get('format'))}, expected {FORMAT!r}")
    if "model" in top and not _is_text(top["model"], MODEL):  # which model comes first
        raise Invalid(f"it is a checkpoint of another model ({_show(top['model'])})")
    if "model_state" in top:
        state = _named_tensors(top["model_state"], "its model_state")
        reason = state_dict_matches(state)
        if reason is not None:
            raise Invalid(f"it is a checkpoint of another model ({reason})")
    _exact_keys(top, KEYS, "it")
    check_weights(state, "its model_state")
    return {
        "model_state": state,
        "optimizer_state": _optimizer(top["optimizer_state"]),
        "hparams": _hparams(top["hparams"]),
        "seed": _seed(top["seed"]),
        "dataset": _dataset(top["dataset"]),
        "progress": _progress(top["progress"]),
        "rng_state": _rng_state(top["rng_state"]),
    }


def check_bare_state_dict(payload: object) -> dict[str, torch.Tensor]:
    """The tutorial's ``model.pth``: a state dict of ``Net`` and nothing else."""
    try:
        state = _named_tensors(payload, "it")
        reason = state_dict_matches(state)
        if reason is not None:
            raise Invalid(reason)
        check_weights(state, "it")
    except Invalid as err:
        raise Invalid(f"it is not a checkpoint of the tutorial's Net ({err})") from None
    return state


def check_weights(state: Mapping[str, Any], where: str) -> None:
    """Every tensor of a ``Net`` state dict (names and shapes already match) is float32,
    dense, on the CPU and finite."""
    for name, tensor in state.items():
        _tensor(tensor, f"{where}[{_show(name)}]", tuple(tensor.shape), torch.float32)


# -- the parts -------------------------------------------------------------------------------
def _named_tensors(value: object, where: str) -> dict[str, torch.Tensor]:
    state = _mapping(value, where, what="a state dict")
    for key, tensor in state.items():
        if not isinstance(key, str):
            raise Invalid(f"{where} has an entry named {_show(key)}, not a layer's name")
        if not isinstance(tensor, torch.Tensor):
            raise Invalid(f"{where}[{_show(key)}] is {_show(tensor)}, expected a tensor")
    return dict(state)


@cache
def _sgd_template() -> dict[str, Any]:
    """The param group ``torch.optim.SGD`` makes for ``Net`` (what save_checkpoint writes)."""
    net = Net()
    group = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5).state_dict()
    template: dict[str, Any] = group["param_groups"][0]
    return template


@cache
def _param_shapes() -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(p.shape) for p in Net().parameters())


def _optimizer(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    where = "its optimizer_state"
    top = _mapping(value, where, what="an SGD state dict")
    _exact_keys(top, ("state", "param_groups"), where)
    groups = top["param_groups"]
    if not isinstance(groups, (list, tuple)) or len(groups) != 1:
        raise Invalid(f"{where}.param_groups is {_show(groups)}, expected one parameter group")
    group = _mapping(groups[0], f"{where}.param_groups[0]", what="a parameter group")
    template = _sgd_template()
    _exact_keys(group, tuple(template), f"{where}.param_groups[0]", required=("params", "lr"))
    shapes = _param_shapes()
    params = group["params"]
    if not _is_list(params) or [_plain_int(p) for p in params] != list(range(len(shapes))):
        raise Invalid(
            f"{where}.param_groups[0].params is {_show(params)}, "
            f"expected the ids 0-{len(shapes) - 1} of Net's {len(shapes)} parameters"
        )
    for key, expected in template.items():
        if key == "params" or key not in group:
            continue
        got, at = group[key], f"{where}.param_groups[0].{key}"
        if key in ("lr", "momentum"):  # replaced by the run's own values when it opens
            _real(got, at, low=0.0)
        elif not _same_plain(got, expected):
            raise Invalid(f"{at} is {_show(got)}, expected {expected!r}")
    state = _mapping(top["state"], f"{where}.state", what="a dict")
    for pid, entry in state.items():
        index = _plain_int(pid)
        if index is None or not 0 <= index < len(shapes):
            raise Invalid(f"{where}.state has an entry for parameter {_show(pid)}, not 0-7")
        at = f"{where}.state[{index}]"
        buffers = _mapping(entry, at, what="a dict")
        _exact_keys(buffers, ("momentum_buffer",), at, required=())
        buffer = buffers.get("momentum_buffer")
        if buffer is not None:
            _tensor(buffer, f"{at}.momentum_buffer", shapes[index], torch.float32)
    return {"state": dict(state), "param_groups": [dict(group)]}


def _hparams(value: object) -> HyperParams:
    where = "its hparams"
    given = _mapping(value, where, what="a dict")
    _exact_keys(given, HPARAM_NAMES, where)
    for name in HPARAM_NAMES:
        raw, bound = given[name], BOUNDS[name]
        wanted = "a whole number" if bound.kind is int else "a number"
        if not _is_number(raw) or (bound.kind is int and not isinstance(raw, int)):
            raise Invalid(f"its stored {name} is {_show(raw)}, expected {wanted}")
        if isinstance(raw, int) and abs(raw) > MAX_COUNT:
            raise Invalid(f"its stored {name} {_show(raw)} is out of bounds {bound.describe()}")
        try:
            parse_bounded(name, bound, raw)
        except ConfigError as err:
            why = err.reason.split(" (got ")[0]
            raise Invalid(f"its stored {name} {_show(raw)} is out of bounds: {why}") from None
    return HyperParams(**given)


def _seed(value: object) -> int:
    seed = _plain_int(value)
    if seed is None:
        raise Invalid(f"its seed is {_show(value)}, expected a whole number")
    try:
        parse_bounded("seed", SEED_BOUND, seed)
    except ConfigError as err:
        raise Invalid(f"its stored seed {seed} is out of bounds ({err})") from None
    return seed


def _dataset(value: object) -> str:
    if not isinstance(value, str) or value not in DATASET_NAMES:
        names = ", ".join(DATASET_NAMES)
        raise Invalid(f"its dataset is {_show(value)}, expected one of {names}")
    return value


def _progress(value: object) -> dict[str, Any]:
    where = "its progress"
    given = _mapping(value, where, what="a dict")
    _exact_keys(given, PROGRESS_KEYS, where)
    out: dict[str, Any] = {}
    for name, low in COUNTERS.items():
        out[name] = _count(given[name], f"{where}.{name}", low)
    if out["epoch"] > MAX_EPOCH:
        raise Invalid(f"{where}.epoch is {out['epoch']}, expected at most {MAX_EPOCH}")
    if out["last_tested"] > out["epoch"]:
        raise Invalid(f"{where}.last_tested is {out['last_tested']}, after epoch {out['epoch']}")
    if out["train_correct"] > out["train_seen"]:
        raise Invalid(f"{where}.train_correct is more than its train_seen")
    out["train_seconds"] = _real(given["train_seconds"], f"{where}.train_seconds", low=0.0)
    for name, columns in HISTORIES.items():
        out[name] = _history(given[name], f"{where}.{name}", columns)
    return out


def _history(value: object, where: str, columns: tuple[str, ...]) -> list[list[Any]]:
    if not isinstance(value, (list, tuple)):
        raise Invalid(f"{where} is {_show(value)}, expected a list")
    rows: list[list[Any]] = []
    for n, entry in enumerate(value):
        at = f"{where}[{n}]"
        if not _is_list(entry) or len(entry) != len(columns):
            raise Invalid(f"{at} is {_show(entry)}, expected [{', '.join(columns)}]")
        row: list[Any] = []
        for column, item in zip(columns, entry, strict=True):
            if column == "summary":
                if not isinstance(item, str):
                    raise Invalid(f"{at} has summary {_show(item)}, expected text")
                row.append(item)
            elif column == "loss":
                row.append(_real(item, f"{at}'s loss"))
            else:
                row.append(_count(item, f"{at}'s {column}", 1 if column == "total" else 0))
        if columns[-1] == "total" and row[3] > row[4]:
            raise Invalid(f"{at} has more correct answers than digits")
        rows.append(row)
    return rows


@cache
def _rng_size() -> int:
    return int(torch.get_rng_state().numel())


def _rng_state(value: object) -> torch.Tensor | None:
    if value is None:
        return None
    where = "its rng_state"
    tensor = _tensor(value, where, (_rng_size(),), torch.uint8)
    try:
        torch.Generator().set_state(tensor)  # a scratch generator: the global one is untouched
    except (RuntimeError, ValueError, TypeError) as err:
        raise Invalid(f"{where} is not a state of torch's generator ({_first_line(err)})") from None
    return tensor.clone()


# -- small checks ----------------------------------------------------------------------------
def _mapping(value: object, where: str, *, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(f"{where} is {_show(value)}, not {what}")
    return value


def _exact_keys(
    given: Mapping[Any, Any],
    names: tuple[str, ...],
    where: str,
    required: tuple[str, ...] | None = None,
) -> None:
    unknown = [k for k in given if not isinstance(k, str) or k not in names]
    if unknown:
        raise Invalid(f"{where} has an unknown entry {_show(unknown[0])}")
    missing = [k for k in (names if required is None else required) if k not in given]
    if missing:
        raise Invalid(f"{where} lacks {missing[0]!r}")


def _tensor(value: object, where: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise Invalid(f"{where} is {_show(value)}, expected a tensor")
    if value.layout != torch.strided or value.device.type != "cpu" or value.is_quantized:
        raise Invalid(f"{where} is a {value.layout} tensor on {value.device}, expected dense CPU")
    if value.dtype != dtype:
        raise Invalid(f"{where} has dtype {value.dtype}, expected {dtype}")
    if tuple(value.shape) != shape:
        raise Invalid(f"{where} has shape {tuple(value.shape)}, expected {shape}")
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise Invalid(f"{where} holds NaN or infinite values")
    return value


def _is_text(value: object, expected: str) -> bool:
    return isinstance(value, str) and value == expected


def _same_plain(got: object, expected: object) -> bool:
    """``got == expected`` for plain scalars, with bools and numbers kept apart."""
    if got is not None and not isinstance(got, (bool, int, float, str)):
        return False
    return got == expected and isinstance(got, bool) == isinstance(expected, bool)


def _plain_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _count(value: object, where: str, low: int) -> int:
    number = _plain_int(value)
    if number is None or not low <= number <= MAX_COUNT:
        raise Invalid(f"{where} is {_show(value)}, expected a whole number ≥ {low}")
    return number


def _real(value: object, where: str, low: float | None = None) -> float:
    if not _is_number(value):
        raise Invalid(f"{where} is {_show(value)}, expected a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or (low is not None and number < low):
        at_least = f" ≥ {low:g}" if low is not None else ""
        raise Invalid(f"{where} is {_show(value)}, expected a finite number{at_least}")
    return number


def _show(value: object, limit: int = 40) -> str:
    """A value as a reason quotes it: repr (so one line), cut short."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (dict, list, tuple)):
        text = f"a {type(value).__name__} of {len(value)}"
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**limit:
        text = f"a number of more than {limit} digits"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:80] if text else type(err).__name__
