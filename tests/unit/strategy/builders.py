"""Builders for synthetic hourly bars and a small fake market calendar."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from libs.strategy.bars import REGULAR_BAR_STARTS, Bar, ist_datetime

Row = tuple[float | int | str, float | int | str, float | int | str, float | int | str]


def dec(x: float | int | str) -> Decimal:
    return Decimal(str(x))


def bar_at(day: date, slot: int, row: Row) -> Bar:
    o, h, lo, c = (dec(v) for v in row)
    return Bar(ist_datetime(day, REGULAR_BAR_STARTS[slot]), o, h, lo, c)


def day_bars(day: date, rows: Sequence[Row], first_slot: int = 0) -> list[Bar]:
    return [bar_at(day, first_slot + i, row) for i, row in enumerate(rows)]


def flat_day(day: date, level: float | int = 25000) -> list[Bar]:
    return day_bars(day, [(level, level, level, level)] * 7)


BULL_FRIDAY: list[Row] = [
    (24850, 24900, 24800, 24880),
    (24880, 25100, 24870, 25080),
    (25080, 25300, 25070, 25200),
    (25200, 25270, 25150, 25250),
    (25250, 25260, 25000, 25050),
    (25050, 25080, 24920, 24950),
    (24950, 24960, 24890, 24900),
]

BEAR_FRIDAY: list[Row] = [
    (25150, 25200, 25120, 25130),
    (25130, 25140, 24900, 24920),
    (24920, 24930, 24700, 24800),
    (24800, 24850, 24740, 24750),
    (24750, 24950, 24740, 24940),
    (24940, 25080, 24930, 25060),
    (25060, 25110, 25050, 25100),
]


def previous_week(
    monday: date, friday_rows: Sequence[Row], holidays: Iterable[date] = ()
) -> list[Bar]:
    """Spec §10.1 previous week: Monday-Thursday flat at 25,000, then the given Friday."""
    skip = set(holidays)
    out: list[Bar] = []
    for i in range(4):
        d = monday + timedelta(days=i)
        if d not in skip:
            out.extend(flat_day(d))
    out.extend(day_bars(monday + timedelta(days=4), friday_rows))
    return out


def flat_bars_until(start: date, first_slot: int, end: date, row: Row) -> list[Bar]:
    """Identical bars from ``start`` at ``first_slot`` through the end of ``end`` (weekdays)."""
    out: list[Bar] = []
    d, slot = start, first_slot
    while d <= end:
        if d.weekday() < 5:
            out.extend(bar_at(d, s, row) for s in range(slot, 7))
        d += timedelta(days=1)
        slot = 0
    return out


# Holidays used by the fake calendar (a subset of the real NSE list around the fixtures).
FAKE_HOLIDAYS = frozenset(
    {
        date(2024, 7, 17),
        date(2024, 8, 15),
        date(2025, 8, 15),
        date(2025, 8, 27),
        date(2025, 10, 2),
        date(2025, 10, 21),
        date(2025, 10, 22),
        date(2025, 11, 5),
        date(2025, 12, 25),
    }
)


class FakeCalendar:
    """A small `ExpiryCalendar`: weekday trading days minus FAKE_HOLIDAYS, Thursday expiries to
    2025-08-28 and Tuesday from 2025-09-02 moved back over holidays, and the lot table."""

    def __init__(self, freeze: int = 1800) -> None:
        self._freeze = freeze

    def is_trading_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in FAKE_HOLIDAYS

    def _previous_trading_day(self, d: date) -> date:
        while not self.is_trading_day(d):
            d -= timedelta(days=1)
        return d

    def _trading_days_between(self, a: date, b: date) -> int:
        return sum(
            1 for i in range(1, (b - a).days + 1) if self.is_trading_day(a + timedelta(days=i))
        )

    def next_weekly_expiry(self, d: date, min_trading_days: int) -> date:
        day = d - timedelta(days=7)
        for _ in range(800):
            weekday = 3 if day <= date(2025, 8, 28) else 1
            if day.weekday() == weekday:
                actual = self._previous_trading_day(day)
                if actual >= d and self._trading_days_between(d, actual) >= min_trading_days:
                    return actual
            day += timedelta(days=1)
        raise AssertionError("no expiry found")

    def lot_size(self, expiry: date) -> int:
        if expiry == date(2025, 1, 30):
            return 25
        for last, lot in (
            (date(2021, 7, 22), 75),
            (date(2024, 4, 25), 50),
            (date(2024, 12, 26), 25),
            (date(2025, 12, 30), 75),
        ):
            if expiry <= last:
                return lot
        return 65

    def freeze_qty(self, d: date) -> int:
        return self._freeze
