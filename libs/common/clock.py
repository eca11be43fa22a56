"""Clocks: the only place that reads the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


class Clock(Protocol):
    """Something that tells the current time as a tz-aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        """Return the fixed time."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to a new time."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        self._at = at.astimezone(UTC)
