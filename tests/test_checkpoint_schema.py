"""Loading damaged checkpoints: any file at all is a usable Checkpoint or one CheckpointError.

Property tests call the loader in-process on any bytes, on damaged copies of a real
checkpoint file, and on every kind of change to a valid payload's structure (keys dropped,
replaced or added, wrong types, NaN and infinities, wrong shapes). A payload the loader
accepts must also open a run: validation that lets something through is only complete if
nothing downstream trips over it.
"""

from __future__ import annotations

import io
import math
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn_tui.config import DATASET_NAMES, RunConfig
from cnn_tui.data import DATASETS, LoadedData
from cnn_tui.engine import checkpoint_schema
from cnn_tui.engine.checkpoint import (
    Checkpoint,
    CheckpointError,
    Progress,
    load_checkpoint,
    payload_of,
    save_checkpoint,
)
from cnn_tui.engine.session import open_run
from tests.checkpoint_payloads import VALID, valid_checkpoint, valid_payload

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def good_file(scratch: Path) -> bytes:
    path = scratch / "good.pt"
    save_checkpoint(path, valid_checkpoint())
    return path.read_bytes()


def load_or_refuse(path: Path) -> Checkpoint | None:
    """The loader's answer: a Checkpoint, or None after checking the refusal's one line."""
    try:
        return load_checkpoint(path)
    except CheckpointError as err:
        message = str(err)
        assert "\n" not in message and "\r" not in message, message
        assert str(path) in message
        return None


def assert_opens_a_run(ckpt: Checkpoint, data: LoadedData) -> None:
    """What the loader accepts is sound (finite numbers) and a run can start from it."""
    assert all(bool(torch.isfinite(t).all()) for t in ckpt.model_state.values())
    if ckpt.optimizer_state is not None:
        for entry in ckpt.optimizer_state["state"].values():
            buffer = entry.get("momentum_buffer")
            assert buffer is None or bool(torch.isfinite(buffer).all())
    for row in ckpt.progress.train_history + ckpt.progress.test_history:
        assert all(math.isfinite(x) for x in row)
    config = RunConfig(hparams=ckpt.hparams, seed=ckpt.seed, dataset=ckpt.dataset)
    run = open_run(
        config,
        data,
        lambda event: None,
        device=torch.device("cpu"),
        checkpoint=ckpt,
        write_files=False,
        visual_every=0,
    )
    assert run.history is not None or ckpt.is_bare_state_dict


def test_a_valid_checkpoint_round_trips(scratch: Path, tiny_data: LoadedData) -> None:
    path = scratch / "valid.pt"
    torch.save(valid_payload(), path)
    loaded = load_checkpoint(path)
    assert loaded.progress == valid_checkpoint().progress
    assert_opens_a_run(loaded, tiny_data)


def test_the_schema_describes_every_progress_field() -> None:
    assert set(checkpoint_schema.PROGRESS_KEYS) == set(vars(Progress()))
    assert set(checkpoint_schema.KEYS) == set(payload_of(valid_checkpoint())) == set(VALID)


# -- any bytes ---------------------------------------------------------------------------------
@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    kind = draw(st.sampled_from(["random", "truncated", "flipped"]))
    if kind == "random":
        return draw(st.binary(max_size=4096))
    if kind == "truncated":
        return good[: draw(st.integers(0, len(good) - 1))]
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    return bytes(data)


@SETTINGS
@given(data=st.data())
def test_any_bytes_give_a_checkpoint_or_one_line(
    data: st.DataObject, scratch: Path, good_file: bytes, tiny_data: LoadedData
) -> None:
    path = scratch / "any.pt"
    path.write_bytes(data.draw(damaged(good_file)))
    loaded = load_or_refuse(path)
    if loaded is not None:  # a flipped byte in the weights can leave a valid checkpoint
        assert_opens_a_run(loaded, tiny_data)


# -- any change to a valid payload ------------------------------------------------------------
def tensors() -> st.SearchStrategy[torch.Tensor]:
    shapes = st.lists(st.integers(0, 4), max_size=3)
    dtypes = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.uint8])
    fill = st.sampled_from([0.0, 1.0, float("nan"), float("inf"), -float("inf")])
    return st.builds(lambda s, d, f: torch.full(tuple(s), f).to(d), shapes, dtypes, fill)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
values = st.recursive(
    st.one_of(scalars, tensors()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers(0, 9)), inner, max_size=4),
    ),
    max_leaves=8,
)


@st.composite
def places(draw: st.DrawFn, payload: dict[str, Any]) -> tuple[Any, list[Any] | dict[Any, Any]]:
    """A place in ``payload`` (container, key), each level as likely as the next."""
    parent: Any = payload
    while True:
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        if not keys:
            return None, parent
        key = draw(st.sampled_from(keys))
        child = parent[key]
        if not isinstance(child, (dict, list)) or not child or draw(st.booleans()):
            return key, parent
        parent = child


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    payload = valid_payload()
    for _ in range(draw(st.integers(1, 3))):
        key, parent = draw(places(payload))
        if key is None:
            continue
        # a tensor is mostly changed in place (dtype, shape, NaN, contents), else replaced
        is_tensor = isinstance(parent[key], torch.Tensor)
        kinds = ["drop", "replace", "add", "tensor", "tensor", "tensor"] if is_tensor else []
        action = draw(st.sampled_from(kinds or ["drop", "replace", "add", "tensor"]))
        if action == "drop":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(values)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(values)
        elif action == "add":
            cast(list[Any], parent).append(draw(values))
        elif is_tensor:
            parent[key] = draw(reshaped(parent[key]))
        else:
            parent[key] = draw(tensors())
    return payload


@st.composite
def reshaped(draw: st.DrawFn, tensor: torch.Tensor) -> torch.Tensor:
    kind = draw(st.sampled_from(["fill", "nan", "inf", "dtype", "shape", "empty"]))
    if kind == "fill":  # same dtype and shape, other contents (an RNG state that is not one)
        return torch.full_like(tensor, draw(st.sampled_from([0, 1, 255])))
    if kind in ("nan", "inf") and tensor.is_floating_point() and tensor.numel():
        out = tensor.clone()
        out.view(-1)[draw(st.integers(0, tensor.numel() - 1))] = (
            float("nan") if kind == "nan" else float("inf")
        )
        return out
    if kind == "dtype":
        return tensor.to(draw(st.sampled_from([torch.float64, torch.float16, torch.int32])))
    if kind == "shape" and tensor.numel():
        return tensor.reshape(-1)[: max(0, tensor.numel() - 1)]
    return torch.empty(0)


@SETTINGS
@given(payload=mutated())
def test_any_changed_payload_gives_a_usable_checkpoint_or_one_line(
    payload: dict[str, Any], scratch: Path, tiny_data: LoadedData
) -> None:
    path = scratch / "changed.pt"
    torch.save(payload, path)
    loaded = load_or_refuse(path)
    if loaded is not None:
        assert_opens_a_run(loaded, tiny_data)


# -- code never runs -----------------------------------------------------------------------------
class _Touch:
    """Unpickling this would create ``path``: the test fails if the file appears."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("wrapping", ["torch.save", "raw pickle", "inside a valid payload"])
def test_a_pickle_that_runs_code_is_refused_without_running_it(
    tmp_path: Path, wrapping: str
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    evil = _Touch(marker)
    if wrapping == "raw pickle":
        path.write_bytes(pickle.dumps(evil))
    else:
        payload: Any = {"x": evil}
        if wrapping == "inside a valid payload":
            payload = valid_payload()
            payload["progress"]["train_history"].append(evil)
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path)
    assert not marker.exists()
    message = str(refused.value)
    assert message.startswith(f"{path} is not a readable checkpoint")
    assert "\n" not in message and "Weights only load failed" not in message
    assert message.endswith("(or the tutorial's model.pth)")


def test_a_stored_lr_out_of_bounds_is_told_about_the_checkpoint(tmp_path: Path) -> None:
    payload = valid_payload()
    payload["hparams"]["lr"] = 50
    path = tmp_path / "lr.pt"
    torch.save(payload, path)
    with pytest.raises(
        CheckpointError, match=r"its stored lr 50 is out of bounds: must be at most 10"
    ):
        load_checkpoint(path)


def test_the_dataset_names_match_the_registry() -> None:
    assert tuple(DATASETS) == DATASET_NAMES
