"""`strikeflow backtest` over the real 2019-2025 NIFTY data (skipped when the data is absent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.data
RANGE = ["--from", "2019-01-01", "--to", "2025-12-31"]


def test_cli_backtest_when_real_2019_2025_prints_per_signal_stats_and_summary(
    data_dir: Path,
) -> None:
    args = ["backtest", "--data", str(data_dir / "nifty50_1h.csv"), *RANGE]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Per signal 2019-01-01 – 2025-12-31" in out
    rows = [line.split()[1] for line in out.splitlines() if re.match(r"│ S\d ", line)]
    assert rows == [f"S{i}" for i in range(1, 9)]
    for text in ("Summary", "Net P&L", "Max drawdown", "Sharpe", "Sortino", "Profit factor"):
        assert text in out


def test_cli_backtest_when_real_json_lists_every_trade_with_signal_and_entry(
    data_dir: Path,
) -> None:
    args = ["backtest", "--data", str(data_dir), *RANGE, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    trades = doc["trades"]
    assert len(trades) == doc["summary"]["trades"] > 200
    assert all(t["signal"] in doc["per_signal"] and t["entry_time"] for t in trades)
    assert doc["model_price_flag"]["uses_model_prices"] is True
