"""The S1..S8 signal engine: conditions, priority and the once-per-week latch (spec §3).

One incremental engine (`SignalEngine`) is fed complete hourly bars in time order;
`evaluate_history` drives the same engine over a whole history, so both give identical results.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from libs.strategy.bars import Bar, SessionFilter, SessionFilterMode, week_start
from libs.strategy.context import (
    Bias,
    FourHourBuckets,
    PrevWeekClose,
    RunningAggregates,
    WeeklyContext,
    build_context,
)
from libs.strategy.engines import BreakdownEngine, BreakoutEngine, EngineLatch


class Direction(enum.Enum):
    BULLISH = "BULLISH"
    BEARISH = "BEARISH"

    @property
    def option_type(self) -> OptionType:
        """Bullish signals sell a PE, bearish signals sell a CE (spec §3.1, §4.1)."""
        return OptionType.PE if self is Direction.BULLISH else OptionType.CE


class OptionType(enum.Enum):
    CE = "CE"
    PE = "PE"


class SignalId(enum.Enum):
    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"
    S5 = "S5"
    S6 = "S6"
    S7 = "S7"
    S8 = "S8"

    @property
    def direction(self) -> Direction:
        return _DIRECTIONS[self]

    @property
    def priority(self) -> int:
        """1 for S1 (tested first) … 8 for S8."""
        return int(self.value[1:])


_DIRECTIONS = {
    SignalId.S1: Direction.BULLISH,
    SignalId.S2: Direction.BULLISH,
    SignalId.S3: Direction.BEARISH,
    SignalId.S4: Direction.BULLISH,
    SignalId.S5: Direction.BEARISH,
    SignalId.S6: Direction.BEARISH,
    SignalId.S7: Direction.BULLISH,
    SignalId.S8: Direction.BEARISH,
}
ALL_SIGNALS: frozenset[SignalId] = frozenset(SignalId)
SIGNAL_ORDER: tuple[SignalId, ...] = tuple(SignalId)


class S8Touch(enum.Enum):
    """``signals.s8_touch`` (spec §3.4)."""

    CURRENT_BAR = "current_bar"
    ANY_BAR_THIS_WEEK = "any_bar_this_week"


class AlertValidation(enum.Enum):
    """``signals.validate_alerts`` (spec §8, §9)."""

    OFF = "off"
    WARN = "warn"
    ENFORCE = "enforce"


@dataclass(frozen=True, slots=True)
class SignalConfig:
    """The ``signals.*``, ``bars.*`` and ``context.*`` options of spec §9, with their defaults."""

    enabled: frozenset[SignalId] = ALL_SIGNALS
    s2_s3_margin_bypass: bool = False
    s8_touch: S8Touch = S8Touch.CURRENT_BAR
    engine_latch: EngineLatch = EngineLatch.ONCE_PER_WEEK
    disabled_signal_consumes_week: bool = False
    s7_proximity_pct: Decimal = Decimal("0.40")
    validate_alerts: AlertValidation = AlertValidation.WARN
    session_filter: SessionFilterMode = SessionFilterMode.TRADING_SESSIONS
    four_hour_buckets: FourHourBuckets = FourHourBuckets.SESSION
    close_grace_s: int = 60
    prev_week_min_bars: int = 1
    prev_week_close: PrevWeekClose = PrevWeekClose.LAST_HOURLY_CLOSE

    def __post_init__(self) -> None:
        if self.s7_proximity_pct < 0:
            raise ValueError("signals.s7_proximity_pct must be >= 0")
        if self.prev_week_min_bars < 1:
            raise ValueError("context.prev_week_min_bars must be >= 1")
        if self.close_grace_s < 0:
            raise ValueError("bars.close_grace_s must be >= 0")


@dataclass(frozen=True, slots=True)
class Signal:
    """A fired signal: what the trade construction of spec §4 and the report of §7 need."""

    signal_id: SignalId
    week_start: date
    bar_index: int
    bar_start: datetime
    bar_close_time: datetime
    close: Decimal
    """Index close of the signal bar: the index level at entry (spec §4.4)."""
    stop_level: Decimal
    """The raw stop level `SL` (an index level)."""
    context: WeeklyContext
    first_bar: Bar

    @property
    def direction(self) -> Direction:
        return self.signal_id.direction

    @property
    def option_type(self) -> OptionType:
        return self.signal_id.direction.option_type

    @property
    def bias(self) -> Bias:
        return self.context.bias


@dataclass(frozen=True, slots=True)
class WeekSkip:
    """A week that produced no evaluation, with its reason (spec §1.3)."""

    week_start: date
    reason: str


@dataclass(slots=True)
class WeekState:
    """State of the current week, a pure function of `PW` and bars 1..k (spec §2.4)."""

    context: WeeklyContext
    first: Bar
    agg: RunningAggregates
    breakout: BreakoutEngine
    breakdown: BreakdownEngine
    k: int = 1
    touched_uzb: bool = False
    latched: bool = False
    fired: list[SignalId] = field(default_factory=list)


def _abs_within(a: Decimal, b: Decimal, margin: Decimal) -> bool:
    return abs(a - b) <= margin


def _s1(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    f, ctx = st.first, st.context
    if st.k == 2 and f.open >= ctx.lzb and f.close < ctx.lzb and cur.close > f.low:
        return f.low - abs(f.open - f.close)
    return None


def _s2(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    f, ctx = st.first, st.context
    if st.k != 2 or ctx.bias is not Bias.BULL:
        return None
    margin_ok = (cfg.s2_s3_margin_bypass and f.low <= ctx.lzt) or (
        _abs_within(ctx.pwc, ctx.lzb, ctx.margin_low)
        and _abs_within(f.open, ctx.lzb, ctx.margin_low)
    )
    if (
        f.open > ctx.pwl
        and margin_ok
        and f.close >= ctx.lzb
        and f.close >= ctx.pwc
        and cur.close >= f.low
        and cur.close > ctx.pwc
        and cur.close > ctx.lzb
    ):
        return ctx.lzb
    return None


def _breaks_lower(st: WeekState, cur: Bar) -> bool:
    """Scenario B of S3/S6: a close below `F.L`, `UZB` and every earlier low and close."""
    return (
        cur.close < st.first.low
        and cur.close < st.context.uzb
        and cur.close < st.agg.min_low
        and cur.close < st.agg.min_close
    )


def _s3(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    f, ctx = st.first, st.context
    if ctx.bias is not Bias.BEAR or f.close > ctx.pwh:
        return None
    margin_ok = (cfg.s2_s3_margin_bypass and f.high >= ctx.uzb) or (
        _abs_within(ctx.pwc, ctx.uzb, ctx.margin_high)
        and _abs_within(f.open, ctx.uzb, ctx.margin_high)
    )
    if not margin_ok:
        return None
    scenario_a = (
        st.k == 2
        and cur.close < f.high
        and cur.close < ctx.uzb
        and (f.high >= ctx.uzb or cur.high >= ctx.uzb)
    )
    if scenario_a or _breaks_lower(st, cur):
        return ctx.pwh
    return None


def _s4(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    if up and st.context.bias is Bias.BEAR and st.first.open > st.context.uzt:
        return st.first.low
    return None


def _s5(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    f, ctx = st.first, st.context
    if (
        ctx.bias is Bias.BULL
        and f.open < ctx.lzb
        and f.close < ctx.lzb
        and f.close < ctx.pwl
        and cur.close < f.low
    ):
        return f.high
    return None


def _s6(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    f, ctx = st.first, st.context
    if not (
        ctx.bias is Bias.BEAR and f.high >= ctx.uzb and f.close <= ctx.uzt and f.close <= ctx.pwh
    ):
        return None
    scenario_a = st.k == 2 and cur.close < f.high and cur.close < ctx.uzb
    if scenario_a or _breaks_lower(st, cur):
        return ctx.pwh
    return None


def _s7(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    if not up:
        return None
    pwh, c = st.context.pwh, cur.close
    # (PWH - C) / C * 100 < pct, without division (C > 0)
    if c < pwh and (pwh - c) * 100 < cfg.s7_proximity_pct * c:
        return None
    if c > st.agg.max_high and c > st.agg.max_close:
        return st.first.low
    return None


def _s8(st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool) -> Decimal | None:
    if not down:
        return None
    uzb = st.context.uzb
    touched = cur.high >= uzb if cfg.s8_touch is S8Touch.CURRENT_BAR else st.touched_uzb
    if touched and cur.close < uzb and cur.close < st.agg.min_low and cur.close < st.agg.min_close:
        return st.first.high
    return None


_Check = Callable[[WeekState, Bar, SignalConfig, bool, bool], Decimal | None]
_CHECKS: tuple[tuple[SignalId, _Check], ...] = (
    (SignalId.S1, _s1),
    (SignalId.S2, _s2),
    (SignalId.S3, _s3),
    (SignalId.S4, _s4),
    (SignalId.S5, _s5),
    (SignalId.S6, _s6),
    (SignalId.S7, _s7),
    (SignalId.S8, _s8),
)


def conditions_holding(
    st: WeekState, cur: Bar, cfg: SignalConfig, up: bool, down: bool
) -> list[tuple[SignalId, Decimal]]:
    """Every signal whose conditions hold on ``cur`` (ignoring enablement and latch), in order."""
    out: list[tuple[SignalId, Decimal]] = []
    for sid, check in _CHECKS:
        sl = check(st, cur, cfg, up, down)
        if sl is not None:
            out.append((sid, sl))
    return out


class SignalEngine:
    """Incremental S1..S8 engine fed complete hourly bars in time order (spec §3, §7).

    ``muhurat_dates`` feeds the session filter (spec §1.1); ``official_close`` maps a date to the
    official NIFTY close and is required only with ``context.prev_week_close =
    official_daily_close``.
    """

    def __init__(
        self,
        config: SignalConfig | None = None,
        *,
        muhurat_dates: Collection[date] | None = None,
        official_close: Callable[[date], Decimal | None] | None = None,
    ) -> None:
        self.config = config if config is not None else SignalConfig()
        if (
            self.config.prev_week_close is PrevWeekClose.OFFICIAL_DAILY_CLOSE
            and official_close is None
        ):
            raise ValueError("official_daily_close needs an official close lookup")
        self._filter = SessionFilter(self.config.session_filter, muhurat_dates)
        self._official_close = official_close
        self._last_start: datetime | None = None
        self._week_key: date | None = None
        self._week_bars: list[Bar] = []
        self._prev: tuple[date, list[Bar]] | None = None
        self._state: WeekState | None = None
        self.skipped_weeks: list[WeekSkip] = []

    @property
    def week(self) -> WeekState | None:
        """The current week's state (None before the first bar or in a skipped week)."""
        return self._state

    def on_bar(self, bar: Bar) -> Signal | None:
        """Process one complete bar; return the signal it fires, if any."""
        if self._last_start is not None and bar.start <= self._last_start:
            raise ValueError(f"bars must be strictly increasing: {bar.start.isoformat()}")
        self._last_start = bar.start
        if not self._filter.accept(bar):
            return None
        key = week_start(bar.day)
        if key != self._week_key:
            self._start_week(key, bar)
            return None
        self._week_bars.append(bar)
        if self._state is None:
            return None
        return self._evaluate(self._state, bar)

    def _start_week(self, key: date, first: Bar) -> None:
        if self._week_key is not None and len(self._week_bars) >= self.config.prev_week_min_bars:
            self._prev = (self._week_key, self._week_bars)
        self._week_key = key
        self._week_bars = [first]
        self._state = None
        if self._prev is None:
            self.skipped_weeks.append(WeekSkip(key, "no usable previous week"))
            return
        prev_key, prev_bars = self._prev
        official: Decimal | None = None
        if self.config.prev_week_close is PrevWeekClose.OFFICIAL_DAILY_CLOSE:
            lookup = self._official_close
            official = lookup(prev_bars[-1].day) if lookup is not None else None
            if official is None:
                self.skipped_weeks.append(
                    WeekSkip(key, f"no official close for {prev_bars[-1].day.isoformat()}")
                )
                return
        ctx = build_context(key, prev_key, prev_bars, self.config.four_hour_buckets, official)
        latch = self.config.engine_latch
        self._state = WeekState(
            context=ctx,
            first=first,
            agg=RunningAggregates.from_first(first),
            breakout=BreakoutEngine(first, latch),
            breakdown=BreakdownEngine(first, latch),
            touched_uzb=first.high >= ctx.uzb,
        )

    def _evaluate(self, st: WeekState, cur: Bar) -> Signal | None:
        cfg = self.config
        st.k += 1
        st.touched_uzb = st.touched_uzb or cur.high >= st.context.uzb
        up = st.breakout.step(cur, st.agg.max_high)
        down = st.breakdown.step(cur, st.agg.min_low)
        signal: Signal | None = None
        if not st.latched:
            for sid, check in _CHECKS:
                enabled = sid in cfg.enabled
                if not enabled and not cfg.disabled_signal_consumes_week:
                    continue
                sl = check(st, cur, cfg, up, down)
                if sl is None:
                    continue
                st.latched = True
                if enabled:
                    st.fired.append(sid)
                    signal = Signal(
                        signal_id=sid,
                        week_start=st.context.week_start,
                        bar_index=st.k,
                        bar_start=cur.start,
                        bar_close_time=cur.close_time,
                        close=cur.close,
                        stop_level=sl,
                        context=st.context,
                        first_bar=st.first,
                    )
                break
        st.agg.update(cur)
        return signal


def evaluate_history(
    bars: Iterable[Bar],
    config: SignalConfig | None = None,
    *,
    muhurat_dates: Collection[date] | None = None,
    official_close: Callable[[date], Decimal | None] | None = None,
) -> list[Signal]:
    """Run the incremental engine over a whole, time-ordered history."""
    engine = SignalEngine(config, muhurat_dates=muhurat_dates, official_close=official_close)
    out: list[Signal] = []
    for bar in bars:
        sig = engine.on_bar(bar)
        if sig is not None:
            out.append(sig)
    return out
