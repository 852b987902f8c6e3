"""``cnn-tui compare``: two real runs, their differences and figures read back from their logs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cnn_tui.cli import main
from cnn_tui.runs.record import read_record

HEADLESS = ["--headless", "--log-interval", "10", "--epochs", "1"]


def events_in(run_dir: Path, name: str) -> list[dict[str, object]]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == name]


def passes_in(run_dir: Path) -> list[dict[str, object]]:
    return events_in(run_dir, "EpochTested")


def seen_logged(run_dir: Path) -> list[int]:
    return [int(e["examples_seen"]) for e in events_in(run_dir, "BatchLogged")]  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("runs")
    slow, fast = home / "slow", home / "fast"
    assert main([*HEADLESS, "--run-dir", str(slow)]) == 0
    assert main([*HEADLESS, "--run-dir", str(fast), "--lr", "0.05"]) == 0
    return slow, fast


def test_the_table_names_what_differs_and_the_figures_each_log_holds(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    slow, fast = two_runs
    assert main(["compare", str(slow), str(fast), "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header, *body = rows
    assert header[:2] == ["run", "lr"]  # only lr differs: seed, momentum, batch... are left out
    assert "momentum" not in header and "seed" not in header
    assert [row[1] for row in body] == ["0.01", "0.05"]
    for run_dir, row in zip((slow, fast), body, strict=True):
        record = read_record(run_dir)
        assert record is not None and row[0] == record.id
        final = passes_in(run_dir)[-1]
        expected = 100 * int(final["correct"]) / int(final["total"])  # type: ignore[call-overload]
        assert row[header.index("final test acc")] == f"{expected:.2f}%"
        best = max(int(t["correct"]) / int(t["total"]) for t in passes_in(run_dir))  # type: ignore[call-overload]
        assert row[header.index("best test acc")] == f"{100 * best:.2f}%"
        assert float(row[header.index("samples/s")].replace(",", "")) > 0
    last = min(max(seen_logged(run_dir)) for run_dir in two_runs)
    assert f"train loss @{last:,}" in header  # the most examples both runs' logs have seen


def test_the_text_table_lines_up(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    slow, fast = two_runs
    assert main(["compare", str(slow), str(fast)]) == 0
    header, first, second = capsys.readouterr().out.splitlines()
    column = header.index("final test acc")
    assert first[column - 2 : column] == "  " and first[column] != " "  # a column of its own
    assert second.split()[1] == "0.05"


def test_a_run_that_is_not_one_is_one_line(
    two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(two_runs[0]), str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cnn-tui: error:") and "\n" not in err
