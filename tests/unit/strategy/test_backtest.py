"""Backtest engine (strategy spec §7) on the hand-computed fixtures with fake ports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from libs.strategy.backtest import (
    MODEL_PRICE_BANNER,
    BacktestConfig,
    BacktestResult,
    FillSource,
    SlippageConfig,
    max_drawdown,
    run_backtest,
    slipped,
)
from libs.strategy.bars import Bar
from libs.strategy.exits import ExitReason
from libs.strategy.ports import ChargeableOrder, PriceQuote, PriceSource
from libs.strategy.signals import SignalId
from libs.strategy.trade import OptionContract, Side
from tests.unit.strategy.builders import FakeCalendar, dec
from tests.unit.strategy.test_golden import fixture_a, fixture_b, fixture_c, ist

NO_SLIP = SlippageConfig(pct=Decimal(0), min_ticks=0)


class TablePricer:
    """Prices from a table keyed by (strike, time); anything else is unknown."""

    def __init__(
        self, table: Mapping[tuple[int, datetime], str], source: PriceSource = PriceSource.MARKET
    ) -> None:
        self.table = table
        self.source = source

    def quote(
        self, contract: OptionContract, at: datetime, index_level: Decimal
    ) -> PriceQuote | None:
        p = self.table.get((contract.strike, at))
        return PriceQuote(dec(p), self.source) if p is not None else None


def flat_charges(order: ChargeableOrder) -> Mapping[str, Decimal]:
    if order.exercise:
        return {"stt": Decimal("1.00")}
    return {"brokerage": Decimal(20)}


def closes(d: date) -> Decimal | None:
    return {date(2024, 7, 11): dec(25050)}.get(d)


def run(
    bars: list[Bar],
    table: Mapping[tuple[int, datetime], str],
    config: BacktestConfig | None = None,
    source: PriceSource = PriceSource.MARKET,
) -> BacktestResult:
    return run_backtest(
        bars,
        config or BacktestConfig(slippage=NO_SLIP),
        pricer=TablePricer(table, source),
        charges=flat_charges,
        calendar=FakeCalendar(),
        official_close=closes,
    )


A_ENTRY, A_EXIT = ist(2025, 9, 15, 11, 15), ist(2025, 9, 15, 14, 15)
A_TABLE = {
    (24600, A_ENTRY): "40",
    (24400, A_ENTRY): "12",
    (24600, A_EXIT): "95",
    (24400, A_EXIT): "30",
}


def test_backtest_when_fixture_a_stopped_computes_pnl_and_charges() -> None:
    res = run(fixture_a(), A_TABLE)
    assert len(res.trades) == 1
    t = res.trades[0]
    assert t.signal.signal_id is SignalId.S1
    assert t.exit.reason is ExitReason.STOP
    assert t.exit.time == A_EXIT
    assert t.gross_pnl == dec(-2775)
    assert t.total_charges == dec(80)
    assert t.net_pnl == dec(-2855)
    assert t.outcome.index_win is False
    assert t.outcome.pnl_win is False
    assert res.overall.index_win_rate == 0.0
    assert res.equity_curve[-1] == (date(2025, 9, 15), dec(500_000) - dec(2855))
    assert not res.uses_model_prices
    assert res.banner is None


def test_backtest_when_default_slippage_fills_move_against_trader() -> None:
    res = run(fixture_a(), A_TABLE, BacktestConfig())
    t = res.trades[0]
    assert t.slippage == dec("131.25")
    assert t.net_pnl == dec(-2855) - dec("131.25")
    main = next(leg for leg in t.legs if leg.side is Side.SELL)
    assert main.entry.fill_price == dec("39.60")
    assert main.exit.fill_price == dec("95.95")


def test_backtest_when_fixture_b_held_to_expiry_settles_at_official_close() -> None:
    entry = ist(2024, 7, 8, 11, 15)
    res = run(fixture_b(), {(25200, entry): "30", (25400, entry): "8"})
    t = res.trades[0]
    assert t.exit.reason is ExitReason.EXPIRY
    assert all(leg.exit.source is FillSource.SETTLEMENT for leg in t.legs)
    assert all(leg.exit.price == 0 for leg in t.legs)
    assert t.gross_pnl == dec(550)
    assert t.total_charges == dec(40)
    assert t.net_pnl == dec(510)
    assert t.outcome.index_win is True
    assert t.outcome.pnl_win is True
    assert res.max_drawdown >= 0


def test_backtest_when_data_ends_with_open_trade_marks_end_of_data() -> None:
    entry = ist(2025, 9, 23, 11, 15)
    res = run(fixture_c(), {(24900, entry): "50", (24700, entry): "20"})
    t = res.trades[0]
    assert t.exit.time == entry  # the last bar closes at the entry time
    assert t.exit.reason is ExitReason.END_OF_DATA
    assert t.outcome.index_win is None
    assert res.overall.index_win_rate is None


def test_backtest_when_model_prices_used_carries_banner() -> None:
    res = run(fixture_a(), A_TABLE, source=PriceSource.MODEL)
    assert res.uses_model_prices
    assert res.banner == MODEL_PRICE_BANNER
    assert res.overall.used_model_prices


def test_backtest_when_entry_price_missing_rejects_and_week_stays_consumed() -> None:
    res = run(fixture_a(), {})
    assert res.trades == ()
    assert len(res.rejected) == 1
    assert "no entry price" in res.rejected[0].reason


def test_slippage_when_small_price_never_below_one_tick() -> None:
    assert slipped(dec("0.05"), Side.SELL, SlippageConfig()) == dec("0.05")
    assert slipped(dec("0.05"), Side.BUY, SlippageConfig()) == dec("0.10")
    assert slipped(dec(100), Side.SELL, SlippageConfig()) == dec(99)


def test_max_drawdown_when_curve_falls_and_recovers_reports_peak_to_trough() -> None:
    dd, pct = max_drawdown([dec(100), dec(120), dec(90), dec(130), dec(125)])
    assert dd == dec(30)
    assert pct == 25.0
