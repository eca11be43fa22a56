from datetime import UTC, date, datetime, timedelta

import pytest

from libs.market.calendar import (
    IST,
    CalendarRangeError,
    SessionKind,
    has_trading_session,
    is_holiday,
    is_trading_day,
    next_trading_day,
    previous_trading_day,
    session_close,
    session_open,
    special_session,
    to_ist,
    trading_days,
    trading_days_between,
)


def test_is_trading_day_when_weekday_holiday_false():
    assert not is_trading_day(date(2023, 6, 29))  # Bakri Id
    assert is_holiday(date(2023, 6, 29))


def test_is_trading_day_when_weekend_false():
    assert not is_trading_day(date(2025, 2, 1))  # budget Saturday: special, not regular


def test_is_trading_day_when_ordinary_weekday_true():
    assert is_trading_day(date(2023, 6, 28))


def test_has_trading_session_when_budget_saturday_true():
    assert has_trading_session(date(2025, 2, 1))


def test_has_trading_session_when_muhurat_only_false():
    assert not has_trading_session(date(2024, 11, 1))
    session = special_session(date(2024, 11, 1))
    assert session is not None
    assert session.kind is SessionKind.MUHURAT


def test_holidays_when_2026_tuesdays_listed():
    tuesdays = [date(2026, 3, 3), date(2026, 3, 31), date(2026, 4, 14)]
    tuesdays += [date(2026, 10, 20), date(2026, 11, 10), date(2026, 11, 24)]
    assert all(is_holiday(d) and d.weekday() == 1 for d in tuesdays)


def test_holidays_when_2026_short_notice_closure_included():
    assert is_holiday(date(2026, 1, 15))


def test_previous_trading_day_when_after_long_weekend_skips_holiday():
    # Friday 2025-04-18 Good Friday, Monday 2025-04-14 Ambedkar Jayanti
    assert previous_trading_day(date(2025, 4, 21)) == date(2025, 4, 17)


def test_next_trading_day_when_friday_returns_monday():
    assert next_trading_day(date(2025, 10, 17)) == date(2025, 10, 20)


def test_next_trading_day_when_diwali_week_skips_two_holidays():
    assert next_trading_day(date(2025, 10, 20)) == date(2025, 10, 23)


def test_trading_days_when_range_spans_weekend_excludes_it():
    assert trading_days(date(2025, 10, 17), date(2025, 10, 20)) == (
        date(2025, 10, 17),
        date(2025, 10, 20),
    )


def test_trading_days_between_when_same_day_zero():
    assert trading_days_between(date(2025, 10, 20), date(2025, 10, 20)) == 0


def test_trading_days_between_when_week_counts_after_start_only():
    assert trading_days_between(date(2025, 10, 13), date(2025, 10, 17)) == 4


def test_is_trading_day_when_outside_coverage_raises():
    with pytest.raises(CalendarRangeError):
        is_trading_day(date(2027, 1, 4))


def test_session_times_when_built_are_ist_aware():
    opening = session_open(date(2025, 10, 20))
    closing = session_close(date(2025, 10, 20))
    assert opening.tzinfo is IST
    assert (opening.hour, opening.minute) == (9, 15)
    assert closing - opening == timedelta(hours=6, minutes=15)
    assert opening.utcoffset() == timedelta(hours=5, minutes=30)


def test_to_ist_when_utc_converts():
    moment = datetime(2025, 10, 20, 3, 45, tzinfo=UTC)
    assert to_ist(moment) == session_open(date(2025, 10, 20))


def test_to_ist_when_naive_raises():
    with pytest.raises(ValueError, match="naive"):
        to_ist(datetime(2025, 10, 20, 9, 15))  # noqa: DTZ001
