"""Identical orders at the broker: an unknown intent is matched only against broker orders no
other intent owns; when several still match, it stays UNKNOWN (never guessed, never re-sent), the
operator is alerted, and the operator's adoption settles it. Real SDK, simulator, PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from libs.common.messages import Leg, Purpose
from services.executor.adapters.breeze_sdk import create_breeze_client
from services.executor.broker import OrderStatus
from tests.integration import live_executor_harness as live
from tests.integration import test_breeze_sim_sdk as sim_sdk

pytestmark = pytest.mark.integration
guard, sim, control, api_session, expiry = (
    sim_sdk.guard,
    sim_sdk.sim,
    sim_sdk.control,
    sim_sdk.api_session,
    sim_sdk.expiry,
)


@pytest_asyncio.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(fresh_database, min_size=1, max_size=4)
    assert created is not None
    try:
        yield created
    finally:
        await created.close()


async def _status(pool: asyncpg.Pool, cid: str) -> tuple[str, str | None]:
    row = await pool.fetchrow(
        "SELECT status, broker_order_id FROM executor.orders WHERE client_order_id = $1", cid
    )
    assert row is not None
    return str(row["status"]), row["broker_order_id"]


async def test_unknown_intent_among_identical_orders_waits_for_the_operator(
    sim: Any, control: httpx.Client, api_session: str, expiry: date, pool: asyncpg.Pool
) -> None:
    live.quote_both_legs(control, expiry)
    client = create_breeze_client(sim_sdk.APP_KEY, sim.url)
    client.generate_session(api_secret=sim_sdk.SECRET, session_token=api_session)
    service, broker = live.live_executor(pool, client)
    try:
        first = live.command(uuid.uuid4(), Purpose.ENTRY, Leg.HEDGE, expiry)
        await service.on_submit(first)
        assert (await _status(pool, first.client_order_id))[0] == "FILLED"

        # An identical order placed from outside, then one whose answer is lost (UNKNOWN).
        [placed] = sim_sdk.book(control)["orders"]
        outside = sim_sdk.place(
            client,
            expiry,
            action="buy",
            price=str(placed["price"]),
            quantity=str(placed["quantity"]),
            right="put",
            strike_price=str(first.instrument.strike),
        )
        assert outside["Status"] == 200, outside
        second = live.command(uuid.uuid4(), Purpose.ENTRY, Leg.HEDGE, expiry)
        sim_sdk.fault(control, kind="drop_after", endpoint="order", method="POST", times=1)
        await service.on_submit(second)
        await service.reconcile_pending()
        own = max(sim_sdk.book(control)["orders"], key=lambda o: o["order_id"])

        status, adopted = await _status(pool, second.client_order_id)
        assert status == "UNKNOWN"  # two candidates left after excluding the first intent's
        assert adopted is None
        orders = sim_sdk.book(control)["orders"]
        assert len(orders) == 3  # nothing was re-sent
        alerts = await pool.fetch(
            "SELECT payload FROM executor.outbox WHERE topic = 'strikeflow.alerts.v1'"
        )
        assert any(second.client_order_id in bytes(a["payload"]).decode() for a in alerts)

        result = await service.adopt(second.client_order_id, own["order_id"])
        assert result.status is OrderStatus.FILLED
        assert await _status(pool, second.client_order_id) == ("FILLED", own["order_id"])
        with pytest.raises(ValueError, match="not unknown"):
            await service.adopt(first.client_order_id, own["order_id"])
    finally:
        broker.close()
