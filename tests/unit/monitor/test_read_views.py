"""JSON shaping and paging cursors of the read API (services/monitor/views.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.common.messages import BrokerStatusChanged
from services.monitor.views import (
    CursorError,
    broker_status,
    decode_cursor,
    encode_cursor,
    money,
    pct,
    ratio,
)

AT = datetime(2026, 11, 25, 5, 0, 0, 123456, tzinfo=UTC)
TRADE = uuid.UUID("11111111-1111-4111-8111-111111111111")


def test_cursor_round_trips_the_keyset_exactly() -> None:
    assert decode_cursor(encode_cursor(AT, TRADE)) == (AT, TRADE)


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", "bm90IGpzb24", encode_cursor(AT, TRADE)[:-3], "WyJ4IiwgInkiXQ", "WzFd"],
)
def test_cursor_not_issued_by_the_api_is_refused(cursor: str) -> None:
    with pytest.raises(CursorError, match="not one this API issued"):
        decode_cursor(cursor)


def test_cursor_with_a_naive_time_is_refused() -> None:
    naive = encode_cursor(AT.replace(tzinfo=None), TRADE)

    with pytest.raises(CursorError):
        decode_cursor(naive)


def test_numbers_are_rounded_half_up_for_display() -> None:
    assert money(Decimal("1.005")) == "1.01"
    assert money(Decimal(-400)) == "-400.00"
    assert money(None) is None
    assert money(Decimal("-0") * 65) == "0.00"
    assert money(Decimal("-0.004")) == "0.00"
    assert ratio(Decimal("-0.00001")) == "0.0000"
    assert pct(Decimal(1) / Decimal(3)) == "33.33"
    assert ratio(Decimal(4) / Decimal(3)) == "1.3333"


def test_broker_status_unknown_until_the_executor_reports() -> None:
    assert broker_status(None)["status"] == "unknown"
    down = BrokerStatusChanged(ts_event=AT, mode="live", session_valid=False, detail="expired")

    assert broker_status(down) == {
        "status": "down",
        "mode": "live",
        "session_valid": False,
        "detail": "expired",
        "since": "2026-11-25T05:00:00.123456+00:00",
    }
