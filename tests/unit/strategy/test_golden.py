"""Hand-computed fixtures of strategy spec §10.1, plus near misses for every signal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from libs.strategy.bars import IST, Bar
from libs.strategy.context import Bias, FourHourBuckets, build_context, four_hour_bodies
from libs.strategy.exits import (
    ExitConfig,
    ExitMonitor,
    ExitReason,
    classify_outcome,
    intrinsic_value,
)
from libs.strategy.signals import (
    ALL_SIGNALS,
    OptionType,
    S8Touch,
    Signal,
    SignalConfig,
    SignalId,
    evaluate_history,
)
from libs.strategy.trade import TradeConfig, TradePlan, build_trade
from tests.unit.strategy.builders import (
    BEAR_FRIDAY,
    BULL_FRIDAY,
    FakeCalendar,
    Row,
    bar_at,
    day_bars,
    dec,
    flat_bars_until,
    previous_week,
)

CAL = FakeCalendar()


def ist(y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=IST)


def only_signal(bars: list[Bar], config: SignalConfig | None = None) -> Signal:
    sigs = evaluate_history(bars, config)
    assert len(sigs) == 1, sigs
    return sigs[0]


def trade_of(sig: Signal) -> TradePlan:
    return build_trade(sig, TradeConfig(), CAL)


def bull_prev(monday: date) -> list[Bar]:
    return previous_week(monday, BULL_FRIDAY)


def bear_prev(monday: date, holidays: tuple[date, ...] = ()) -> list[Bar]:
    return previous_week(monday, BEAR_FRIDAY, holidays)


# --- contexts -----------------------------------------------------------------------------


def test_context_when_bull_friday_matches_spec_values() -> None:
    bars = bull_prev(date(2025, 9, 8))
    bodies = four_hour_bodies(bars, FourHourBuckets.SESSION)
    assert [(b.open, b.close) for b in bodies[-2:]] == [
        (dec(24850), dec(25250)),
        (dec(25250), dec(24900)),
    ]
    assert all((b.open, b.close) == (dec(25000), dec(25000)) for b in bodies[:-2])
    ctx = build_context(date(2025, 9, 15), date(2025, 9, 8), bars)
    assert (ctx.pwh, ctx.pwl, ctx.pwc) == (dec(25300), dec(24800), dec(24900))
    assert (ctx.max_body, ctx.min_body) == (dec(25250), dec(24850))
    assert (ctx.uzt, ctx.uzb, ctx.lzt, ctx.lzb) == (dec(25300), dec(25250), dec(24850), dec(24800))
    assert ctx.margin_high == ctx.margin_low == dec(150)
    assert (ctx.dist_resistance, ctx.dist_support) == (dec(350), dec(50))
    assert ctx.bias is Bias.BULL


def test_context_when_bear_friday_matches_spec_values() -> None:
    ctx = build_context(date(2024, 7, 8), date(2024, 7, 1), bear_prev(date(2024, 7, 1)))
    assert (ctx.pwh, ctx.pwl, ctx.pwc) == (dec(25200), dec(24700), dec(25100))
    assert (ctx.max_body, ctx.min_body) == (dec(25150), dec(24750))
    assert (ctx.uzt, ctx.uzb, ctx.lzt, ctx.lzb) == (dec(25200), dec(25150), dec(24750), dec(24700))
    assert ctx.margin_high == ctx.margin_low == dec(150)
    assert (ctx.dist_resistance, ctx.dist_support) == (dec(50), dec(350))
    assert ctx.bias is Bias.BEAR


def test_context_when_equal_distances_bias_neutral_and_margin_floor() -> None:
    d = date(2025, 9, 8)
    bars = [
        bar_at(d, 0, (100, 110, 100, 110)),
        bar_at(d, 1, (110, 120, 110, 120)),
        bar_at(d, 4, (120, 120, 110, 110)),
    ]
    ctx = build_context(date(2025, 9, 15), d, bars)
    # bodies 100 -> 120 and 120 -> 110: MaxB 120, MinB 100, PWC 110, dR = dS = 10
    assert (ctx.max_body, ctx.min_body, ctx.pwc) == (dec(120), dec(100), dec(110))
    assert ctx.bias is Bias.NEUTRAL
    assert ctx.margin_high == ctx.margin_low == Decimal("0.25")


def test_four_hour_bodies_when_clock_buckets_split_at_noon() -> None:
    bars = day_bars(date(2025, 9, 12), BULL_FRIDAY)
    bodies = four_hour_bodies(bars, FourHourBuckets.CLOCK)
    # 09:15-11:15 then 12:15-15:15
    assert [(b.open, b.close) for b in bodies] == [
        (dec(24850), dec(25200)),
        (dec(25200), dec(24900)),
    ]


# --- fixture A: S1 stopped out -------------------------------------------------------------

A_MONDAY = date(2025, 9, 15)
A_ROWS: list[Row] = [
    (24820, 24840, 24700, 24760),
    (24760, 24850, 24740, 24830),
    (24830, 24860, 24780, 24800),
    (24800, 24810, 24700, 24720),
    (24720, 24730, 24600, 24630),
]


def fixture_a(rows: list[Row] | None = None) -> list[Bar]:
    return bull_prev(date(2025, 9, 8)) + day_bars(A_MONDAY, rows or A_ROWS)


def test_s1_when_fixture_a_fires_on_bar_2_with_spec_trade() -> None:
    sig = only_signal(fixture_a())
    assert sig.signal_id is SignalId.S1
    assert sig.bar_index == 2
    assert sig.bar_start == ist(2025, 9, 15, 10, 15)
    assert sig.bar_close_time == ist(2025, 9, 15, 11, 15)
    assert sig.stop_level == dec(24640)
    assert sig.option_type is OptionType.PE
    t = trade_of(sig)
    assert t.main.contract.strike == 24600
    assert t.hedge is not None
    assert t.hedge.contract.strike == 24400
    assert t.entry_time == ist(2025, 9, 15, 11, 15)
    assert t.entry_level == dec(24830)
    assert t.expiry == date(2025, 9, 16)
    assert t.lot_size == 75
    assert t.quantity == 75


def test_s1_when_fixture_a_stop_hit_on_1315_close_exits_1415() -> None:
    bars = fixture_a()
    t = trade_of(only_signal(bars))
    mon = ExitMonitor(t.direction, t.stop_level, t.entry_time, t.expiry, ExitConfig(), CAL)
    events = [(b.start, mon.on_bar(b)) for b in bars]
    fired = [(s, e) for s, e in events if e is not None]
    start, ev = fired[0]
    assert start == ist(2025, 9, 15, 13, 15)
    assert ev is not None
    assert ev.reason is ExitReason.STOP
    assert ev.time == ist(2025, 9, 15, 14, 15)
    assert ev.index_level == dec(24630)
    assert classify_outcome(ev.reason, Decimal(-1)).index_win is False


def test_s1_when_second_close_not_above_first_low_no_signal_on_bar_2() -> None:
    rows = [A_ROWS[0], (24760, 24850, 24690, 24700)]
    assert evaluate_history(fixture_a(rows)) == []


def test_s1_when_first_open_below_lzb_not_s1_but_later_s5() -> None:
    rows = [(24790, 24840, 24700, 24760), *A_ROWS[1:]]
    sig = only_signal(fixture_a(rows))
    # F.O < LZB and F.C < PWL under BULL bias: S5 on the first close below F.L (13:15 bar)
    assert sig.signal_id is SignalId.S5
    assert sig.bar_start == ist(2025, 9, 15, 13, 15)
    assert sig.stop_level == dec(24840)


# --- fixture B: S3 beats S6, disabled signals ---------------------------------------------

B_PREV = date(2024, 7, 1)
B_MONDAY = date(2024, 7, 8)


def fixture_b(first: Row = (25120, 25180, 25060, 25140)) -> list[Bar]:
    week = [bar_at(B_MONDAY, 0, first), bar_at(B_MONDAY, 1, (25140, 25160, 25050, 25080))]
    week += flat_bars_until(B_MONDAY, 2, date(2024, 7, 12), (25050, 25050, 25050, 25050))
    return bear_prev(B_PREV) + week


def test_s3_when_fixture_b_beats_s6_and_settles_at_expiry() -> None:
    bars = fixture_b()
    sig = only_signal(bars)
    assert sig.signal_id is SignalId.S3
    assert sig.bar_index == 2
    assert sig.stop_level == dec(25200)
    assert sig.option_type is OptionType.CE
    t = trade_of(sig)
    assert t.main.contract.strike == 25200
    assert t.hedge is not None
    assert t.hedge.contract.strike == 25400
    assert t.entry_time == ist(2024, 7, 8, 11, 15)
    assert t.entry_level == dec(25080)
    assert t.expiry == date(2024, 7, 11)
    assert t.lot_size == 25
    mon = ExitMonitor(t.direction, t.stop_level, t.entry_time, t.expiry, ExitConfig(), CAL)
    ev = next(e for b in bars if (e := mon.on_bar(b)) is not None)
    assert ev.reason is ExitReason.EXPIRY
    assert ev.settle
    assert ev.time == ist(2024, 7, 11, 15, 30)
    official = dec(25050)
    assert intrinsic_value(OptionType.CE, 25200, official) == 0
    assert intrinsic_value(OptionType.CE, 25400, official) == 0
    assert classify_outcome(ev.reason, Decimal(1)).index_win is True


def test_s6_when_fixture_b_with_s3_disabled_fires_same_bar() -> None:
    cfg = SignalConfig(enabled=ALL_SIGNALS - {SignalId.S3})
    sig = only_signal(fixture_b(), cfg)
    assert sig.signal_id is SignalId.S6
    assert sig.bar_index == 2
    assert sig.stop_level == dec(25200)


def test_fixture_b_when_s3_and_s6_disabled_no_signal_all_week() -> None:
    cfg = SignalConfig(enabled=ALL_SIGNALS - {SignalId.S3, SignalId.S6})
    assert evaluate_history(fixture_b(), cfg) == []


def test_fixture_b_when_disabled_signal_consumes_week_nothing_fires() -> None:
    cfg = SignalConfig(enabled=ALL_SIGNALS - {SignalId.S3}, disabled_signal_consumes_week=True)
    assert evaluate_history(fixture_b(), cfg) == []


def test_s3_when_first_open_too_far_from_uzb_s6_fires_instead() -> None:
    sig = only_signal(fixture_b(first=(24990, 25180, 24980, 25140)))
    assert sig.signal_id is SignalId.S6
    assert sig.bar_index == 2


# --- fixture C: S7 from an armed breakout ---------------------------------------------------

C_PREV = date(2025, 9, 15)
C_MONDAY = date(2025, 9, 22)
C_TUESDAY = date(2025, 9, 23)


def fixture_c(
    tue_1015: Row = (25100, 25140, 25090, 25130), extra: list[Row] | None = None
) -> list[Bar]:
    week = [bar_at(C_MONDAY, 0, (25000, 25050, 24850, 25020))]
    week += [bar_at(C_MONDAY, s, (25020, 25045, 24990, 25010)) for s in range(1, 7)]
    week += day_bars(C_TUESDAY, [(25040, 25120, 25030, 25100), tue_1015, *(extra or [])])
    return bull_prev(C_PREV) + week


def test_s7_when_fixture_c_armed_breakout_fires_on_bar_9() -> None:
    sig = only_signal(fixture_c())
    assert sig.signal_id is SignalId.S7
    assert sig.bar_index == 9
    assert sig.bar_start == ist(2025, 9, 23, 10, 15)
    assert sig.stop_level == dec(24850)
    t = trade_of(sig)
    assert t.main.contract.strike == 24900  # tie rounds up
    assert t.hedge is not None
    assert t.hedge.contract.strike == 24700
    assert t.entry_time == ist(2025, 9, 23, 11, 15)
    assert t.entry_level == dec(25130)
    assert t.expiry == date(2025, 9, 30)
    assert t.lot_size == 75


def test_breakout_when_fixture_c_arms_on_tuesday_0915_without_firing() -> None:
    from libs.strategy.signals import SignalEngine

    eng = SignalEngine()
    bars = fixture_c()
    for b in bars[:-1]:
        assert eng.on_bar(b) is None
    assert eng.week is not None
    assert eng.week.breakout.armed == dec(25120)
    assert not eng.week.breakout.fired


def test_s7_when_close_within_040pct_below_pwh_rejected_and_engine_latched() -> None:
    bars = fixture_c(tue_1015=(25100, 25220, 25090, 25210), extra=[(25210, 25320, 25200, 25310)])
    assert evaluate_history(bars) == []


# --- fixture D: S8 needs the current bar to touch the zone ---------------------------------

D_PREV = date(2024, 7, 15)
D_MONDAY = date(2024, 7, 22)


def fixture_d(bar3_high: int = 25000) -> list[Bar]:
    week = day_bars(
        D_MONDAY,
        [
            (24950, 25000, 24900, 24960),
            (24960, 25160, 24950, 24990),
            (24990, bar3_high, 24850, 24870),
        ],
    )
    week += flat_bars_until(D_MONDAY, 3, date(2024, 7, 26), (24870, 24880, 24860, 24870))
    return bear_prev(D_PREV, (date(2024, 7, 17),)) + week


def test_s8_when_fixture_d1_current_bar_misses_zone_no_signal_all_week() -> None:
    assert evaluate_history(fixture_d()) == []


def test_s8_when_fixture_d1_any_bar_touch_option_fires_on_bar_3() -> None:
    sig = only_signal(fixture_d(), SignalConfig(s8_touch=S8Touch.ANY_BAR_THIS_WEEK))
    assert sig.signal_id is SignalId.S8
    assert sig.bar_index == 3


def test_s8_when_fixture_d2_bar_3_touches_zone_fires_with_spec_trade() -> None:
    sig = only_signal(fixture_d(bar3_high=25155))
    assert sig.signal_id is SignalId.S8
    assert sig.bar_index == 3
    assert sig.stop_level == dec(25000)
    t = trade_of(sig)
    assert t.entry_time == ist(2024, 7, 22, 12, 15)
    assert t.entry_level == dec(24870)
    assert t.main.contract == t.main.contract.__class__(date(2024, 7, 25), 25000, OptionType.CE)
    assert t.hedge is not None
    assert t.hedge.contract.strike == 25200
    assert t.lot_size == 25


def test_context_when_previous_week_has_holiday_uses_remaining_days() -> None:
    bars = bear_prev(D_PREV, (date(2024, 7, 17),))
    assert date(2024, 7, 17) not in {b.day for b in bars}
    ctx = build_context(D_MONDAY, D_PREV, bars)
    assert ctx.bias is Bias.BEAR
    assert ctx.uzb == dec(25150)


# --- fixture E: no margin bypass -----------------------------------------------------------


def fixture_e() -> list[Bar]:
    week = day_bars(A_MONDAY, [(25000, 25050, 24840, 25000), (25000, 25030, 24990, 25020)])
    return bull_prev(date(2025, 9, 8)) + week


def test_s2_when_fixture_e_open_outside_margin_no_signal() -> None:
    assert evaluate_history(fixture_e()) == []


def test_s2_when_fixture_e_with_margin_bypass_fires_on_bar_2() -> None:
    sig = only_signal(fixture_e(), SignalConfig(s2_s3_margin_bypass=True))
    assert sig.signal_id is SignalId.S2
    assert sig.bar_index == 2
    assert sig.stop_level == dec(24800)
    assert trade_of(sig).main.contract.strike == 24800


# --- S2, S4, S5, S6 fixtures (same previous weeks, hand-computed) ----------------------------


def test_s2_when_support_holds_fires_and_beats_s7() -> None:
    week = day_bars(A_MONDAY, [(24900, 24960, 24880, 24940), (24940, 24990, 24930, 24970)])
    sig = only_signal(bull_prev(date(2025, 9, 8)) + week)
    # the breakout engine also fires (24,970 > F.H 24,960) but S2 has priority
    assert sig.signal_id is SignalId.S2
    assert sig.stop_level == dec(24800)
    t = trade_of(sig)
    assert t.main.contract.strike == 24800
    assert t.hedge is not None
    assert t.hedge.contract.strike == 24600


def test_s2_when_first_close_below_pwc_no_signal_on_bar_2() -> None:
    week = day_bars(A_MONDAY, [(24900, 24960, 24880, 24890), (24890, 24950, 24880, 24940)])
    assert evaluate_history(bull_prev(date(2025, 9, 8)) + week) == []


def test_s4_when_gap_above_uzt_and_breakout_fires_on_bar_2() -> None:
    week = day_bars(B_MONDAY, [(25300, 25350, 25250, 25320), (25320, 25400, 25310, 25380)])
    sig = only_signal(bear_prev(B_PREV) + week)
    assert sig.signal_id is SignalId.S4
    assert sig.option_type is OptionType.PE
    assert sig.stop_level == dec(25250)
    t = trade_of(sig)
    assert t.main.contract.strike == 25300  # 25,250 ties up
    assert t.hedge is not None
    assert t.hedge.contract.strike == 25100
    assert t.expiry == date(2024, 7, 11)


def test_s4_when_open_not_above_uzt_s7_fires_instead() -> None:
    week = day_bars(B_MONDAY, [(25200, 25350, 25150, 25320), (25320, 25400, 25310, 25380)])
    sig = only_signal(bear_prev(B_PREV) + week)
    assert sig.signal_id is SignalId.S7
    assert sig.stop_level == dec(25150)
    assert trade_of(sig).main.contract.strike == 25200


def test_s5_when_bull_bias_fails_below_support_fires_on_bar_2() -> None:
    week = day_bars(A_MONDAY, [(24700, 24750, 24600, 24650), (24650, 24660, 24550, 24580)])
    sig = only_signal(bull_prev(date(2025, 9, 8)) + week)
    assert sig.signal_id is SignalId.S5
    assert sig.option_type is OptionType.CE
    assert sig.stop_level == dec(24750)
    t = trade_of(sig)
    assert t.main.contract.strike == 24800
    assert t.hedge is not None
    assert t.hedge.contract.strike == 25000
    assert t.expiry == date(2025, 9, 16)


def test_s5_when_first_close_not_below_lzb_no_signal_on_bar_2() -> None:
    week = day_bars(A_MONDAY, [(24700, 24820, 24600, 24800), (24800, 24810, 24550, 24580)])
    assert evaluate_history(bull_prev(date(2025, 9, 8)) + week) == []


def test_s6_when_first_bar_touches_resistance_fires_on_bar_2() -> None:
    week = day_bars(B_MONDAY, [(24990, 25160, 24980, 25100), (25100, 25110, 25000, 25050)])
    sig = only_signal(bear_prev(B_PREV) + week)
    assert sig.signal_id is SignalId.S6
    assert sig.stop_level == dec(25200)
    assert trade_of(sig).main.contract.strike == 25200


def test_s6_when_first_high_below_uzb_no_signal_on_bar_2() -> None:
    week = day_bars(B_MONDAY, [(24990, 25140, 24980, 25100), (25100, 25110, 25000, 25050)])
    assert evaluate_history(bear_prev(B_PREV) + week) == []


def test_s3_when_scenario_b_breaks_weekly_lows_on_later_bar() -> None:
    # base holds; bar 2 closes above UZB (no scenario A); bar 3 breaks every earlier low
    week = day_bars(
        B_MONDAY,
        [(25120, 25180, 25060, 25140), (25140, 25190, 25130, 25170), (25170, 25175, 25000, 25010)],
    )
    sig = only_signal(bear_prev(B_PREV) + week)
    assert sig.signal_id is SignalId.S3
    assert sig.bar_index == 3


# --- miscellaneous hand checks of §10.1 ----------------------------------------------------


def test_signal_when_on_1515_bar_entry_is_1530() -> None:
    rows: list[Row] = [(25000, 25050, 24850, 25020)] + [(25020, 25045, 24990, 25010)] * 5
    rows.append((25010, 25100, 25000, 25090))
    week = day_bars(C_MONDAY, rows)
    sig = only_signal(bull_prev(C_PREV) + week)
    assert sig.signal_id is SignalId.S7
    assert sig.bar_start == ist(2025, 9, 22, 15, 15)
    assert sig.bar_close_time == ist(2025, 9, 22, 15, 30)
    assert trade_of(sig).entry_time == ist(2025, 9, 22, 15, 30)


def test_week_when_previous_week_has_single_day_uses_it() -> None:
    prev = day_bars(date(2025, 9, 12), BULL_FRIDAY)
    sig = only_signal(prev + fixture_a()[-5:])
    assert sig.signal_id is SignalId.S1
    assert sig.context.prev_week_start == date(2025, 9, 8)


def test_week_when_no_previous_week_is_skipped() -> None:
    from libs.strategy.signals import SignalEngine

    eng = SignalEngine()
    for b in day_bars(A_MONDAY, A_ROWS):
        assert eng.on_bar(b) is None
    assert [s.week_start for s in eng.skipped_weeks] == [A_MONDAY]


def test_prev_week_min_bars_when_previous_week_too_short_uses_earlier_week() -> None:
    older = bear_prev(date(2025, 9, 1))
    short = day_bars(date(2025, 9, 12), BULL_FRIDAY)
    sigs = evaluate_history(
        older + short + day_bars(A_MONDAY, A_ROWS), SignalConfig(prev_week_min_bars=20)
    )
    assert all(s.context.prev_week_start == date(2025, 9, 1) for s in sigs)


@pytest.mark.parametrize("bad", [Decimal("-0.1")])
def test_signal_config_when_negative_proximity_rejected(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="s7_proximity_pct"):
        SignalConfig(s7_proximity_pct=bad)
