"""Property tests of strategy spec §10.2 on generated weeks."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.strategy.bars import REGULAR_BAR_STARTS, Bar, SessionFilterMode, ist_datetime, week_start
from libs.strategy.context import Bias, FourHourBuckets
from libs.strategy.engines import EngineLatch
from libs.strategy.signals import (
    ALL_SIGNALS,
    Direction,
    OptionType,
    S8Touch,
    Signal,
    SignalConfig,
    SignalEngine,
    SignalId,
    evaluate_history,
)
from libs.strategy.trade import (
    StrikeRule,
    TradeConfig,
    build_trade,
    directional50,
    round100,
)
from tests.unit.strategy.builders import FakeCalendar

TICK = Decimal("0.05")
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CAL = FakeCalendar()


def _px(ticks: int) -> Decimal:
    return Decimal(ticks) * TICK


def _noise(rnd: random.Random, sd: float) -> int:
    """A bounded normal draw (at most 4 sd), in ticks."""
    x = rnd.gauss(0, sd)
    if not -4 * sd <= x <= 4 * sd:
        x = 0.0
    return int(x)


def generate_bars(rnd: random.Random, n_weeks: int, monday: date) -> list[Bar]:
    """Random walk of hourly bars with realistic ranges, random holidays and short days."""
    lo_band, hi_band = 10_000 * 20, 40_000 * 20
    level = rnd.randint(18_000 * 20, 26_000 * 20)
    vol = rnd.choice([200, 500, 900, 1500])  # ticks per bar (10 to 75 points)
    bars: list[Bar] = []
    for w in range(n_weeks):
        for dow in range(5):
            day = monday + timedelta(days=7 * w + dow)
            if rnd.random() < 0.1:
                continue
            n = 7 if rnd.random() < 0.85 else rnd.randint(1, 6)
            first_slot = 0 if rnd.random() < 0.9 else rnd.randint(0, 7 - n)
            level = min(max(level + _noise(rnd, vol * 1.5), lo_band), hi_band)
            for slot in range(first_slot, first_slot + n):
                o = level
                c = o + _noise(rnd, vol)
                h = max(o, c) + abs(_noise(rnd, vol / 2))
                lo = min(o, c) - abs(_noise(rnd, vol / 2))
                bars.append(
                    Bar(
                        ist_datetime(day, REGULAR_BAR_STARTS[slot]),
                        _px(o),
                        _px(h),
                        _px(lo),
                        _px(c),
                    )
                )
                level = min(max(c + _noise(rnd, vol / 20), lo_band), hi_band)
    return bars


@st.composite
def histories(draw: st.DrawFn, min_weeks: int = 2, max_weeks: int = 4) -> list[Bar]:
    rnd = draw(st.randoms(use_true_random=False))
    n_weeks = draw(st.integers(min_weeks, max_weeks))
    monday = date(2019, 1, 7) + timedelta(weeks=draw(st.integers(0, 360)))
    bars = generate_bars(rnd, n_weeks, monday)
    if not bars:
        bars = generate_bars(random.Random(0), n_weeks, monday)
    return bars


configs = st.builds(
    SignalConfig,
    enabled=st.frozensets(st.sampled_from(list(SignalId)), min_size=1),
    s2_s3_margin_bypass=st.booleans(),
    s8_touch=st.sampled_from(list(S8Touch)),
    engine_latch=st.sampled_from(list(EngineLatch)),
    disabled_signal_consumes_week=st.booleans(),
    s7_proximity_pct=st.sampled_from([Decimal(0), Decimal("0.40"), Decimal(1)]),
    session_filter=st.sampled_from(list(SessionFilterMode)),
    four_hour_buckets=st.sampled_from(list(FourHourBuckets)),
    prev_week_min_bars=st.sampled_from([1, 1, 20]),
)

BULLISH = {SignalId.S1, SignalId.S2, SignalId.S4, SignalId.S7}


def first_bars(bars: list[Bar]) -> set[object]:
    seen: dict[date, Bar] = {}
    for b in bars:
        seen.setdefault(week_start(b.day), b)
    return {b.start for b in seen.values()}


@PROPS
@given(histories(), configs)
def test_signals_when_any_config_hold_basic_invariants(bars: list[Bar], cfg: SignalConfig) -> None:
    sigs = evaluate_history(bars, cfg)
    firsts = first_bars(bars)
    weeks = Counter(s.week_start for s in sigs)
    assert all(n == 1 for n in weeks.values())
    for s in sigs:
        assert s.bar_index >= 2
        assert s.bar_start not in firsts
        assert s.signal_id in cfg.enabled
        assert (s.signal_id in BULLISH) == (s.direction is Direction.BULLISH)
        expected = OptionType.PE if s.signal_id in BULLISH else OptionType.CE
        assert s.option_type is expected
        if s.direction is Direction.BULLISH:
            assert s.close > s.stop_level
        else:
            assert s.close < s.stop_level
        if s.signal_id in {SignalId.S2, SignalId.S3, SignalId.S4, SignalId.S5, SignalId.S6}:
            assert s.bias is not Bias.NEUTRAL
        if s.signal_id in {SignalId.S1, SignalId.S2}:
            assert s.bar_index == 2
        assert s.bar_close_time > s.bar_start


@PROPS
@given(histories())
def test_engines_when_default_latch_fire_at_most_once_per_week(bars: list[Bar]) -> None:
    eng = SignalEngine()
    for b in bars:
        eng.on_bar(b)
        w = eng.week
        if w is not None:
            assert w.breakout.fire_count <= 1
            assert w.breakdown.fire_count <= 1


@PROPS
@given(histories(), configs)
def test_history_when_compared_with_per_week_restarts_identical(
    bars: list[Bar], cfg: SignalConfig
) -> None:
    cfg = replace(cfg, prev_week_min_bars=1, session_filter=SessionFilterMode.AS_CHARTED)
    whole = evaluate_history(bars, cfg)
    by_week: dict[date, list[Bar]] = {}
    for b in bars:
        by_week.setdefault(week_start(b.day), []).append(b)
    keys = sorted(by_week)
    restarted: list[Signal] = []
    for prev, cur in itertools.pairwise(keys):
        eng = SignalEngine(cfg)
        for b in by_week[prev] + by_week[cur]:
            s = eng.on_bar(b)
            if s is not None:
                restarted.append(s)
    assert restarted == whole


@PROPS
@given(histories(), configs, st.integers(0, 10_000), st.randoms(use_true_random=False))
def test_signals_when_later_bars_change_earlier_signals_unchanged(
    bars: list[Bar], cfg: SignalConfig, cut_seed: int, rnd: random.Random
) -> None:
    cut = cut_seed % len(bars)
    tail_source = generate_bars(rnd, 3, week_start(bars[cut].day))
    new_tail = [b for b in tail_source if b.start > bars[cut].start]
    changed = bars[: cut + 1] + new_tail
    limit = bars[cut].start
    before = [s for s in evaluate_history(bars, cfg) if s.bar_start <= limit]
    after = [s for s in evaluate_history(changed, cfg) if s.bar_start <= limit]
    assert before == after


@PROPS
@given(histories(), st.integers(-2000, 2000))
def test_signals_when_prices_translated_same_signals_and_translated_stop(
    bars: list[Bar], shift_points: int
) -> None:
    cfg = SignalConfig(s7_proximity_pct=Decimal(0))
    delta = Decimal(shift_points)
    moved = [
        Bar(b.start, b.open + delta, b.high + delta, b.low + delta, b.close + delta) for b in bars
    ]
    a = evaluate_history(bars, cfg)
    b = evaluate_history(moved, cfg)
    assert [(s.signal_id, s.bar_start) for s in a] == [(s.signal_id, s.bar_start) for s in b]
    assert [s.stop_level + delta for s in a] == [s.stop_level for s in b]


@PROPS
@given(histories(), st.sampled_from(list(SignalId)))
def test_signals_when_disabling_one_signal_never_earlier_and_unchanged_if_unfired(
    bars: list[Bar], off: SignalId
) -> None:
    base = evaluate_history(bars)
    reduced = evaluate_history(bars, SignalConfig(enabled=ALL_SIGNALS - {off}))
    base_by_week = {s.week_start: s for s in base}
    red_by_week = {s.week_start: s for s in reduced}
    for wk, s in base_by_week.items():
        r = red_by_week.get(wk)
        if s.signal_id is not off:
            assert r == s
        elif r is not None:
            assert r.bar_start >= s.bar_start
    assert set(red_by_week) - set(base_by_week) == set()


@PROPS
@given(histories(), st.sampled_from(list(StrikeRule)))
def test_trades_when_built_from_signals_respect_strike_and_expiry_rules(
    bars: list[Bar], rule: StrikeRule
) -> None:
    for s in evaluate_history(bars):
        t = build_trade(s, TradeConfig(strike_rule=rule), CAL)
        k = t.main.contract.strike
        if rule is StrikeRule.ROUND100:
            assert k % 100 == 0
            assert abs(k - s.stop_level) <= 50
        elif rule is StrikeRule.DIRECTIONAL50:
            assert k % 50 == 0
            assert abs(k - s.stop_level) < 50
            if s.option_type is OptionType.PE:
                assert k <= s.stop_level
            else:
                assert k >= s.stop_level
        else:
            assert k % 50 == 0
            assert abs(k - s.close) <= 25
        assert t.hedge is not None
        h = t.hedge.contract.strike
        assert h < k if s.option_type is OptionType.PE else h > k
        entry_day = t.entry_time.date()
        assert t.expiry > entry_day
        assert t.lot_size == CAL.lot_size(t.expiry)
        assert t.quantity == t.lot_size


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**9), 10**9))
def test_strike_rounding_when_any_level_matches_rule_bounds(ticks: int) -> None:
    sl = Decimal(ticks) / 100
    k = round100(sl)
    assert k % 100 == 0
    assert -50 <= sl - k < 50  # ties go up: 24,850 -> 24,900
    pe, ce = directional50(sl, OptionType.PE), directional50(sl, OptionType.CE)
    assert pe <= sl <= ce
    assert ce - pe in (0, 50)
    assert pe % 50 == 0
    assert ce % 50 == 0
