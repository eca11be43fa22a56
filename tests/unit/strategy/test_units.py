"""Unit tests of bars, trade construction and exits (strategy spec §1, §4, §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from libs.strategy.bars import (
    IST,
    Bar,
    SessionFilterMode,
    bar_close_time,
    filter_sessions,
    group_weeks,
    ist_datetime,
)
from libs.strategy.exits import (
    ExitConfig,
    ExitMonitor,
    ExitReason,
    ProfitLockConfig,
    SquareOffConfig,
    TrailingConfig,
    classify_outcome,
    intrinsic_value,
    profit_lock_level,
)
from libs.strategy.signals import Direction, OptionType, SignalId
from libs.strategy.trade import (
    HedgeConfig,
    HedgeMethod,
    LateSignal,
    StopRule,
    StrikeRule,
    TradeConfig,
    TradeRejected,
    atm_strike,
    build_trade,
    directional50,
    freeze_slices,
    hedge_premium_ratio_strike,
    live_entry_time,
    round100,
)
from tests.unit.strategy.builders import FakeCalendar, bar_at, dec
from tests.unit.strategy.test_golden import fixture_a, fixture_c, ist, only_signal

CAL = FakeCalendar()

# --- bars ----------------------------------------------------------------------------------


def test_bar_close_time_when_1515_bar_closes_at_1530() -> None:
    assert bar_close_time(ist(2025, 9, 15, 15, 15)) == ist(2025, 9, 15, 15, 30)
    assert bar_close_time(ist(2025, 9, 15, 9, 15)) == ist(2025, 9, 15, 10, 15)


def test_bar_close_time_when_start_in_utc_returns_ist() -> None:
    utc = datetime(2025, 9, 15, 9, 45, tzinfo=ZoneInfo("UTC"))  # 15:15 IST
    assert bar_close_time(utc) == ist(2025, 9, 15, 15, 30)


def test_bar_when_naive_start_rejected() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        Bar(datetime(2025, 9, 15, 9, 15), dec(1), dec(1), dec(1), dec(1))  # noqa: DTZ001


def _b(d: date, hh: int, mm: int) -> Bar:
    return Bar(ist_datetime(d, time(hh, mm)), dec(1), dec(1), dec(1), dec(1))


def test_session_filter_when_muhurat_and_outage_bars_mixed_drops_only_muhurat() -> None:
    outage = date(2021, 2, 24)
    bars = [
        _b(outage, 9, 15),
        _b(outage, 15, 15),
        _b(outage, 16, 15),
        _b(date(2021, 11, 4), 18, 0),
        _b(date(2025, 10, 21), 13, 45),
        _b(date(2024, 3, 2), 11, 15),  # Saturday DR session
    ]
    kept = filter_sessions(bars, SessionFilterMode.TRADING_SESSIONS)
    assert kept == [bars[0], bars[1], bars[2], bars[5]]
    regular = filter_sessions(bars, SessionFilterMode.REGULAR)
    assert regular == [bars[0], bars[1]]
    assert filter_sessions(bars, SessionFilterMode.AS_CHARTED) == bars


def test_group_weeks_when_saturday_session_belongs_to_its_monday_week() -> None:
    bars = [
        _b(date(2024, 1, 19), 9, 15),
        _b(date(2024, 1, 20), 9, 15),
        _b(date(2024, 1, 23), 9, 15),
    ]
    weeks = list(group_weeks(bars))
    assert [w.start for w in weeks] == [date(2024, 1, 15), date(2024, 1, 22)]
    assert len(weeks[0].bars) == 2


# --- strikes and trade construction --------------------------------------------------------


def test_round100_when_tie_rounds_up_not_to_even() -> None:
    assert round100(dec(24850)) == 24900
    assert round(24850, -2) == 24800  # what ties-to-even would give
    assert round100(dec("24849.95")) == 24800


def test_directional50_when_sl_just_above_multiple_uses_exact_ceiling() -> None:
    assert directional50(dec("25000.5"), OptionType.CE) == 25050
    assert directional50(dec("25000.5"), OptionType.PE) == 25000
    assert directional50(dec(25000), OptionType.CE) == 25000


def test_atm_strike_when_close_on_half_rounds_up() -> None:
    assert atm_strike(dec(24925)) == 24950
    assert atm_strike(dec("24924.95")) == 24900


def test_build_trade_when_strike_stop_rule_uses_strike_as_stop() -> None:
    sig = only_signal(fixture_a())
    t = build_trade(sig, TradeConfig(sl_rule=StopRule.STRIKE), CAL)
    assert t.stop_level == dec(24600)
    t2 = build_trade(sig, TradeConfig(strike_rule=StrikeRule.DIRECTIONAL50), CAL)
    assert t2.main.contract.strike == 24600


def test_build_trade_when_no_hedge_has_only_main_leg() -> None:
    t = build_trade(only_signal(fixture_a()), TradeConfig(hedge=HedgeConfig(enabled=False)), CAL)
    assert t.hedge is None
    assert t.legs == (t.main,)


def test_build_trade_when_many_lots_splits_at_freeze_quantity() -> None:
    t = build_trade(only_signal(fixture_a()), TradeConfig(lots=30), CAL)
    assert t.quantity == 2250
    assert t.main.slices == (1800, 450)
    assert freeze_slices(27 * 65, 65, 1800) == (1755,)
    assert freeze_slices(30 * 65, 65, 1800) == (1755, 195)


def test_build_trade_when_entry_on_friday_before_diwali_expiry_shifts_to_monday() -> None:
    sig = only_signal(fixture_a())
    t = build_trade(sig, TradeConfig(), CAL, entry_time=ist(2025, 10, 17, 11, 15))
    assert t.expiry == date(2025, 10, 20)


def test_build_trade_when_strike_not_listed_rejected() -> None:
    with pytest.raises(TradeRejected, match="not listed"):
        build_trade(only_signal(fixture_a()), TradeConfig(), CAL, strike_listed=lambda c: False)


def test_live_entry_time_when_1515_signal_queues_for_next_open_or_skips() -> None:
    sig = only_signal(fixture_c())
    late = replace(sig, bar_start=ist(2025, 9, 26, 15, 15), bar_close_time=ist(2025, 9, 26, 15, 30))
    assert live_entry_time(late, TradeConfig(), CAL) == ist(2025, 9, 29, 9, 15)
    assert live_entry_time(late, TradeConfig(late_signal=LateSignal.SKIP), CAL) is None
    assert live_entry_time(sig, TradeConfig(), CAL) == sig.bar_close_time


def test_hedge_premium_ratio_when_prices_known_picks_closest_to_ratio() -> None:
    prices = {24500: dec(30), 24450: dec(20), 24400: dec(13), 24350: dec(9)}
    k = hedge_premium_ratio_strike(24600, OptionType.PE, dec(60), dec("0.30"), prices.get)
    assert k == 24450  # 20 is closest to 18
    with pytest.raises(TradeRejected):
        hedge_premium_ratio_strike(24600, OptionType.PE, dec(60), dec("0.30"), lambda k: None)


def test_build_trade_when_premium_ratio_without_prices_fails_loudly() -> None:
    cfg = TradeConfig(hedge=HedgeConfig(method=HedgeMethod.PREMIUM_RATIO))
    with pytest.raises(TradeRejected, match="price"):
        build_trade(only_signal(fixture_a()), cfg, CAL)


# --- exits ---------------------------------------------------------------------------------

ENTRY = ist(2025, 9, 15, 11, 15)


def _bars_from(day: date, closes: list[int]) -> list[Bar]:
    out: list[Bar] = []
    slot, d = 2, day
    for c in closes:
        out.append(bar_at(d, slot, (c, c, c, c)))
        slot += 1
        if slot == 7:
            slot, d = 0, d + timedelta(days=1)
    return out


def test_exit_when_bearish_close_equals_stop_stops() -> None:
    mon = ExitMonitor(Direction.BEARISH, dec(25000), ENTRY, date(2025, 9, 16), ExitConfig(), CAL)
    ev = mon.on_bar(bar_at(date(2025, 9, 15), 2, (24990, 25000, 24980, 25000)))
    assert ev is not None
    assert ev.reason is ExitReason.STOP


def test_exit_when_stop_on_expiry_day_last_bar_recorded_stop_priced_as_settlement() -> None:
    mon = ExitMonitor(Direction.BULLISH, dec(24640), ENTRY, date(2025, 9, 16), ExitConfig(), CAL)
    ev = mon.on_bar(bar_at(date(2025, 9, 16), 6, (24650, 24650, 24600, 24610)))
    assert ev is not None
    assert ev.reason is ExitReason.STOP
    assert ev.settle


def test_exit_when_expiry_last_bar_missing_settles_on_next_bar() -> None:
    mon = ExitMonitor(Direction.BULLISH, dec(24000), ENTRY, date(2025, 9, 16), ExitConfig(), CAL)
    ev = mon.on_bar(bar_at(date(2025, 9, 17), 0, (25000, 25000, 25000, 25000)))
    assert ev is not None
    assert ev.reason is ExitReason.EXPIRY
    assert ev.time == ist(2025, 9, 16, 15, 30)
    assert ev.index_level is None


def test_exit_when_square_off_enabled_closes_at_1515_of_nth_day() -> None:
    cfg = ExitConfig(square_off=SquareOffConfig(enabled=True, trading_days_after_entry=1))
    mon = ExitMonitor(Direction.BULLISH, dec(24000), ENTRY, date(2025, 9, 23), cfg, CAL)
    events = [(b.start, mon.on_bar(b)) for b in _bars_from(date(2025, 9, 15), [25000] * 12)]
    start, ev = next((s, e) for s, e in events if e is not None)
    assert start == ist(2025, 9, 16, 14, 15)
    assert ev is not None
    assert ev.reason is ExitReason.SQUARE_OFF
    assert ev.time == ist(2025, 9, 16, 15, 15)


def test_exit_when_profit_lock_target_seen_then_below_lock_exits() -> None:
    cfg = ExitConfig(profit_lock=ProfitLockConfig(enabled=True))
    mon = ExitMonitor(Direction.BULLISH, dec(24000), ENTRY, date(2025, 9, 23), cfg, CAL)
    bars = _bars_from(date(2025, 9, 15), [25000] * 4)
    assert mon.on_bar(bars[0], dec(4)) is None  # below lock but target never seen
    assert mon.on_bar(bars[1], dec(12)) is None
    assert mon.on_bar(bars[2], dec(6)) is None
    ev = mon.on_bar(bars[3], dec("4.9"))
    assert ev is not None
    assert ev.reason is ExitReason.PROFIT_LOCK


def test_exit_when_trailing_lock_rises_with_peak() -> None:
    cfg = ExitConfig(
        profit_lock=ProfitLockConfig(enabled=True), trailing=TrailingConfig(enabled=True)
    )
    assert profit_lock_level(cfg, dec("13.7")) == dec(8)
    mon = ExitMonitor(Direction.BULLISH, dec(24000), ENTRY, date(2025, 9, 23), cfg, CAL)
    bars = _bars_from(date(2025, 9, 15), [25000] * 3)
    assert mon.on_bar(bars[0], dec("13.7")) is None
    assert mon.on_bar(bars[1], dec("8.5")) is None
    ev = mon.on_bar(bars[2], dec("7.9"))
    assert ev is not None
    assert ev.reason is ExitReason.TRAILING


def test_exit_when_bar_before_entry_ignored() -> None:
    mon = ExitMonitor(Direction.BULLISH, dec(30000), ENTRY, date(2025, 9, 16), ExitConfig(), CAL)
    assert mon.on_bar(bar_at(date(2025, 9, 15), 1, (25000, 25000, 25000, 25000))) is None


def test_outcome_when_expiry_with_loss_index_win_but_pnl_loss() -> None:
    o = classify_outcome(ExitReason.EXPIRY, dec(-10))
    assert o.index_win is True
    assert o.pnl_win is False
    assert intrinsic_value(OptionType.PE, 24600, dec(24500)) == dec(100)
    assert intrinsic_value(OptionType.CE, 24600, dec(24500)) == 0


def test_signal_ids_when_bullish_map_to_pe() -> None:
    assert {s for s in SignalId if s.direction.option_type is OptionType.PE} == {
        SignalId.S1,
        SignalId.S2,
        SignalId.S4,
        SignalId.S7,
    }
    assert IST.key == "Asia/Kolkata"
    assert Decimal("0.05") * 5 == Decimal("0.25")
