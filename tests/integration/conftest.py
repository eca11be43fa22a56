"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from libs.common.kafka import make_producer
from libs.common.topics import CONTROL


@pytest_asyncio.fixture
async def pool(migrated_database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session's migrated database."""
    pool = await asyncpg.create_pool(migrated_database, min_size=2, max_size=8)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer[bytes, bytes]]:
    """An idempotent producer on the real broker."""
    producer = make_producer(kafka_bootstrap, "integration")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest_asyncio.fixture
async def broker_ready_after(kafka_bootstrap: str) -> AsyncIterator[None]:
    """Leave the compacted broker status 'ready' after a test that made it invalid.

    Every risk process replays that topic, and an invalid status there would keep later tests'
    entries out.
    """
    yield
    from datetime import UTC, datetime

    from libs.common.kafka import publish
    from libs.common.messages import BrokerStatusChanged
    from libs.common.topics import BROKER_STATUS

    producer = make_producer(kafka_bootstrap, "integration-broker-ready")
    await producer.start()
    try:
        ready = BrokerStatusChanged(
            ts_event=datetime.now(UTC), mode="paper", session_valid=True, detail="test teardown"
        )
        await publish(producer, BROKER_STATUS, ready, key="broker")
    finally:
        await producer.stop()


@pytest_asyncio.fixture
async def control_cleared_after(kafka_bootstrap: str) -> AsyncIterator[None]:
    """Leave every control fact released after a test that engaged some.

    The control topic is compacted and replayed by every service; a kill switch, emergency stop,
    loss halt or open breaker left behind would change what later tests see.
    """
    yield
    from datetime import UTC, datetime

    from libs.common.kafka import publish
    from libs.common.messages import ControlKey, ControlSet

    producer = make_producer(kafka_bootstrap, "integration-control-clear")
    await producer.start()
    try:
        now = datetime.now(UTC)
        for key in (ControlKey.KILL_SWITCH, ControlKey.EMERGENCY_STOP, ControlKey.LOSS_HALT):
            fact = ControlSet(
                ts_event=now, key=key, engaged=False, changed_by="test", reason="teardown"
            )
            await publish(producer, CONTROL, fact, key=key.value)
        closed = ControlSet(
            ts_event=now,
            key=ControlKey.CIRCUIT,
            values={"state": "closed", "reason": ""},
            changed_by="test",
            reason="teardown",
        )
        await publish(producer, CONTROL, closed, key=ControlKey.CIRCUIT.value)
    finally:
        await producer.stop()
