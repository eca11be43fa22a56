"""Cross-checks of strategy spec §10.3 on the shared NIFTY data (skipped when absent)."""

from __future__ import annotations

import bisect
import csv
import os
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from libs.data.bars_csv import load_bars_csv, load_daily_closes
from libs.strategy.bars import Bar, SessionFilterMode, filter_sessions, group_weeks
from libs.strategy.exits import ExitConfig, ExitMonitor, ExitReason
from libs.strategy.signals import Direction, OptionType, Signal, evaluate_history
from libs.strategy.trade import TradeConfig, build_trade

pytestmark = pytest.mark.data

DATA_DIR = Path(
    os.environ.get(
        "STRIKEFLOW_DATA_DIR", str(Path(__file__).resolve().parents[4] / "shared" / "data")
    )
)
HOURLY = DATA_DIR / "nifty50_1h.csv"
FROM, TO = date(2019, 1, 1), date(2025, 12, 31)

if not HOURLY.exists():
    pytest.skip(f"shared data not found at {DATA_DIR}", allow_module_level=True)


@cache
def hourly_bars() -> tuple[Bar, ...]:
    return tuple(load_bars_csv(HOURLY, FROM - timedelta(days=14), TO))


@cache
def signals() -> tuple[Signal, ...]:
    return tuple(s for s in evaluate_history(hourly_bars()) if s.week_start >= FROM)


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def holidays() -> set[date]:
    return {date.fromisoformat(r["date"]) for r in read_csv("nse_holidays.csv")}


def test_real_bars_when_weekday_not_holiday_have_seven_regular_bars() -> None:
    by_day: dict[date, list[Bar]] = defaultdict(list)
    for b in hourly_bars():
        if FROM <= b.day <= TO:
            by_day[b.day].append(b)
    hol = holidays()
    short: dict[date, int] = {}
    d = FROM
    while d <= TO:
        if d.weekday() < 5 and d not in hol:
            n = sum(1 for b in by_day.get(d, []) if b.is_regular_time)
            if n != 7:
                short[d] = n
        d += timedelta(days=1)
    assert short == {date(2021, 2, 24): 2}


def test_real_bars_when_regular_filter_drops_bars_days_are_special_sessions() -> None:
    bars = [b for b in hourly_bars() if FROM <= b.day <= TO]
    kept = set(filter_sessions(bars, SessionFilterMode.REGULAR))
    dropped_days = {b.day for b in bars if b not in kept}
    special = {date.fromisoformat(r["date"]) for r in read_csv("nse_special_sessions.csv")}
    assert dropped_days == special


def test_real_bars_when_default_filter_drops_only_muhurat_sessions() -> None:
    bars = [b for b in hourly_bars() if FROM <= b.day <= TO]
    kept = set(filter_sessions(bars, SessionFilterMode.TRADING_SESSIONS))
    dropped_days = {b.day for b in bars if b not in kept}
    muhurat = {
        date.fromisoformat(r["date"])
        for r in read_csv("nse_special_sessions.csv")
        if "Muhurat" in r["session_type"]
    }
    assert dropped_days == muhurat
    both = filter_sessions(bars, SessionFilterMode.TRADING_SESSIONS, muhurat)
    assert both == [b for b in bars if b in kept]


def test_real_history_when_default_config_every_week_holds_properties() -> None:
    weeks = {w.start: w for w in group_weeks(hourly_bars())}
    seen: set[date] = set()
    for s in signals():
        assert s.week_start not in seen
        seen.add(s.week_start)
        assert s.bar_index >= 2
        assert s.bar_start != weeks[s.week_start].first_bar.start
        if s.direction is Direction.BULLISH:
            assert s.option_type is OptionType.PE
            assert s.close > s.stop_level
        else:
            assert s.option_type is OptionType.CE
            assert s.close < s.stop_level


# Reviewed snapshot of derived figures (default configuration, weeks 2019-01-07 .. 2025-12-29).
SNAPSHOT_COUNTS = {
    "S1": 18,
    "S2": 26,
    "S3": 43,
    "S4": 40,
    "S5": 15,
    "S6": 7,
    "S7": 98,
    "S8": 6,
}
SNAPSHOT_FIRST = ("S1", "2019-01-14T10:15:00+05:30")
SNAPSHOT_LAST = ("S4", "2025-12-22T13:15:00+05:30")
SNAPSHOT_STOPS = {"S1": 4, "S2": 7, "S3": 17, "S4": 10, "S5": 6, "S6": 5, "S7": 29, "S8": 4}


def test_real_history_when_default_config_matches_reviewed_snapshot() -> None:
    sigs = signals()
    counts = Counter(s.signal_id.value for s in sigs)
    assert dict(counts) == SNAPSHOT_COUNTS
    assert (sigs[0].signal_id.value, sigs[0].bar_start.isoformat()) == SNAPSHOT_FIRST
    assert (sigs[-1].signal_id.value, sigs[-1].bar_start.isoformat()) == SNAPSHOT_LAST


def test_real_history_when_trades_built_expiries_are_listed_and_index_outcomes_stable() -> None:
    market_adapter = pytest.importorskip("libs.strategy.market_adapter")
    cal = market_adapter.MarketCalendar()
    listed = {
        date.fromisoformat(r["expiry_date"]) for r in read_csv("nifty_expiries_2019_2025.csv")
    }
    bars = hourly_bars()
    starts = [b.start for b in bars]
    stops: Counter[str] = Counter()
    for s in signals():
        t = build_trade(s, TradeConfig(), cal)
        assert t.expiry in listed
        assert t.expiry > t.entry_time.date()
        mon = ExitMonitor(t.direction, t.stop_level, t.entry_time, t.expiry, ExitConfig(), cal)
        ev = None
        for b in bars[bisect.bisect_left(starts, t.entry_time) :]:
            ev = mon.on_bar(b)
            if ev is not None:
                break
        assert ev is not None
        if ev.reason is ExitReason.STOP:
            stops[s.signal_id.value] += 1
    assert dict(stops) == SNAPSHOT_STOPS


def test_real_settlement_when_expiry_day_official_close_differs_from_1515_close() -> None:
    closes = load_daily_closes(DATA_DIR / "nifty50_1d.csv")
    last_bar = {b.day: b for b in hourly_bars()}
    expiries = [
        date.fromisoformat(r["expiry_date"])
        for r in read_csv("nifty_expiries_2019_2025.csv")
        if r["expiry_type"] == "weekly"
    ]
    diffs = [
        abs(closes[d] - last_bar[d].close)
        for d in expiries
        if d in closes and d in last_bar and last_bar[d].is_regular_time
    ]
    assert len(diffs) > 300
    assert Decimal(3) <= statistics.median(diffs) <= Decimal(20)
    assert closes[date(2025, 9, 16)] == Decimal("25239.10")


def test_real_backtest_when_model_priced_reports_consistent_figures() -> None:
    adapter = pytest.importorskip("libs.strategy.market_adapter")
    from libs.strategy.backtest import BacktestConfig, run_backtest

    closes = load_daily_closes(DATA_DIR / "nifty50_1d.csv")
    vix = load_daily_closes(DATA_DIR / "indiavix_1d.csv")
    res = run_backtest(
        hourly_bars(),
        BacktestConfig(start=FROM),
        pricer=adapter.ModelPricer(adapter.PreviousVixClose(vix)),
        charges=adapter.MarketCharges(),
        calendar=adapter.MarketCalendar(),
        official_close=closes.get,
        muhurat_dates=adapter.muhurat_dates(),
    )
    assert len(res.trades) == sum(SNAPSHOT_COUNTS.values())
    assert res.rejected == ()
    stops = sum(1 for t in res.trades if t.exit.reason is ExitReason.STOP)
    assert stops == sum(SNAPSHOT_STOPS.values())
    assert res.uses_model_prices
    assert res.banner is not None
    assert res.equity_curve[-1][1] == res.initial_capital + res.overall.net_pnl
    assert res.overall.charges > 0
    assert res.max_drawdown >= 0
    assert all(t.exit.time >= t.plan.entry_time for t in res.trades)
