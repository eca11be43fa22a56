"""The simulator's cash-segment index candles (historical v2, ``exch_code=NSE``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sim.breeze.candles import index_candles
from sim.breeze.settings import IST
from sim.breeze.wire import SimReject

SPOT = Decimal(25000)


def params(interval: str, start: str = "09:15", end: str = "15:30") -> dict[str, str]:
    return {
        "interval": interval,
        "from_date": f"2026-11-23T{start}:00.000Z",
        "to_date": f"2026-11-23T{end}:00.000Z",
    }


def test_only_candles_closed_by_the_simulated_time_are_served() -> None:
    at = datetime(2026, 11, 23, 10, 15, 30, tzinfo=IST).astimezone(UTC)  # any zone will do
    rows = index_candles("NIFTY", SPOT, params("1minute"), at)
    assert rows[0]["datetime"] == "2026-11-23 09:15:00"
    assert rows[-1]["datetime"] == "2026-11-23 10:14:00"
    assert len(rows) == 60
    at = datetime(2026, 11, 23, 10, 44, tzinfo=IST)
    halves = index_candles("NIFTY", SPOT, params("30minute"), at)
    assert [r["datetime"] for r in halves] == ["2026-11-23 09:15:00", "2026-11-23 09:45:00"]


def test_every_window_and_interval_reads_the_same_walk() -> None:
    late = datetime(2026, 11, 23, 18, 0, tzinfo=IST)
    minutes = index_candles("NIFTY", SPOT, params("1minute"), late)
    again = index_candles("NIFTY", SPOT, params("1minute", "10:00", "10:30"), late)
    assert again == [r for r in minutes if "10:00:00" <= r["datetime"][11:] <= "10:30:00"]
    [last_half] = index_candles("NIFTY", SPOT, params("30minute", "15:15"), late)
    tail = minutes[-15:]
    assert last_half["open"] == tail[0]["open"]
    assert last_half["close"] == tail[-1]["close"]
    assert last_half["high"] == max(r["high"] for r in tail)
    assert last_half["low"] == min(r["low"] for r in tail)
    assert date.fromisoformat(last_half["datetime"][:10]) == date(2026, 11, 23)


def test_other_codes_and_the_second_interval_are_refused() -> None:
    late = datetime(2026, 11, 23, 18, 0, tzinfo=IST)
    with pytest.raises(SimReject, match="No Data Found"):
        index_candles("RELIANCE", SPOT, params("1minute"), late)
    with pytest.raises(SimReject, match="unsupported interval"):
        index_candles("NIFTY", SPOT, params("1second"), late)
