"""Reporting periods (libs/analytics/periods.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from libs.analytics.periods import Period, period_start, session_days
from libs.common.clock import IST

WEDNESDAY_1030_IST = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "first"),
    [
        (Period.TODAY, date(2026, 11, 25)),
        (Period.WEEK, date(2026, 11, 23)),
        (Period.MONTH, date(2026, 11, 1)),
    ],
)
def test_period_starts_at_ist_midnight(period: Period, first: date) -> None:
    start = period_start(period, WEDNESDAY_1030_IST)

    assert start == datetime(first.year, first.month, first.day, tzinfo=IST)


def test_today_follows_the_ist_date_not_the_utc_date() -> None:
    just_after_ist_midnight = datetime(2026, 11, 24, 18, 40, tzinfo=UTC)  # 00:10 IST on the 25th

    assert period_start(Period.TODAY, just_after_ist_midnight) == datetime(2026, 11, 25, tzinfo=IST)


def test_all_has_no_start() -> None:
    assert period_start(Period.ALL, WEDNESDAY_1030_IST) is None


def test_session_days_skip_weekends_and_holidays() -> None:
    # 2026-11-24 is an NSE holiday (Guru Nanak Jayanti)
    assert session_days(date(2026, 11, 23), date(2026, 11, 29)) == [
        date(2026, 11, 23),
        date(2026, 11, 25),
        date(2026, 11, 26),
        date(2026, 11, 27),
    ]


def test_session_days_beyond_the_calendar_count_weekdays() -> None:
    assert session_days(date(2027, 1, 1), date(2027, 1, 4)) == [date(2027, 1, 1), date(2027, 1, 4)]
