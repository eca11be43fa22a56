"""Weekly context: previous-week inputs, four-hour bodies, zones, margins and bias (spec §2)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from libs.strategy.bars import Bar

TICK = Decimal("0.05")
MARGIN_FLOOR = 5 * TICK
_SESSION_SPLIT = time(13, 15)


class Bias(enum.IntEnum):
    """Weekly bias (spec §2.3)."""

    BEAR = -1
    NEUTRAL = 0
    BULL = 1


class FourHourBuckets(enum.Enum):
    """``bars.four_hour_buckets`` (spec §2.2)."""

    SESSION = "session"
    CLOCK = "clock"


class PrevWeekClose(enum.Enum):
    """``context.prev_week_close`` (spec §2.1)."""

    LAST_HOURLY_CLOSE = "last_hourly_close"
    OFFICIAL_DAILY_CLOSE = "official_daily_close"


@dataclass(frozen=True, slots=True)
class Body:
    """Open and close of one four-hour candle (its high and low are not used)."""

    open: Decimal
    close: Decimal


def _bucket_key(bar: Bar, mode: FourHourBuckets) -> tuple[date, int]:
    local = bar.start_ist
    if mode is FourHourBuckets.SESSION:
        return local.date(), 0 if local.time() < _SESSION_SPLIT else 1
    return local.date(), local.hour // 4 * 4


def four_hour_bodies(bars: Sequence[Bar], mode: FourHourBuckets) -> list[Body]:
    """Four-hour bodies of time-ordered hourly bars (spec §2.2); empty buckets are skipped."""
    bodies: list[Body] = []
    key: tuple[date, int] | None = None
    first: Bar | None = None
    last: Bar | None = None
    for bar in bars:
        k = _bucket_key(bar, mode)
        if k != key:
            if first is not None and last is not None:
                bodies.append(Body(first.open, last.close))
            key, first = k, bar
        last = bar
    if first is not None and last is not None:
        bodies.append(Body(first.open, last.close))
    return bodies


@dataclass(frozen=True, slots=True)
class WeeklyContext:
    """Everything derived from the previous week `PW` (spec §2.1, §2.3)."""

    week_start: date
    prev_week_start: date
    pwh: Decimal
    pwl: Decimal
    pwc: Decimal
    max_body: Decimal
    min_body: Decimal

    @property
    def uzt(self) -> Decimal:
        return max(self.pwh, self.max_body)

    @property
    def uzb(self) -> Decimal:
        return min(self.pwh, self.max_body)

    @property
    def lzt(self) -> Decimal:
        return max(self.pwl, self.min_body)

    @property
    def lzb(self) -> Decimal:
        return min(self.pwl, self.min_body)

    @property
    def margin_high(self) -> Decimal:
        return max(3 * (self.uzt - self.uzb), MARGIN_FLOOR)

    @property
    def margin_low(self) -> Decimal:
        return max(3 * (self.lzt - self.lzb), MARGIN_FLOOR)

    @property
    def dist_resistance(self) -> Decimal:
        return abs(self.pwc - self.max_body)

    @property
    def dist_support(self) -> Decimal:
        return abs(self.pwc - self.min_body)

    @property
    def bias(self) -> Bias:
        d_r, d_s = self.dist_resistance, self.dist_support
        if d_r < d_s:
            return Bias.BEAR
        if d_s < d_r:
            return Bias.BULL
        return Bias.NEUTRAL


def build_context(
    week_start: date,
    prev_week_start: date,
    prev_bars: Sequence[Bar],
    buckets: FourHourBuckets = FourHourBuckets.SESSION,
    official_close: Decimal | None = None,
) -> WeeklyContext:
    """Build the weekly context from the previous week's bars (spec §2).

    ``official_close`` replaces the last hourly close as `PWC` when given
    (``context.prev_week_close = official_daily_close``).
    """
    if not prev_bars:
        raise ValueError("previous week has no bars")
    bodies = four_hour_bodies(prev_bars, buckets)
    return WeeklyContext(
        week_start=week_start,
        prev_week_start=prev_week_start,
        pwh=max(b.high for b in prev_bars),
        pwl=min(b.low for b in prev_bars),
        pwc=official_close if official_close is not None else prev_bars[-1].close,
        max_body=max(max(b.open, b.close) for b in bodies),
        min_body=min(min(b.open, b.close) for b in bodies),
    )


@dataclass(slots=True)
class RunningAggregates:
    """Aggregates over bars 1..k-1 of the current week (spec §2.4)."""

    max_high: Decimal
    max_close: Decimal
    min_low: Decimal
    min_close: Decimal

    @classmethod
    def from_first(cls, bar: Bar) -> RunningAggregates:
        return cls(bar.high, bar.close, bar.low, bar.close)

    def update(self, bar: Bar) -> None:
        self.max_high = max(self.max_high, bar.high)
        self.max_close = max(self.max_close, bar.close)
        self.min_low = min(self.min_low, bar.low)
        self.min_close = min(self.min_close, bar.close)
