"""Hyperparameters and run settings: the tutorial's defaults and the one place bounds live.

The CLI, the hyperparameter dialog and the engine all validate through :func:`parse_hparam`
and :meth:`HyperParams.replace`, so a value the CLI refuses is refused by the dialog and by
the engine with the same words.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, cast

DEVICES = ("auto", "cpu", "cuda", "mps")  # and cuda:N, one GPU for a single process
# data.DATASETS holds one spec for each, in this order; named here so that parsing flags and
# checking a checkpoint need not import torchvision.
DATASET_NAMES = ("mnist", "fashion-mnist", "kmnist")
Device = str  # one of DEVICES, or cuda:N


def is_device(name: str) -> bool:
    """A --device value: one of DEVICES, or ``cuda:N`` (GPU N of a single-process run)."""
    return name in DEVICES or (name.startswith("cuda:") and name[5:].isdigit())


class ConfigError(ValueError):
    """A value outside its bounds. ``field`` names the setting; ``str(err)`` is the reason."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Bound:
    """The legal range of one numeric setting."""

    kind: type[int] | type[float]
    low: float
    high: float
    low_inclusive: bool = True
    high_inclusive: bool = True
    help: str = ""

    def describe(self) -> str:
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def check(self, name: str, value: float) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(name, f"must be a finite number (got {value})")
        too_low = value < self.low or (value == self.low and not self.low_inclusive)
        too_high = value > self.high or (value == self.high and not self.high_inclusive)
        if too_low:
            word = "at least" if self.low_inclusive else "greater than"
            raise ConfigError(name, f"must be {word} {_fmt(self.low)} (got {_fmt(value)})")
        if too_high:
            word = "at most" if self.high_inclusive else "less than"
            raise ConfigError(name, f"must be {word} {_fmt(self.high)} (got {_fmt(value)})")


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


BOUNDS: dict[str, Bound] = {
    "epochs": Bound(int, 1, 1000, help="epochs to train in all"),
    "batch_size": Bound(int, 1, 8192, help="training batch size"),
    "test_batch_size": Bound(int, 1, 10000, help="test batch size"),
    "lr": Bound(float, 0.0, 10.0, low_inclusive=False, help="SGD learning rate"),
    "momentum": Bound(float, 0.0, 1.0, high_inclusive=False, help="SGD momentum"),
    "log_interval": Bound(int, 1, 10000, help="batches between logged losses"),
}
SEED_BOUND = Bound(int, 0, 2**32 - 1, help="random seed")

# What the engine lets a user change while a run is live (the dialog edits these).
LIVE_FIELDS = ("lr", "momentum", "batch_size", "log_interval", "epochs")


def parse_hparam(name: str, raw: str | int | float) -> int | float:
    """Turn text or a number into a bounded value for ``name``, or raise ConfigError."""
    bound = BOUNDS.get(name)
    if bound is None:
        raise ConfigError(name, f"is not a hyperparameter (choose from {', '.join(BOUNDS)})")
    return parse_bounded(name, bound, raw)


def parse_bounded(name: str, bound: Bound, raw: str | int | float) -> int | float:
    value: int | float
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ConfigError(name, "needs a value")
        try:
            value = int(text) if bound.kind is int else float(text)
        except ValueError:
            what = "a whole number" if bound.kind is int else "a number"
            raise ConfigError(name, f"must be {what} (got {text!r})") from None
    elif bound.kind is int:
        if isinstance(raw, bool) or not float(raw).is_integer():
            raise ConfigError(name, f"must be a whole number (got {raw!r})")
        value = int(raw)
    else:
        value = float(raw)
    bound.check(name, value)
    return value


@dataclass(frozen=True)
class HyperParams:
    """The tutorial's hyperparameters; the defaults are its values."""

    epochs: int = 3
    batch_size: int = 64
    test_batch_size: int = 1000
    lr: float = 0.01
    momentum: float = 0.5
    log_interval: int = 10

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            checked = parse_hparam(f.name, value)
            if checked != value or type(checked) is not type(value):
                object.__setattr__(self, f.name, checked)

    def replace(self, **changes: Any) -> HyperParams:
        """A copy with ``changes`` parsed and checked (text or numbers accepted)."""
        parsed = {name: parse_hparam(name, raw) for name, raw in changes.items()}
        return replace(self, **cast(dict[str, Any], parsed))

    def diff(self, other: HyperParams) -> dict[str, tuple[Any, Any]]:
        """``{name: (mine, theirs)}`` for each field that differs."""
        mine, theirs = asdict(self), asdict(other)
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HyperParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def check_live_epochs(epochs: int, current_epoch: int) -> None:
    """A live run can add epochs, but not end before the epoch it is in."""
    if epochs < current_epoch:
        raise ConfigError(
            "epochs", f"must be at least {current_epoch}, the epoch in progress (got {epochs})"
        )


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs besides its data: the CLI's parsed flags."""

    hparams: HyperParams = field(default_factory=HyperParams)
    seed: int = 1
    device: Device = "auto"
    dataset: str = "mnist"
    data_dir: Path | None = None
    run_dir: Path | None = None
    offline: bool = False

    def __post_init__(self) -> None:
        parse_bounded("seed", SEED_BOUND, self.seed)
        if not is_device(self.device):
            raise ConfigError(
                "device", f"must be one of {', '.join(DEVICES)} or cuda:N (got {self.device!r})"
            )
