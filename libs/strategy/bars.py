"""Hourly bars, their close times, session filtering and trading weeks (strategy spec §1)."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")

REGULAR_BAR_STARTS: tuple[time, ...] = (
    time(9, 15),
    time(10, 15),
    time(11, 15),
    time(12, 15),
    time(13, 15),
    time(14, 15),
    time(15, 15),
)
"""Start times (IST) of the seven regular hourly bars of an NSE session (spec §1.2)."""

SESSION_CLOSE = time(15, 30)
LAST_BAR_START = time(15, 15)
_REGULAR_SET = frozenset(REGULAR_BAR_STARTS)
_MUHURAT_EVENING = time(17, 0)


@dataclass(frozen=True, slots=True)
class Bar:
    """One complete hourly index bar labelled by its tz-aware start time (spec §1.2)."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"bar start must be tz-aware: {self.start!r}")
        if not (self.low <= self.open <= self.high and self.low <= self.close <= self.high):
            raise ValueError(f"inconsistent OHLC at {self.start.isoformat()}")

    @property
    def start_ist(self) -> datetime:
        return self.start.astimezone(IST)

    @property
    def day(self) -> date:
        """The IST trading date of the bar."""
        return self.start_ist.date()

    @property
    def close_time(self) -> datetime:
        return bar_close_time(self.start)

    @property
    def is_regular_time(self) -> bool:
        return self.start_ist.timetz().replace(tzinfo=None) in _REGULAR_SET

    @property
    def is_green(self) -> bool:
        return self.close > self.open

    @property
    def is_red(self) -> bool:
        return self.close < self.open


def bar_close_time(start: datetime) -> datetime:
    """Close time of the bar starting at ``start``: start + 1 h, the 15:15 bar closes at 15:30.

    The result is expressed in IST (spec §1.2, §4.4).
    """
    if start.tzinfo is None:
        raise ValueError("bar start must be tz-aware")
    local = start.astimezone(IST)
    if local.time() == LAST_BAR_START:
        return local.replace(hour=15, minute=30)
    return local + timedelta(hours=1)


def week_start(d: date) -> date:
    """Monday of the Monday-Sunday calendar week holding ``d`` (spec §1.3)."""
    return d - timedelta(days=d.weekday())


def ist_datetime(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=IST)


class SessionFilterMode(enum.Enum):
    """``bars.session_filter`` (spec §1.1, §9)."""

    TRADING_SESSIONS = "trading_sessions"
    REGULAR = "regular"
    AS_CHARTED = "as_charted"


class SessionFilter:
    """Decides bar by bar whether a bar belongs to the signal stream (spec §1.1).

    ``trading_sessions`` drops only Muhurat bars. A Muhurat bar is one off the regular bar grid on
    a date listed in ``muhurat_dates``; without a list, an off-grid bar that starts at 17:00 or
    later, or that comes before any regular-grid bar of its day, is taken as Muhurat. The filter
    is causal: it never looks at bars after the one it judges.
    """

    def __init__(
        self, mode: SessionFilterMode, muhurat_dates: Collection[date] | None = None
    ) -> None:
        self.mode = mode
        self._muhurat = frozenset(muhurat_dates) if muhurat_dates is not None else None
        self._day: date | None = None
        self._day_has_regular = False

    def accept(self, bar: Bar) -> bool:
        day = bar.day
        if day != self._day:
            self._day = day
            self._day_has_regular = False
        on_grid = bar.is_regular_time
        if on_grid:
            self._day_has_regular = True
        if self.mode is SessionFilterMode.AS_CHARTED:
            return True
        if self.mode is SessionFilterMode.REGULAR:
            return on_grid and day.weekday() < 5
        if on_grid:
            return True
        if self._muhurat is not None:
            return day not in self._muhurat
        starts_late = bar.start_ist.time() >= _MUHURAT_EVENING
        return not starts_late and self._day_has_regular


def filter_sessions(
    bars: Iterable[Bar],
    mode: SessionFilterMode,
    muhurat_dates: Collection[date] | None = None,
) -> list[Bar]:
    flt = SessionFilter(mode, muhurat_dates)
    return [b for b in bars if flt.accept(b)]


@dataclass(frozen=True, slots=True)
class TradingWeek:
    """The bars of one Monday-Sunday calendar week, in time order (spec §1.3)."""

    start: date
    bars: tuple[Bar, ...]

    @property
    def first_bar(self) -> Bar:
        return self.bars[0]


def group_weeks(bars: Iterable[Bar]) -> Iterator[TradingWeek]:
    """Group time-ordered bars into trading weeks (spec §1.3). Empty weeks are not produced."""
    current: list[Bar] = []
    key: date | None = None
    last: datetime | None = None
    for bar in bars:
        if last is not None and bar.start <= last:
            raise ValueError(f"bars out of order at {bar.start.isoformat()}")
        last = bar.start
        k = week_start(bar.day)
        if key is not None and k != key:
            yield TradingWeek(key, tuple(current))
            current = []
        key = k
        current.append(bar)
    if key is not None:
        yield TradingWeek(key, tuple(current))
