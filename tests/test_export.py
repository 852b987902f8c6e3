"""``cnn-tui export``: any log gives the CSV files or one line (exit 2), never half of them.

The issue met tracebacks on lines that are not objects (``42``), lack ``event`` or a field,
hold invalid UTF-8, a test pass with ``total: 0`` (after ``train.csv`` was written), a
RUN_DIR or ``--out`` that is a file or read-only, and ``export /nonexistent`` created the
folder it then said was missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn_tui.cli import main
from cnn_tui.data import LoadedData
from cnn_tui.engine.export import RunLogError, export_csv
from tests.helpers import Recorder, open_test_run

CSVS = ["train.csv", "test.csv", "confusion.csv", "mistakes.csv", "health.csv"]


class Lines(list[bytes]):
    """A log's lines, shown short in hypothesis's reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} lines of a real log>"


@pytest.fixture(scope="module")
def real_log(tiny_data: LoadedData, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The lines of a real run's events.jsonl (one epoch of the tiny data)."""
    run_dir = tmp_path_factory.mktemp("real") / "run"
    open_test_run(tiny_data, Recorder(), run_dir, epochs=1, log_interval=2).run()
    return Lines((run_dir / "events.jsonl").read_bytes().splitlines())


def make_run(folder: Path, lines: list[bytes], end: bytes = b"\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + end)
    return folder


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("cnn-tui: error: ")
    assert captured.out == ""
    return lines[0]


def first(lines: list[bytes], event: str) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line)["event"] == event)


def changed(line: bytes, **fields: object) -> bytes:
    record = json.loads(line)
    for name, value in fields.items():
        if value is None:
            record.pop(name)
        else:
            record[name] = value
    return json.dumps(record).encode()


def cases(lines: list[bytes]) -> dict[str, tuple[list[bytes], str]]:
    batch, tested = first(lines, "BatchLogged"), len(lines) - 1 - first(lines[::-1], "EpochTested")

    def with_line(at: int, line: bytes) -> list[bytes]:
        return [*lines[:at], line, *lines[at:]]

    return {
        "a number": (with_line(3, b"42"), "line 4 is not a JSON object"),
        "no event": (with_line(3, b'{"epoch": 1}'), 'line 4 has no "event" name'),
        "a field missing": (
            with_line(batch + 1, changed(lines[batch], loss=None)),
            "(BatchLogged): loss is missing, expected a number",
        ),
        "invalid UTF-8": (with_line(3, b'{"event": "Notice", "message": "\xff"}'), "not UTF-8"),
        "total 0 after training lines": (
            [*lines, changed(lines[tested], total=0, correct=0)],
            "(EpochTested): total is 0, expected a whole number ≥ 1",
        ),
        "confusion of another size": (
            [*lines, changed(lines[tested], confusion=[[1, 2], [3, 4]])],
            "confusion is a list of 2, expected 10 rows",
        ),
    }


CASE_NAMES = ["a number", "no event", "a field missing", "invalid UTF-8"]
CASE_NAMES += ["total 0 after training lines", "confusion of another size"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_damaged_log_is_one_line_and_nothing_written(
    case: str, real_log: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, words = cases(real_log)[case]
    run = make_run(tmp_path / "run", lines)
    out = tmp_path / "csv"
    assert main(["export", str(run), "--out", str(out)]) == 2
    line = one_line(capsys)
    assert str(run / "events.jsonl") in line and words in line
    assert "fix or delete that line" in line
    assert not out.exists()  # validated before anything was written
    assert main(["export", str(run)]) == 2  # into the run directory: nothing there either
    capsys.readouterr()
    assert sorted(p.name for p in run.iterdir()) == ["events.jsonl"]


def test_a_torn_last_line_is_skipped_with_a_note(
    real_log: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torn = real_log[-1][: len(real_log[-1]) // 2]
    run = make_run(tmp_path / "run", [*real_log[:-1], torn], end=b"")
    assert main(["export", str(run)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"cnn-tui: note: skipped line {len(real_log)} of {run / 'events.jsonl'}: "
        "cut short by a crash while writing it"
    ]
    assert [Path(p).name for p in captured.out.split()] == CSVS


def test_a_run_dir_that_is_missing_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    assert main(["export", str(missing)]) == 2
    assert f"no events.jsonl in {missing}" in one_line(capsys)
    assert not missing.exists()


def test_a_run_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "run"
    file.write_text("not a folder")
    assert main(["export", str(file)]) == 2
    assert f"{file} is a file, not a run directory" in one_line(capsys)


def test_an_out_that_is_a_file(
    real_log: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", real_log)
    out = tmp_path / "out.csv"
    out.write_text("mine")
    assert main(["export", str(run), "--out", str(out)]) == 2
    assert f"--out {out} is a file, not a folder" in one_line(capsys)
    assert out.read_text() == "mine"


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write: mode 0500, or (for root, whom modes do not stop) a
    read-only tmpfs where this machine lets the test mount one."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if not mount or not umount:
        pytest.skip("root, and no mount(8) for a read-only folder")
    made = subprocess.run([mount, "-t", "tmpfs", "-o", "ro", "tmpfs", str(folder)], check=False)
    if made.returncode != 0:
        pytest.skip("root, and no read-only tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run([umount, "-l", str(folder)], check=False)


def test_an_out_that_is_read_only(
    real_log: list[bytes], tmp_path: Path, read_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", real_log)
    assert main(["export", str(run), "--out", str(read_only)]) == 2
    line = one_line(capsys)
    assert f"cannot write {read_only / 'train.csv'}: " in line
    assert "pass --out with a folder you can write" in line
    assert list(read_only.iterdir()) == []


def test_a_failed_write_leaves_no_temporary_file(
    real_log: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "run", real_log)
    out = tmp_path / "csv"
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        if Path(dst).name == "test.csv":
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(RunLogError, match=r"cannot write .*test\.csv: no space left on device"):
        export_csv(run, out)
    assert sorted(p.name for p in out.iterdir()) == ["train.csv"]  # whole, or not there


# -- any line at all ----------------------------------------------------------------------------
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def replace_somewhere(draw: st.DrawFn, node: dict[str, Any] | list[Any]) -> None:
    """Replace one value at any depth of a record (a field, a mistake, a confusion count)."""
    while True:
        keys: list[Any] = sorted(node) if isinstance(node, dict) else list(range(len(node)))
        key: Any = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and draw(st.booleans()):
            node = child
            continue
        node[key] = draw(json_values)
        return


@st.composite
def log_lines(draw: st.DrawFn, real: list[bytes]) -> bytes:
    lines = list(real)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines)))
        kind = draw(st.sampled_from(["bytes", "json", "field", "metrics", "drop", "cut"]))
        if kind == "metrics":  # the lines export reads: a field of one, at any depth
            metrics = [i for i, line in enumerate(lines) if b'"event": "Epoch' in line]
            metrics += [i for i, line in enumerate(lines) if b'"event": "Batch' in line][:2]
            metrics += [i for i, line in enumerate(lines) if b'"event": "Health' in line][:2]
            at, kind = (draw(st.sampled_from(metrics)), "field") if metrics else (at, "drop")
        if kind == "bytes":
            lines.insert(at, draw(st.binary(max_size=60)))
        elif kind == "json":
            lines.insert(at, json.dumps(draw(json_values)).encode())
        elif lines and kind == "field":
            at = min(at, len(lines) - 1)
            try:
                record = json.loads(lines[at])
            except ValueError:
                continue  # changed already
            if isinstance(record, dict) and record:
                replace_somewhere(draw, record)
                lines[at] = json.dumps(record).encode()
        elif lines and kind == "drop":
            del lines[min(at, len(lines) - 1)]
        elif lines:
            at = min(at, len(lines) - 1)
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
    return b"\n".join(lines) + draw(st.sampled_from([b"\n", b""]))


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_log_exports_or_is_one_line(
    data: st.DataObject, real_log: list[bytes], scratch: Path
) -> None:
    run = scratch / "run"
    out = scratch / "out"
    shutil.rmtree(out, ignore_errors=True)
    run.mkdir(exist_ok=True)
    (run / "events.jsonl").write_bytes(data.draw(log_lines(real_log)))
    try:
        exported = export_csv(run, out)
    except RunLogError as err:
        assert "\n" not in str(err) and "\r" not in str(err)
        assert not out.exists()
        return
    assert [p.name for p in exported.paths][:2] == CSVS[:2]
    assert all("\n" not in note for note in exported.notes)
