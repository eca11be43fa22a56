"""Server-side order validation of the Breeze simulator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from sim.breeze.market import Universe
from sim.breeze.settings import SimSettings
from sim.breeze.validation import (
    MARKET_LIMIT_INDICATOR,
    parse_price,
    parse_quantity,
    validate_place,
)
from sim.breeze.wire import NO_DATA, SimReject, parse_expiry

EXPIRY = date(2026, 2, 10)
UNIVERSE = Universe(SimSettings(expiries=(EXPIRY.isoformat(),)), date(2026, 2, 5))


def body(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "stock_code": "NIFTY",
        "exchange_code": "NFO",
        "product": "options",
        "action": "buy",
        "order_type": "limit",
        "quantity": "65",
        "price": "120.5",
        "validity": "day",
        "settlement_id": "",
        "order_segment_code": "",
        "lots": "",
        "user_remark": "",
        "expiry_date": "2026-02-10T06:00:00.000Z",
        "right": "call",
        "strike_price": "25000",
    }
    order.update(changes)
    return {k: v for k, v in order.items() if v is not None}


def reject(**changes: Any) -> str:
    with pytest.raises(SimReject) as caught:
        validate_place(body(**changes), UNIVERSE.find, 1800)
    return caught.value.message


def test_valid_order() -> None:
    spec = validate_place(body(action="BUY", product="Options"), UNIVERSE.find, 1800)
    assert (spec.action, spec.quantity, spec.price, spec.contract.strike) == (
        "buy",
        65,
        Decimal("120.50"),
        Decimal(25000),
    )
    assert spec.contract.expiry == EXPIRY


def test_expiry_formats() -> None:
    assert parse_expiry("2026-02-10T06:00:00.000Z") == EXPIRY
    assert parse_expiry("10-Feb-2026") == EXPIRY
    assert parse_expiry("nonsense") is None
    assert validate_place(body(expiry_date="10-Feb-2026"), UNIVERSE.find, 1800).key[2] == EXPIRY


@pytest.mark.parametrize(
    ("value", "expected"),
    [("130", 130), (130, 130), (130.0, 130)],
)
def test_quantity_accepts_int_or_string(value: object, expected: int) -> None:
    assert parse_quantity(value, 65, 1800) == expected


@pytest.mark.parametrize("value", ["50", "0", "-65", "6.5", "abc", 64.5, "1820"])
def test_quantity_rejections(value: object) -> None:
    with pytest.raises(SimReject):
        parse_quantity(value, 65, 1800)


def test_price_tolerates_float_noise_only() -> None:
    assert parse_price(105.35000000000001) == Decimal("105.35")
    assert parse_price("0.05") == Decimal("0.05")
    for bad in ("105.33", "0", "-1", "x", ""):
        with pytest.raises(SimReject):
            parse_price(bad)


def test_rejections_by_field() -> None:
    assert reject(stock_code="") == "Stock-Code cannot be empty"
    assert reject(action="hold") == "Action should be either 'buy', or 'sell'"
    assert reject(order_type="market").startswith("SIM: market orders")
    assert reject(order_type="bracket") == MARKET_LIMIT_INDICATOR
    assert reject(validity="gtc").startswith("SIM: validity")
    assert reject(strike_price="25025") == NO_DATA
    assert reject(expiry_date="2026-02-11T06:00:00.000Z") == NO_DATA
    assert reject(right=None) == NO_DATA
    assert reject(exchange_code="NSE").startswith("SIM: only exchange NFO")


def test_stop_orders() -> None:
    spec = validate_place(
        body(order_type="stoploss", stoploss="120", price="121"), UNIVERSE.find, 1800
    )
    assert spec.stoploss == Decimal("120.00")
    assert reject(order_type="stoploss") == MARKET_LIMIT_INDICATOR
    assert reject(order_type="stoploss", stoploss="125", price="121").startswith("SIM: stop")
    assert reject(stoploss="118") == MARKET_LIMIT_INDICATOR
