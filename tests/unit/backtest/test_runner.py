"""`run_request` document shape and the cached session, on a small synthetic market."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from libs.backtest.runner import (
    BacktestRequest,
    BacktestSession,
    NoDataError,
    backtest_config,
    run_request,
)
from libs.strategy import market_adapter as adapters
from libs.strategy.backtest import MODEL_PRICE_BANNER, run_backtest
from tests.unit.backtest.synthetic import SyntheticSource

FROM, TO = date(2024, 1, 15), date(2024, 4, 30)
TRADE_KEYS = {
    "signal",
    "entry_time",
    "exit_time",
    "exit_reason",
    "legs",
    "charges",
    "net_pnl",
    "uses_model_prices",
    "stop_level",
    "main_strike",
    "hedge_strike",
    "index_win",
    "pnl_win",
}
LEG_KEYS = {"side", "strike", "option_type", "entry_price", "exit_price", "entry_source"}


def request(**kw: object) -> BacktestRequest:
    return BacktestRequest.model_validate({"from_date": FROM, "to_date": TO, **kw})


@pytest.fixture(scope="module")
def document() -> dict[str, object]:
    return run_request(request(), SyntheticSource())


def test_run_request_when_synthetic_source_returns_json_document(
    document: dict[str, object],
) -> None:
    assert {
        "summary",
        "per_signal",
        "trades",
        "equity_curve",
        "config",
        "model_price_flag",
        "run",
    } <= set(document)
    again = json.loads(json.dumps(document))
    assert again == document


def test_run_request_when_trades_exist_each_has_legs_times_and_charges(
    document: dict[str, object],
) -> None:
    trades = document["trades"]
    assert isinstance(trades, list)
    assert trades
    for t in trades:
        assert set(t) >= TRADE_KEYS
        assert t["entry_time"].endswith("Z")
        entry = datetime.fromisoformat(t["entry_time"])
        assert entry.utcoffset() == timedelta(0)
        assert datetime.fromisoformat(t["exit_time"]) >= entry
        assert len(t["legs"]) == 2
        assert all(set(leg) >= LEG_KEYS for leg in t["legs"])
        Decimal(t["net_pnl"])
        assert sum(Decimal(v) for v in t["charges"].values()) == Decimal(t["total_charges"])


def test_run_request_when_per_signal_stats_sum_to_summary(document: dict[str, object]) -> None:
    per = document["per_signal"]
    summary = document["summary"]
    assert isinstance(per, dict)
    assert isinstance(summary, dict)
    assert list(per) == [f"S{i}" for i in range(1, 9)]
    assert sum(s["trades"] for s in per.values()) == summary["trades"]
    total = sum(Decimal(s["total_pnl"]) for s in per.values())
    assert total == Decimal(summary["total_pnl"])
    for key in ("sharpe", "sortino", "expectancy", "profit_factor", "max_drawdown"):
        assert key in summary


def test_run_request_when_model_priced_flags_every_figure(document: dict[str, object]) -> None:
    flag = document["model_price_flag"]
    assert isinstance(flag, dict)
    assert flag["uses_model_prices"] is True
    assert flag["banner"] == MODEL_PRICE_BANNER
    assert document["summary"]["uses_model_prices"] is True  # type: ignore[index]
    assert all(t["uses_model_prices"] for t in document["trades"])  # type: ignore[attr-defined]


def test_run_request_when_equity_curve_starts_at_from_date(document: dict[str, object]) -> None:
    curve = document["equity_curve"]
    assert isinstance(curve, list)
    assert date.fromisoformat(curve[0]["date"]) >= FROM
    final = Decimal(curve[-1]["equity"])
    summary = document["summary"]
    assert final == Decimal(summary["initial_capital"]) + Decimal(summary["total_pnl"])  # type: ignore[index]


def test_run_request_when_hedging_off_trades_have_one_leg_and_deviation() -> None:
    doc = run_request(request(use_hedging=False), SyntheticSource())
    assert all(len(t["legs"]) == 1 for t in doc["trades"])
    assert all(t["hedge_strike"] is None for t in doc["trades"])
    assert doc["config"]["deviations"]["trade.hedge.enabled"]["value"] is False


def test_run_request_when_subset_of_signals_only_those_trade() -> None:
    doc = run_request(request(signals_to_test=["S3"]), SyntheticSource())
    assert list(doc["per_signal"]) == ["S3"]
    assert {t["signal"] for t in doc["trades"]} <= {"S3"}


def test_run_request_when_no_bars_in_range_raises_no_data_error() -> None:
    req = BacktestRequest(from_date=date(2030, 1, 1), to_date=date(2030, 2, 1))
    with pytest.raises(NoDataError, match="no hourly bars"):
        run_request(req, SyntheticSource())


def test_session_when_cached_lookups_used_matches_uncached_engine() -> None:
    source = SyntheticSource()
    req = request(hedge_offset=300, strike_rule="directional50")
    session = BacktestSession(source)
    session.run(request())  # warm the caches with another configuration
    cached = session.run(req)
    vix = adapters.PreviousVixClose(source.vix_closes())
    closes = source.daily_closes()
    plain = run_backtest(
        source.hourly_bars(FROM - timedelta(days=14), TO),
        backtest_config(req),
        pricer=adapters.ModelPricer(vix),
        charges=adapters.MarketCharges(),
        calendar=adapters.MarketCalendar(),
        official_close=closes.get,
        muhurat_dates=adapters.muhurat_dates(),
    )
    assert cached.trades == plain.trades
    assert cached.equity_curve == plain.equity_curve


def test_bars_by_week_when_weeks_given_returns_only_those() -> None:
    session = BacktestSession(SyntheticSource())
    weeks = session.bars_by_week(request(), [date(2024, 2, 5)])
    assert list(weeks) == [date(2024, 2, 5)]
    assert len(weeks[date(2024, 2, 5)]) == 35
