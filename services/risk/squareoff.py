"""Time-based exits (pure): T+N square-off and expiry-day square-off at a set time (IST)."""

from __future__ import annotations

from datetime import date, datetime, time

from libs.market.calendar import CalendarRangeError, trading_days_between


def square_off_due(
    entry_day: date,
    expiry: date,
    now_ist: datetime,
    after_days: int,
    at: time,
) -> str | None:
    """Why a trade entered on ``entry_day`` must be squared off now, or None.

    Due from ``at`` on the ``after_days``-th trading day after entry (0 disables that rule), and
    from ``at`` on the expiry day whatever ``after_days`` says.
    """
    today = now_ist.date()
    if now_ist.time() < at:
        return None
    if today >= expiry:
        return f"expiry-day square-off at {at:%H:%M} IST"
    if after_days <= 0 or today <= entry_day:
        return None
    try:
        held = trading_days_between(entry_day, today)
    except CalendarRangeError:
        return None
    if held >= after_days:
        return f"T+{after_days} square-off at {at:%H:%M} IST"
    return None
