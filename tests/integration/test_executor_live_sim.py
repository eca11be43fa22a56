"""The executor in live mode: order commands from Kafka go to the Breeze simulator through the
real SDK, once, and the outcome is booked in PostgreSQL."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from libs.common.kafka import make_producer, publish
from libs.common.messages import Instrument, Leg, OptionRight, Purpose, Side, SignalName
from libs.common.topics import MARKET_BARS, ORDER_COMMANDS
from services.executor.app import create_app
from services.executor.settings import ExecutorSettings
from tests.factories import make_order
from tests.integration import test_breeze_sim_sdk as sim_sdk
from tests.integration.kafka_tools import start_groups_at_end
from tests.waiting import eventually

pytestmark = pytest.mark.integration
EXECUTOR_TOPICS = (ORDER_COMMANDS, MARKET_BARS)


def live_settings(
    base_url: str,
    session: str,
    database: str,
    bootstrap: str,
    prefix: str,
    **extra: object,
) -> ExecutorSettings:
    """An executor in live mode against the simulator, with its own consumer groups and its own
    session cache."""
    cache = Path(tempfile.mkdtemp(prefix="strikeflow-session-")) / "session.json"
    return ExecutorSettings.model_validate(
        {
            "session_cache_path": str(cache),
            "bars_source": "off",
            **extra,
            "database_url": database,
            "kafka_bootstrap_servers": bootstrap,
            "consumer_group_prefix": prefix,
            "mode": "live",
            "live_confirmed": True,
            "breeze_api_key": sim_sdk.APP_KEY,
            "breeze_api_secret": sim_sdk.SECRET,
            "breeze_session_token": session,
            "breeze_base_url": base_url,
        }
    )


guard, sim, control, api_session, expiry = (
    sim_sdk.guard,
    sim_sdk.sim,
    sim_sdk.control,
    sim_sdk.api_session,
    sim_sdk.expiry,
)


def test_live_mode_when_secrets_missing_or_unconfirmed_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="EXECUTOR_LIVE_CONFIRMED"):
        ExecutorSettings.model_validate({"mode": "live"})
    with pytest.raises(ValidationError, match="breeze_api_secret"):
        ExecutorSettings.model_validate(
            {
                "mode": "live",
                "live_confirmed": True,
                "breeze_api_key": "k-123456",
                "breeze_api_secret": "your_actual_secret",
                "breeze_session_token": "1234",
            }
        )


async def test_live_executor_places_each_command_once_at_the_simulator(
    sim: Any,
    control: httpx.Client,
    api_session: str,
    expiry: date,
    fresh_database: str,
    kafka_bootstrap: str,
) -> None:
    prefix = f"live-{uuid.uuid4().hex[:8]}"
    await start_groups_at_end(
        kafka_bootstrap, {f"{prefix}-executor": (ORDER_COMMANDS, MARKET_BARS)}
    )
    sim_sdk.set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")
    settings = live_settings(sim.url, api_session, fresh_database, kafka_bootstrap, prefix)
    instrument = Instrument(
        symbol="NIFTY", expiry=expiry, strike=Decimal(25000), right=OptionRight.CE
    )
    trade = uuid.uuid4()
    order = make_order(
        ts_event=datetime.now(UTC),
        trade_id=trade,
        client_order_id=f"{trade.hex[:16]}-entry-hedge-0",
        message_id=uuid.uuid4(),
        instrument=instrument,
        side=Side.BUY,
        quantity=65,
        limit_price=Decimal("121"),
        leg=Leg.HEDGE,
        purpose=Purpose.ENTRY,
        signal=SignalName.S3,
    )
    producer = make_producer(kafka_bootstrap, "live-test")
    await producer.start()
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=2)
    assert pool is not None
    try:
        with TestClient(create_app(settings)) as app:
            assert app.get("/healthz").json()["ready"] is True
            for _ in range(3):  # a redelivered command must not become a second order
                await publish(producer, ORDER_COMMANDS, order, key=str(trade))

            async def status() -> str | None:
                return await pool.fetchval(
                    "SELECT status FROM executor.orders WHERE client_order_id = $1",
                    order.client_order_id,
                )

            await eventually(status, lambda s: s == "FILLED", 30, "filled at the simulator")
        orders = sim_sdk.book(control)["orders"]
        assert len(orders) == 1
        broker_id = await pool.fetchval(
            "SELECT broker_order_id FROM executor.orders WHERE client_order_id = $1",
            order.client_order_id,
        )
        assert broker_id == orders[0]["order_id"]
    finally:
        await producer.stop()
        await pool.close()


async def test_live_executor_when_session_expires_keeps_order_unknown_and_reports_it(
    sim: Any,
    control: httpx.Client,
    api_session: str,
    expiry: date,
    fresh_database: str,
    kafka_bootstrap: str,
    broker_ready_after: None,
) -> None:
    from libs.common.messages import BrokerStatusChanged
    from libs.common.topics import BROKER_STATUS
    from tests.integration.kafka_tools import end_offsets, read_from

    prefix = f"live-{uuid.uuid4().hex[:8]}"
    await start_groups_at_end(
        kafka_bootstrap, {f"{prefix}-executor": (ORDER_COMMANDS, MARKET_BARS)}
    )
    sim_sdk.set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")
    settings = live_settings(sim.url, api_session, fresh_database, kafka_bootstrap, prefix)
    trade = uuid.uuid4()
    order = make_order(
        ts_event=datetime.now(UTC),
        trade_id=trade,
        client_order_id=f"{trade.hex[:16]}-entry-hedge-0",
        message_id=uuid.uuid4(),
        instrument=Instrument(
            symbol="NIFTY", expiry=expiry, strike=Decimal(25000), right=OptionRight.CE
        ),
        side=Side.BUY,
        quantity=65,
        limit_price=Decimal("121"),
        leg=Leg.HEDGE,
        purpose=Purpose.ENTRY,
    )
    producer = make_producer(kafka_bootstrap, "live-test")
    await producer.start()
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=2)
    assert pool is not None
    try:
        with TestClient(create_app(settings)):
            before = await end_offsets(kafka_bootstrap, BROKER_STATUS.name, 1)
            control.post("/sessions/expire").raise_for_status()  # noqa: ASYNC212
            await publish(producer, ORDER_COMMANDS, order, key=str(trade))

            async def statuses() -> list[BrokerStatusChanged]:
                found = await read_from(kafka_bootstrap, BROKER_STATUS.name, before, 5, 400)
                return [m for m in found if isinstance(m, BrokerStatusChanged)]

            [status] = await eventually(statuses, lambda s: len(s) >= 1, 30, "broker status")
            row = await pool.fetchval(
                "SELECT status FROM executor.orders WHERE client_order_id = $1",
                order.client_order_id,
            )
        assert status.session_valid is False
        assert "invalid user details" in status.detail.lower()
        assert row == "UNKNOWN"  # never FAILED, never re-sent
        assert sim_sdk.book(control)["orders"] == []
    finally:
        await producer.stop()
        await pool.close()
