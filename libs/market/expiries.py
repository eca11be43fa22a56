"""NIFTY option expiry dates: weekly and monthly, by the dated weekday rule and the holiday list.

Rule (NSE/FAOP/68747; see market-rules.md section 2.3): contracts are scheduled on Thursday up to
the 2025-08-28 expiry and on Tuesday from the 2025-09-02 expiry; a scheduled day that is a
trading holiday moves to the previous trading day. Weekly NIFTY options exist from the
2019-02-14 expiry; before that only monthly contracts exist.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from libs.market.calendar import (
    FIRST_COVERED_DATE,
    LAST_COVERED_DATE,
    CalendarRangeError,
    is_trading_day,
    previous_trading_day,
    trading_days_between,
)

FIRST_WEEKLY_EXPIRY = date(2019, 2, 14)
LAST_THURSDAY_EXPIRY = date(2025, 8, 28)
FIRST_TUESDAY_EXPIRY = date(2025, 9, 2)

_THURSDAY = 3
_TUESDAY = 1


def scheduled_weekday(scheduled: date) -> int:
    """The expiry weekday (Monday=0) in force for a contract scheduled around `scheduled`."""
    return _THURSDAY if scheduled <= LAST_THURSDAY_EXPIRY else _TUESDAY


def actual_expiry(scheduled: date) -> date:
    """The last trading day for a scheduled expiry: itself, or the previous trading day."""
    return scheduled if is_trading_day(scheduled) else previous_trading_day(scheduled)


def _scheduled_weeklies(start: date, end: date) -> list[date]:
    """Scheduled weekly expiry days (before holiday shifts) in [start, end]."""
    days: list[date] = []
    day = start
    while day <= end:
        if day.weekday() == scheduled_weekday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _last_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    day = first_next - timedelta(days=1)
    while day.weekday() != weekday:
        day -= timedelta(days=1)
    return day


def scheduled_monthly_expiry(year: int, month: int) -> date:
    """The scheduled monthly expiry: the month's last Thursday (to Aug 2025) or last Tuesday."""
    weekday = _THURSDAY if (year, month) <= (2025, 8) else _TUESDAY
    return _last_weekday_of_month(year, month, weekday)


def monthly_expiry(year: int, month: int) -> date:
    """The actual monthly NIFTY expiry date of a contract month, after any holiday shift."""
    return actual_expiry(scheduled_monthly_expiry(year, month))


@cache
def _weekly_series() -> tuple[date, ...]:
    """Every actual weekly expiry the calendar can determine."""
    last = LAST_COVERED_DATE
    scheduled = _scheduled_weeklies(FIRST_WEEKLY_EXPIRY, last)
    return tuple(actual_expiry(s) for s in scheduled)


@cache
def _monthly_series() -> tuple[date, ...]:
    """Every actual monthly expiry the calendar can determine."""
    first, last = FIRST_COVERED_DATE, LAST_COVERED_DATE
    months = [(y, m) for y in range(first.year, last.year + 1) for m in range(1, 13)]
    return tuple(monthly_expiry(y, m) for y, m in months)


@cache
def _short_dated_series() -> tuple[date, ...]:
    """Monthly expiries before weeklies existed, then every weekly expiry."""
    early = tuple(d for d in _monthly_series() if d < FIRST_WEEKLY_EXPIRY)
    return early + _weekly_series()


def _check_range(start: date, end: date) -> None:
    if start < FIRST_COVERED_DATE or end > LAST_COVERED_DATE:
        raise CalendarRangeError(
            f"expiries are known from {FIRST_COVERED_DATE.isoformat()} "
            f"to {LAST_COVERED_DATE.isoformat()}"
        )


def weekly_expiries(start: date, end: date) -> list[date]:
    """Actual weekly expiry dates in [start, end] (from the 2019-02-14 expiry on)."""
    _check_range(start, end)
    return [d for d in _weekly_series() if start <= d <= end]


def monthly_expiries(start: date, end: date) -> list[date]:
    """Actual monthly expiry dates in [start, end]."""
    _check_range(start, end)
    return [d for d in _monthly_series() if start <= d <= end]


def is_monthly_expiry(d: date) -> bool:
    """Whether `d` is the expiry day of a monthly contract."""
    _check_range(d, d)
    return d == monthly_expiry(d.year, d.month)


def is_expiry_day(d: date) -> bool:
    """Whether a NIFTY weekly or monthly contract expires on `d`."""
    _check_range(d, d)
    return d in _weekly_series() or is_monthly_expiry(d)


def next_weekly_expiry(on_or_after: date, min_trading_days: int = 1) -> date:
    """Nearest expiry on/after a date with at least `min_trading_days` trading days after it.

    Uses the weekly series from 2019-02-14; before it, the monthly expiries that were then the
    nearest contracts. With the default of 1, an entry on an expiry day rolls to the next one.
    """
    if min_trading_days < 0:
        raise ValueError("min_trading_days must be >= 0")
    _check_range(on_or_after, on_or_after)
    for expiry in _short_dated_series():
        if expiry < on_or_after:
            continue
        if trading_days_between(on_or_after, expiry) >= min_trading_days:
            return expiry
    raise CalendarRangeError(f"no expiry known after {on_or_after.isoformat()}")
