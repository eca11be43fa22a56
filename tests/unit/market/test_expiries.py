from datetime import date, timedelta

import pytest

from libs.market.calendar import CalendarRangeError
from libs.market.expiries import (
    FIRST_WEEKLY_EXPIRY,
    is_expiry_day,
    is_monthly_expiry,
    monthly_expiry,
    next_weekly_expiry,
    weekly_expiries,
)


def test_weekly_expiries_when_thursday_holiday_moves_to_wednesday():
    assert date(2023, 6, 28) in weekly_expiries(date(2023, 6, 26), date(2023, 6, 30))
    assert date(2023, 6, 29) not in weekly_expiries(date(2023, 6, 26), date(2023, 6, 30))


def test_weekly_expiries_when_diwali_tuesday_moves_to_monday():
    assert weekly_expiries(date(2025, 10, 19), date(2025, 10, 25)) == [date(2025, 10, 20)]


def test_weekly_expiries_when_regime_changes_thursday_then_tuesday():
    assert weekly_expiries(date(2025, 8, 25), date(2025, 9, 10)) == [
        date(2025, 8, 28),
        date(2025, 9, 2),
        date(2025, 9, 9),
    ]


@pytest.mark.parametrize(
    ("holiday", "expiry"),
    [
        (date(2026, 3, 3), date(2026, 3, 2)),
        (date(2026, 3, 31), date(2026, 3, 30)),
        (date(2026, 4, 14), date(2026, 4, 13)),
        (date(2026, 10, 20), date(2026, 10, 19)),
        (date(2026, 11, 10), date(2026, 11, 9)),
        (date(2026, 11, 24), date(2026, 11, 23)),
    ],
)
def test_weekly_expiries_when_2026_tuesday_holiday_moves_to_monday(holiday, expiry):
    week = weekly_expiries(holiday - timedelta(days=6), holiday + timedelta(days=6))
    assert expiry in week
    assert holiday not in week
    assert not is_expiry_day(holiday)


def test_weekly_expiries_when_before_first_weekly_empty():
    assert weekly_expiries(date(2019, 1, 1), date(2019, 2, 13)) == []
    assert weekly_expiries(date(2019, 1, 1), date(2019, 2, 14)) == [FIRST_WEEKLY_EXPIRY]


def test_monthly_expiry_when_march_2026_is_holiday_shifted_monday():
    assert monthly_expiry(2026, 3) == date(2026, 3, 30)
    assert is_monthly_expiry(date(2026, 3, 30))


def test_monthly_expiry_when_thursday_regime_last_thursday():
    assert monthly_expiry(2024, 4) == date(2024, 4, 25)
    assert monthly_expiry(2023, 6) == date(2023, 6, 28)


def test_monthly_expiry_when_tuesday_regime_last_tuesday():
    assert monthly_expiry(2025, 9) == date(2025, 9, 30)
    assert monthly_expiry(2026, 1) == date(2026, 1, 27)


def test_next_weekly_expiry_when_entry_on_expiry_day_rolls_to_next():
    assert next_weekly_expiry(date(2023, 6, 28)) == date(2023, 7, 6)


def test_next_weekly_expiry_when_min_zero_allows_same_day():
    assert next_weekly_expiry(date(2023, 6, 28), min_trading_days=0) == date(2023, 6, 28)


def test_next_weekly_expiry_when_day_before_expiry_keeps_it():
    assert next_weekly_expiry(date(2023, 6, 27)) == date(2023, 6, 28)


def test_next_weekly_expiry_when_min_two_skips_one_day_contract():
    assert next_weekly_expiry(date(2025, 10, 17), min_trading_days=2) == date(2025, 10, 28)
    assert next_weekly_expiry(date(2025, 10, 17)) == date(2025, 10, 20)


def test_next_weekly_expiry_when_before_weeklies_uses_monthly():
    assert next_weekly_expiry(date(2019, 1, 14)) == date(2019, 1, 31)


def test_next_weekly_expiry_when_beyond_calendar_raises():
    with pytest.raises(CalendarRangeError):
        next_weekly_expiry(date(2026, 12, 30))


def test_next_weekly_expiry_when_negative_minimum_raises():
    with pytest.raises(ValueError, match="min_trading_days"):
        next_weekly_expiry(date(2025, 1, 1), min_trading_days=-1)
