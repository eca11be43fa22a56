"""`strikeflow backtest` and `strikeflow sweep` on synthetic CSV files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.unit.backtest.synthetic import write_csv_dir

runner = CliRunner()
RANGE = ["--from", "2024-01-15", "--to", "2024-04-30"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv_dir(tmp_path_factory.mktemp("data"))


def test_cli_backtest_when_json_prints_one_document_with_trades(data: Path) -> None:
    result = runner.invoke(
        app, ["backtest", "--data", str(data / "nifty50_1h.csv"), *RANGE, "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"summary", "per_signal", "trades"} <= set(doc)
    assert doc["trades"]
    assert all(t["signal"] and t["entry_time"] for t in doc["trades"])


def test_cli_backtest_when_tables_requested_prints_per_signal_and_summary(
    data: Path, tmp_path: Path
) -> None:
    report = tmp_path / "out" / "report.html"
    args = ["backtest", "--data", str(data), *RANGE, "--lots", "2", "--report", str(report)]
    result = runner.invoke(app, [*args, "--show-trades"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("Per signal", "Summary", "S1", "S8", "Net P&L", "Sharpe", "Model prices"):
        assert text in out
    assert "trade.lots=2" in out
    assert report.read_text(encoding="utf-8").count("<svg") > 4


def test_cli_backtest_when_dates_reversed_exits_2_with_message(data: Path) -> None:
    result = runner.invoke(
        app, ["backtest", "--data", str(data), "--from", "2024-03-01", "--to", "2024-01-01"]
    )
    assert result.exit_code == 2
    assert "is after to_date" in result.output


def test_cli_backtest_when_date_malformed_exits_2(data: Path) -> None:
    result = runner.invoke(
        app, ["backtest", "--data", str(data), "--from", "2024-13-01", "--to", "2024-12-01"]
    )
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_cli_backtest_when_data_missing_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", "--data", str(tmp_path / "none"), *RANGE])
    assert result.exit_code == 2
    assert "market data not found" in result.output


def test_cli_sweep_when_json_ranks_every_configuration(data: Path) -> None:
    args = ["sweep", "--data", str(data), *RANGE, "--hedge-offsets", "100,200"]
    args += ["--exit-rules", "expiry,square_off", "--objective", "sharpe", "--workers", "1"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["configurations"] == 4
    assert [r["rank"] for r in doc["rows"]] == [1, 2, 3, 4]


def test_cli_sweep_when_tables_requested_prints_ranked_table(data: Path) -> None:
    args = ["sweep", "--data", str(data), *RANGE, "--lots", "1,2", "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ranked by net_pnl" in result.stdout
    assert "lots" in result.stdout
