"""NSE trading calendar for the F&O segment: holidays, special sessions and session times (IST).

Holidays are weekday closures of the regular session. Sources, per year:

- 2019-2023: NSE's annual F&O "Trading holidays" circular of the preceding December, plus the
  election closures NSE declared during the year; every date was cross-checked against the absence
  of a regular NIFTY session in the exchange's index data.
- 2024: NSE/FAOP/59723 (12 Dec 2023), plus 22 Jan 2024 (declared in January 2024), 20 May 2024
  (NSE/CMTR/61518, 8 Apr 2024) and 20 Nov 2024 (Maharashtra assembly elections).
- 2025: NSE/FAOP/65588 (13 Dec 2024).
- 2026: NSE/FAOP/71777 (12 Dec 2025), plus 15 Jan 2026 (NSE/CMTR/72260, Maharashtra civic
  elections).

Dates outside the covered years raise `CalendarRangeError` rather than guessing.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
SESSION_OPEN = time(9, 15)
SESSION_CLOSE = time(15, 30)
FIRST_COVERED_DATE = date(2019, 1, 1)
LAST_COVERED_DATE = date(2026, 12, 31)

_ANNUAL_2019_2023 = "NSE annual F&O trading-holiday circular"
_FAOP_2024 = "NSE/FAOP/59723"
_FAOP_2025 = "NSE/FAOP/65588"
_FAOP_2026 = "NSE/FAOP/71777"
_MUHURAT_ONLY = "no regular session; Muhurat session only"


class CalendarRangeError(ValueError):
    """A date lies outside the years the holiday table covers."""


@dataclass(frozen=True)
class Holiday:
    """A weekday on which the regular F&O session is closed."""

    day: date
    name: str
    source: str


class SessionKind(StrEnum):
    """Kinds of sessions held outside the regular weekday calendar."""

    FULL = "full"
    PARTIAL = "partial"
    MUHURAT = "muhurat"
    ABNORMAL = "abnormal"


@dataclass(frozen=True)
class SpecialSession:
    """A session on a weekend or holiday, or a regular day with an abnormal session."""

    day: date
    kind: SessionKind
    note: str

    @property
    def is_trading_session(self) -> bool:
        """Whether positions really trade in it (everything except the symbolic Muhurat)."""
        return self.kind is not SessionKind.MUHURAT


def _h(iso: str, name: str, source: str) -> Holiday:
    return Holiday(date.fromisoformat(iso), name, source)


_A = _ANNUAL_2019_2023

HOLIDAYS: tuple[Holiday, ...] = (
    # 2019
    _h("2019-03-04", "Mahashivratri", _A),
    _h("2019-03-21", "Holi", _A),
    _h("2019-04-17", "Mahavir Jayanti", _A),
    _h("2019-04-19", "Good Friday", _A),
    _h("2019-04-29", "Lok Sabha elections in Mumbai", _A),
    _h("2019-05-01", "Maharashtra Day", _A),
    _h("2019-06-05", "Id-ul-Fitr", _A),
    _h("2019-08-12", "Bakri Id", _A),
    _h("2019-08-15", "Independence Day", _A),
    _h("2019-09-02", "Ganesh Chaturthi", _A),
    _h("2019-09-10", "Muharram", _A),
    _h("2019-10-02", "Mahatma Gandhi Jayanti", _A),
    _h("2019-10-08", "Dussehra", _A),
    _h("2019-10-21", "Maharashtra assembly elections", _A),
    _h("2019-10-28", "Diwali Balipratipada", _A),
    _h("2019-11-12", "Guru Nanak Jayanti", _A),
    _h("2019-12-25", "Christmas", _A),
    # 2020
    _h("2020-02-21", "Mahashivratri", _A),
    _h("2020-03-10", "Holi", _A),
    _h("2020-04-02", "Ram Navami", _A),
    _h("2020-04-06", "Mahavir Jayanti", _A),
    _h("2020-04-10", "Good Friday", _A),
    _h("2020-04-14", "Dr. Baba Saheb Ambedkar Jayanti", _A),
    _h("2020-05-01", "Maharashtra Day", _A),
    _h("2020-05-25", "Id-ul-Fitr", _A),
    _h("2020-10-02", "Mahatma Gandhi Jayanti", _A),
    _h("2020-11-16", "Diwali Balipratipada", _A),
    _h("2020-11-30", "Guru Nanak Jayanti", _A),
    _h("2020-12-25", "Christmas", _A),
    # 2021
    _h("2021-01-26", "Republic Day", _A),
    _h("2021-03-11", "Mahashivratri", _A),
    _h("2021-03-29", "Holi", _A),
    _h("2021-04-02", "Good Friday", _A),
    _h("2021-04-14", "Dr. Baba Saheb Ambedkar Jayanti", _A),
    _h("2021-04-21", "Ram Navami", _A),
    _h("2021-05-13", "Id-ul-Fitr", _A),
    _h("2021-07-21", "Bakri Id", _A),
    _h("2021-08-19", "Muharram", _A),
    _h("2021-09-10", "Ganesh Chaturthi", _A),
    _h("2021-10-15", "Dussehra", _A),
    _h("2021-11-04", f"Diwali Laxmi Pujan ({_MUHURAT_ONLY})", _A),
    _h("2021-11-05", "Diwali Balipratipada", _A),
    _h("2021-11-19", "Guru Nanak Jayanti", _A),
    # 2022
    _h("2022-01-26", "Republic Day", _A),
    _h("2022-03-01", "Mahashivratri", _A),
    _h("2022-03-18", "Holi", _A),
    _h("2022-04-14", "Mahavir Jayanti / Dr. Baba Saheb Ambedkar Jayanti", _A),
    _h("2022-04-15", "Good Friday", _A),
    _h("2022-05-03", "Id-ul-Fitr", _A),
    _h("2022-08-09", "Muharram", _A),
    _h("2022-08-15", "Independence Day", _A),
    _h("2022-08-31", "Ganesh Chaturthi", _A),
    _h("2022-10-05", "Dussehra", _A),
    _h("2022-10-24", f"Diwali Laxmi Pujan ({_MUHURAT_ONLY})", _A),
    _h("2022-10-26", "Diwali Balipratipada", _A),
    _h("2022-11-08", "Guru Nanak Jayanti", _A),
    # 2023
    _h("2023-01-26", "Republic Day", _A),
    _h("2023-03-07", "Holi", _A),
    _h("2023-03-30", "Ram Navami", _A),
    _h("2023-04-04", "Mahavir Jayanti", _A),
    _h("2023-04-07", "Good Friday", _A),
    _h("2023-04-14", "Dr. Baba Saheb Ambedkar Jayanti", _A),
    _h("2023-05-01", "Maharashtra Day", _A),
    _h("2023-06-29", "Bakri Id (moved from 28 June)", _A),
    _h("2023-08-15", "Independence Day", _A),
    _h("2023-09-19", "Ganesh Chaturthi", _A),
    _h("2023-10-02", "Mahatma Gandhi Jayanti", _A),
    _h("2023-10-24", "Dussehra", _A),
    _h("2023-11-14", "Diwali Balipratipada", _A),
    _h("2023-11-27", "Guru Nanak Jayanti", _A),
    _h("2023-12-25", "Christmas", _A),
    # 2024
    _h(
        "2024-01-22", "Special holiday (Ram Lalla Pran Pratishtha)", "NSE special closure, Jan 2024"
    ),
    _h("2024-01-26", "Republic Day", _FAOP_2024),
    _h("2024-03-08", "Mahashivratri", _FAOP_2024),
    _h("2024-03-25", "Holi", _FAOP_2024),
    _h("2024-03-29", "Good Friday", _FAOP_2024),
    _h("2024-04-11", "Id-ul-Fitr", _FAOP_2024),
    _h("2024-04-17", "Ram Navami", _FAOP_2024),
    _h("2024-05-01", "Maharashtra Day", _FAOP_2024),
    _h("2024-05-20", "Lok Sabha elections in Mumbai", "NSE/CMTR/61518"),
    _h("2024-06-17", "Bakri Id", _FAOP_2024),
    _h("2024-07-17", "Muharram", _FAOP_2024),
    _h("2024-08-15", "Independence Day", _FAOP_2024),
    _h("2024-10-02", "Mahatma Gandhi Jayanti", _FAOP_2024),
    _h("2024-11-01", f"Diwali Laxmi Pujan ({_MUHURAT_ONLY})", _FAOP_2024),
    _h("2024-11-15", "Guru Nanak Jayanti", _FAOP_2024),
    _h("2024-11-20", "Maharashtra assembly elections", "NSE special closure, Nov 2024"),
    _h("2024-12-25", "Christmas", _FAOP_2024),
    # 2025
    _h("2025-02-26", "Mahashivratri", _FAOP_2025),
    _h("2025-03-14", "Holi", _FAOP_2025),
    _h("2025-03-31", "Id-ul-Fitr", _FAOP_2025),
    _h("2025-04-10", "Mahavir Jayanti", _FAOP_2025),
    _h("2025-04-14", "Dr. Baba Saheb Ambedkar Jayanti", _FAOP_2025),
    _h("2025-04-18", "Good Friday", _FAOP_2025),
    _h("2025-05-01", "Maharashtra Day", _FAOP_2025),
    _h("2025-08-15", "Independence Day", _FAOP_2025),
    _h("2025-08-27", "Ganesh Chaturthi", _FAOP_2025),
    _h("2025-10-02", "Mahatma Gandhi Jayanti / Dussehra", _FAOP_2025),
    _h("2025-10-21", f"Diwali Laxmi Pujan ({_MUHURAT_ONLY})", _FAOP_2025),
    _h("2025-10-22", "Diwali Balipratipada", _FAOP_2025),
    _h("2025-11-05", "Guru Nanak Jayanti", _FAOP_2025),
    _h("2025-12-25", "Christmas", _FAOP_2025),
    # 2026
    _h("2026-01-15", "Maharashtra municipal corporation elections", "NSE/CMTR/72260"),
    _h("2026-01-26", "Republic Day", _FAOP_2026),
    _h("2026-03-03", "Holi", _FAOP_2026),
    _h("2026-03-26", "Ram Navami", _FAOP_2026),
    _h("2026-03-31", "Mahavir Jayanti", _FAOP_2026),
    _h("2026-04-03", "Good Friday", _FAOP_2026),
    _h("2026-04-14", "Dr. Baba Saheb Ambedkar Jayanti", _FAOP_2026),
    _h("2026-05-01", "Maharashtra Day", _FAOP_2026),
    _h("2026-05-28", "Bakri Id", _FAOP_2026),
    _h("2026-06-26", "Muharram", _FAOP_2026),
    _h("2026-09-14", "Ganesh Chaturthi", _FAOP_2026),
    _h("2026-10-02", "Mahatma Gandhi Jayanti", _FAOP_2026),
    _h("2026-10-20", "Dussehra", _FAOP_2026),
    _h("2026-11-10", "Diwali Balipratipada", _FAOP_2026),
    _h("2026-11-24", "Guru Nanak Jayanti", _FAOP_2026),
    _h("2026-12-25", "Christmas", _FAOP_2026),
)

HOLIDAY_DATES: frozenset[date] = frozenset(h.day for h in HOLIDAYS)


def _s(iso: str, kind: SessionKind, note: str) -> SpecialSession:
    return SpecialSession(date.fromisoformat(iso), kind, note)


SPECIAL_SESSIONS: tuple[SpecialSession, ...] = (
    _s("2019-10-27", SessionKind.MUHURAT, "Muhurat trading (Diwali), Sunday evening"),
    _s("2020-02-01", SessionKind.FULL, "Saturday session, Union Budget day"),
    _s("2020-11-14", SessionKind.MUHURAT, "Muhurat trading (Diwali), Saturday evening"),
    _s("2021-02-24", SessionKind.ABNORMAL, "NSE outage; trading resumed 15:45-17:00"),
    _s("2021-11-04", SessionKind.MUHURAT, "Muhurat trading (Diwali), evening"),
    _s("2022-10-24", SessionKind.MUHURAT, "Muhurat trading (Diwali), evening"),
    _s("2023-11-12", SessionKind.MUHURAT, "Muhurat trading (Diwali), Sunday evening"),
    _s("2024-01-20", SessionKind.FULL, "Saturday session (22 Jan 2024 declared a holiday)"),
    _s("2024-03-02", SessionKind.PARTIAL, "Saturday DR-site live trading session"),
    _s("2024-05-18", SessionKind.PARTIAL, "Saturday DR-site live trading session"),
    _s("2024-11-01", SessionKind.MUHURAT, "Muhurat trading (Diwali), evening"),
    _s("2025-02-01", SessionKind.FULL, "Saturday session, Union Budget day"),
    _s("2025-10-21", SessionKind.MUHURAT, "Muhurat trading (Diwali), 13:45-14:45"),
    _s(
        "2026-11-08", SessionKind.MUHURAT, "Muhurat trading (Diwali), Sunday; timing notified later"
    ),
)

_SPECIAL_BY_DATE: dict[date, SpecialSession] = {s.day: s for s in SPECIAL_SESSIONS}


def _check_covered(d: date) -> None:
    if not FIRST_COVERED_DATE <= d <= LAST_COVERED_DATE:
        raise CalendarRangeError(
            f"{d.isoformat()} is outside the NSE calendar "
            f"({FIRST_COVERED_DATE.isoformat()} to {LAST_COVERED_DATE.isoformat()})"
        )


def is_holiday(d: date) -> bool:
    """Whether `d` is a weekday on which the regular session is closed."""
    _check_covered(d)
    return d in HOLIDAY_DATES


def is_trading_day(d: date) -> bool:
    """Whether `d` has a regular 09:15-15:30 session (Monday-Friday minus holidays)."""
    _check_covered(d)
    return d.weekday() < 5 and d not in HOLIDAY_DATES


def special_session(d: date) -> SpecialSession | None:
    """The special session held on `d`, if any."""
    return _SPECIAL_BY_DATE.get(d)


def has_trading_session(d: date) -> bool:
    """Whether positions trade on `d`: a regular day or a non-Muhurat special session."""
    session = special_session(d)
    return is_trading_day(d) or (session is not None and session.is_trading_session)


def previous_trading_day(d: date) -> date:
    """The last regular trading day strictly before `d`."""
    day = d - timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def next_trading_day(d: date) -> date:
    """The first regular trading day strictly after `d`."""
    day = d + timedelta(days=1)
    while not is_trading_day(day):
        day += timedelta(days=1)
    return day


@cache
def _all_trading_days() -> tuple[date, ...]:
    days: list[date] = []
    day = FIRST_COVERED_DATE
    while day <= LAST_COVERED_DATE:
        if day.weekday() < 5 and day not in HOLIDAY_DATES:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


def trading_days(start: date, end: date) -> tuple[date, ...]:
    """Regular trading days in the closed range [start, end]."""
    _check_covered(start)
    _check_covered(end)
    days = _all_trading_days()
    return days[bisect_left(days, start) : bisect_right(days, end)]


def trading_days_between(start: date, end: date) -> int:
    """Number of regular trading days d with start < d <= end (0 when end <= start)."""
    if end <= start:
        return 0
    _check_covered(start)
    _check_covered(end)
    days = _all_trading_days()
    return bisect_right(days, end) - bisect_right(days, start)


def session_open(d: date) -> datetime:
    """The regular session's opening time on `d` in IST."""
    return datetime.combine(d, SESSION_OPEN, tzinfo=IST)


def session_close(d: date) -> datetime:
    """The regular session's closing time on `d` in IST."""
    return datetime.combine(d, SESSION_CLOSE, tzinfo=IST)


def to_ist(moment: datetime) -> datetime:
    """Convert a tz-aware datetime to IST; naive datetimes are rejected."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: market times must carry a time zone")
    return moment.astimezone(IST)
