"""Reporting periods with IST boundaries, and the trading days they span (pure)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from libs.common.clock import IST
from libs.market.calendar import CalendarRangeError, has_trading_session


class Period(StrEnum):
    """``today``: since 00:00 IST; ``week``: since Monday 00:00 IST; ``month``: since the 1st
    00:00 IST; ``all``: everything."""

    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


def period_start(period: Period, now: datetime) -> datetime | None:
    """The period's first instant (tz-aware, IST); None for ``all``."""
    today = now.astimezone(IST).date()
    if period is Period.TODAY:
        first = today
    elif period is Period.WEEK:
        first = today - timedelta(days=today.weekday())
    elif period is Period.MONTH:
        first = today.replace(day=1)
    else:
        return None
    return datetime.combine(first, time(0), tzinfo=IST)


def session_days(first: date, last: date) -> list[date]:
    """Days from ``first`` to ``last`` (inclusive) on which positions trade; a day outside the
    packaged NSE calendar counts when it is a weekday."""
    days = []
    day = first
    while day <= last:
        try:
            trading = has_trading_session(day)
        except CalendarRangeError:
            trading = day.weekday() < 5
        if trading:
            days.append(day)
        day += timedelta(days=1)
    return days
