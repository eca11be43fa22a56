"""Time-based exits."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from libs.common.clock import IST
from services.risk.squareoff import square_off_due

ENTRY = date(2026, 11, 19)  # Thursday
EXPIRY = date(2026, 12, 1)
AT = time(15, 15)


@pytest.mark.parametrize(
    ("now", "after_days", "expected"),
    [
        (datetime(2026, 11, 20, 15, 15, tzinfo=IST), 2, None),  # T+1
        (datetime(2026, 11, 23, 15, 14, tzinfo=IST), 2, None),  # T+2, before 15:15
        (datetime(2026, 11, 23, 15, 15, tzinfo=IST), 2, "T+2"),  # Monday is T+2
        (datetime(2026, 11, 25, 15, 20, tzinfo=IST), 2, "T+2"),  # 11-24 is a holiday
        (datetime(2026, 11, 25, 15, 20, tzinfo=IST), 0, None),  # rule off
        (datetime(2026, 12, 1, 15, 15, tzinfo=IST), 0, "expiry-day"),
        (datetime(2026, 12, 1, 11, 0, tzinfo=IST), 2, None),
    ],
)
def test_square_off_due(now: datetime, after_days: int, expected: str | None) -> None:
    reason = square_off_due(ENTRY, EXPIRY, now, after_days, AT)

    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith(expected)
