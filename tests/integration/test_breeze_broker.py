"""BreezeBroker (the live Broker port) with the real SDK against the in-process simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from libs.common.messages import Instrument, OptionRight, Side, SubmitOrder
from services.executor.adapters.breeze import (
    AmbiguousOrderError,
    BreezeBroker,
    BreezeBrokerConfig,
    classify,
)
from services.executor.broker import OrderStatus
from tests.factories import make_order
from tests.integration import test_breeze_sim_sdk as sim_sdk

pytestmark = pytest.mark.integration

# The simulator fixtures of the SDK conformance tests, reused as they are.
guard = sim_sdk.guard
sim = sim_sdk.sim
control = sim_sdk.control
api_session = sim_sdk.api_session
breeze = sim_sdk.breeze
expiry = sim_sdk.expiry
set_quote = sim_sdk.set_quote
book = sim_sdk.book
fault = sim_sdk.fault


@pytest.fixture
def broker(breeze: Any) -> Iterator[BreezeBroker]:
    adapter = BreezeBroker(breeze, BreezeBrokerConfig(call_timeout_s=5.0))
    yield adapter
    adapter.close()


def intent(expiry: date, side: Side, limit: str | None, quantity: int = 65) -> SubmitOrder:
    instrument = Instrument(
        symbol="NIFTY", expiry=expiry, strike=Decimal(25000), right=OptionRight.CE
    )
    return make_order(
        ts_event=datetime.now(UTC),
        instrument=instrument,
        side=side,
        quantity=quantity,
        limit_price=None if limit is None else Decimal(limit),
    )


def quote_120(control: httpx.Client, expiry: date) -> None:
    set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")


async def test_marketable_limit_fills_at_the_simulated_ask(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    result = await broker.submit(intent(expiry, Side.BUY, "121"))
    assert result.status is OrderStatus.FILLED
    assert result.broker_order_id is not None
    [execution] = result.executions
    assert (execution.quantity, execution.price, execution.price_source) == (
        65,
        Decimal("120.50"),
        "quote",
    )
    assert execution.charges > 0
    [row] = book(control)["orders"]
    assert (row["order_id"], row["status"], row["price"]) == (
        result.broker_order_id,
        "Executed",
        "121.00",
    )


async def test_unpriced_sell_uses_the_protected_bid(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    result = await broker.submit(intent(expiry, Side.SELL, None))
    assert result.status is OrderStatus.FILLED
    assert result.executions[0].price == Decimal("119.50")
    [row] = book(control)["orders"]
    assert row["price"] == "113.50"  # 119.5 less 5 %, floored to the tick


async def test_non_marketable_limit_is_accepted(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    result = await broker.submit(intent(expiry, Side.BUY, "110"))
    assert result.status is OrderStatus.ACCEPTED
    assert result.executions == ()
    assert sim_sdk.order_in_book(control, str(result.broker_order_id))["status"] == "Ordered"


async def test_broker_rejection_is_rejected_with_its_reason(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    fault(control, kind="reject", endpoint="order", method="POST", message="RMS: margin")
    result = await broker.submit(intent(expiry, Side.BUY, "1"))
    assert (result.status, result.reason, result.broker_order_id) == (
        OrderStatus.REJECTED,
        "RMS: margin",
        None,
    )
    odd = await broker.submit(intent(expiry, Side.BUY, "1", quantity=50))
    assert odd.status is OrderStatus.REJECTED
    assert odd.reason is not None
    assert "lot size 65" in odd.reason
    assert book(control)["orders"] == []


async def test_lost_response_is_unknown_then_lookup_adopts_the_one_order(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    order = intent(expiry, Side.BUY, "121")
    fault(control, kind="drop_after", endpoint="order", method="POST")
    result = await broker.submit(order)
    assert (result.status, result.broker_order_id) == (OrderStatus.UNKNOWN, None)
    [row] = book(control)["orders"]
    found = await broker.lookup(order)
    assert found is not None
    assert (found.status, found.broker_order_id) == (OrderStatus.FILLED, row["order_id"])
    assert [(e.quantity, e.price) for e in found.executions] == [(65, Decimal("120.50"))]
    assert len(book(control)["orders"]) == 1  # never re-sent: no duplicate
    # an id already adopted by another intent is not matched again
    assert await broker.lookup(order, exclude={row["order_id"]}) is None


async def test_lost_response_of_a_resting_order_looks_up_as_accepted(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    order = intent(expiry, Side.BUY, "1.5")
    fault(control, kind="drop_after", endpoint="order", method="POST")
    assert (await broker.submit(order)).status is OrderStatus.UNKNOWN
    found = await broker.lookup(order)
    assert found is not None
    assert found.status is OrderStatus.ACCEPTED
    assert found.executions == ()
    assert len(book(control)["orders"]) == 1


async def test_dropped_request_is_unknown_then_lookup_finds_nothing(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    order = intent(expiry, Side.BUY, "1.5")
    fault(control, kind="drop", endpoint="order", method="POST")
    assert (await broker.submit(order)).status is OrderStatus.UNKNOWN
    assert book(control)["orders"] == []
    assert await broker.lookup(order) is None


async def test_lookup_ignores_other_orders_and_refuses_to_guess(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    order = intent(expiry, Side.BUY, "1.5")
    other_price = await broker.submit(intent(expiry, Side.BUY, "2"))
    other_side = await broker.submit(intent(expiry, Side.SELL, "150"))
    assert {other_price.status, other_side.status} == {OrderStatus.ACCEPTED}
    assert await broker.lookup(order) is None
    await broker.submit(order)
    await broker.submit(order)  # the same intent twice (what reconciliation must never do)
    with pytest.raises(AmbiguousOrderError, match="an operator"):
        await broker.lookup(order)


async def test_status_500_is_unknown(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    fault(control, kind="status_500", endpoint="order", method="POST", message="Server busy")
    result = await broker.submit(intent(expiry, Side.BUY, "1"))
    assert (result.status, result.broker_order_id) == (OrderStatus.UNKNOWN, None)
    assert result.reason is not None
    assert "Server busy" in result.reason


async def test_slow_answer_times_out_as_unknown(
    breeze: Any, control: httpx.Client, expiry: date
) -> None:
    adapter = BreezeBroker(breeze, BreezeBrokerConfig(call_timeout_s=0.3))
    try:
        fault(control, kind="delay_after", endpoint="order", method="POST", seconds=1.0)
        result = await adapter.submit(intent(expiry, Side.SELL, "150"))
        assert result.status is OrderStatus.UNKNOWN
        assert result.reason is not None
        assert "no answer" in result.reason
    finally:
        adapter.close()


async def test_mark_is_the_simulated_quote(
    broker: BreezeBroker, control: httpx.Client, expiry: date
) -> None:
    quote_120(control, expiry)
    instrument = intent(expiry, Side.BUY, None).instrument
    mark = await broker.mark(instrument, Decimal(25000))
    assert (mark.price, mark.source) == (Decimal("120.00"), "quote")


def test_classifier() -> None:
    assert classify({"Success": [], "Status": 200, "Error": None}).kind == "ok"
    assert classify({"Success": None, "Status": 500, "Error": "No Data Found"}).kind == "empty"
    assert classify({"Success": None, "Status": 500, "Error": "RMS: margin"}).kind == "rejected"
    assert classify({"Success": None, "Status": 500, "Error": "Server busy"}).kind == "unknown"
    assert classify({"Success": None, "Status": 500, "Error": "Invalid User Details"}).kind == (
        "unknown"
    )
    assert classify({"Status": 5, "Error": "Limit exceed: API call per day: "}).kind == "unknown"
    assert classify(None).kind == "unknown"
    assert classify("<html>").kind == "unknown"


async def test_executor_when_reply_lost_settles_by_the_broker_book_and_never_resends(
    broker: BreezeBroker, control: httpx.Client, expiry: date, migrated_database: str
) -> None:
    import asyncpg

    from libs.common.clock import SystemClock
    from libs.common.db import Outbox
    from services.executor.service import ExecutorService, HaltFlag

    pool = await asyncpg.create_pool(migrated_database, min_size=1, max_size=2)
    assert pool is not None
    try:
        executor = ExecutorService(pool, Outbox("executor"), broker, SystemClock(), HaltFlag())
        executor.settle_delay_s = 0.2
        quote_120(control, expiry)
        filled = intent(expiry, Side.BUY, "121").model_copy(
            update={"client_order_id": f"lost-{datetime.now(UTC).timestamp()}"}
        )
        absent = intent(expiry, Side.BUY, "1.5", quantity=130).model_copy(
            update={"client_order_id": f"dropped-{datetime.now(UTC).timestamp()}"}
        )

        fault(control, kind="drop_after", endpoint="order", method="POST")
        await executor.on_submit(filled)
        fault(control, kind="drop", endpoint="order", method="POST")
        await executor.on_submit(absent)

        rows = {
            r["client_order_id"]: (r["status"], r["broker_order_id"])
            for r in await pool.fetch(
                "SELECT client_order_id, status, broker_order_id FROM executor.orders "
                "WHERE client_order_id = ANY($1)",
                [filled.client_order_id, absent.client_order_id],
            )
        }
        [only] = book(control)["orders"]
        assert rows[filled.client_order_id] == ("FILLED", only["order_id"])
        assert rows[absent.client_order_id] == ("REJECTED", None)
    finally:
        await pool.close()
