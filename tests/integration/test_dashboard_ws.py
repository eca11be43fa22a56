"""Records on the real Kafka reach a browser's WebSocket on a running monitor.

Monitor runs in-process under uvicorn on a free port, against the real broker and a fresh
PostgreSQL database; the client is a plain WebSocket client.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect

from libs.common.clock import IST
from libs.common.kafka import ensure_topics, publish
from libs.common.messages import ControlKey, ControlSet, PnlSnapshot
from libs.common.topics import CONTROL, FILLS, PNL
from services.monitor.app import create_app
from services.monitor.settings import MonitorSettings
from tests.factories import make_fill
from tests.waiting import eventually

pytestmark = pytest.mark.integration


@dataclass
class RunningMonitor:
    base_url: str
    ws_url: str
    database_url: str


@pytest_asyncio.fixture
async def monitor(fresh_database: str, kafka_bootstrap: str) -> AsyncIterator[RunningMonitor]:
    await ensure_topics(kafka_bootstrap)
    settings = MonitorSettings.model_validate(
        {"database_url": fresh_database, "kafka_bootstrap_servers": kafka_bootstrap}
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_config=None, access_log=False, lifespan="on")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as http:

            async def ready() -> int:
                if task.done():
                    raise AssertionError(f"monitor stopped: {task.exception()!r}")
                try:
                    return (await http.get(f"{base}/healthz")).status_code
                except httpx.TransportError:
                    return 0

            await eventually(ready, lambda status: status == 200, 60, "monitor ready", 0.1)
        yield RunningMonitor(base, f"ws://127.0.0.1:{port}/ws/monitor", fresh_database)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


async def _next_of(ws: ClientConnection, kind: str, match: dict[str, Any]) -> dict[str, Any]:
    """The next event of this type whose data holds these values."""
    while True:
        event = json.loads(await ws.recv())
        if event["type"] == kind and all(event["data"].get(k) == v for k, v in match.items()):
            return dict(event)


async def test_fill_published_on_kafka_reaches_websocket_client(
    monitor: RunningMonitor, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    fill = make_fill(
        ts_event=datetime.now(UTC),
        fill_id=f"it-{uuid.uuid4().hex[:12]}",
        price=Decimal("87.65"),
        charges=Decimal("23.10"),
    )
    async with connect(monitor.ws_url) as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["safety"]["trading_state"] in {"ACTIVE", "REDUCING", "HALTED"}
        assert snapshot["data"]["positions"] == []

        await publish(producer, FILLS, fill, key=fill.client_order_id)
        event = await asyncio.wait_for(_next_of(ws, "fill", {"fill_id": fill.fill_id}), 10)

    assert event["data"]["price"] == "87.65"
    assert event["data"]["charges"] == "23.10"
    assert event["data"]["instrument"]["key"] == fill.instrument.key
    assert event["data"]["side"] == "SELL"
    assert event["ts"] == fill.ts_event.isoformat()


async def test_pnl_snapshot_on_kafka_pushes_pnl_point_and_positions_from_ledger(
    monitor: RunningMonitor, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    now = datetime.now(UTC)
    db = await asyncpg.connect(monitor.database_url)
    try:
        await db.execute(
            "INSERT INTO ledger.positions (instrument_key, symbol, expiry, strike, option_right, "
            "net_quantity, average_price, realized_pnl, charges, opened_at, updated_at, "
            "mark_price, mark_source, marked_at) VALUES ('NIFTY-2026-12-01-24000-PE', 'NIFTY', "
            "'2026-12-01', 24000, 'PE', -65, 101.35, 0, 31.42, $1, $1, 95.35, 'model', $1)",
            now,
        )
    finally:
        await db.close()
    snapshot = PnlSnapshot(
        ts_event=now,
        trading_day=now.astimezone(IST).date(),
        realized=Decimal(0),
        unrealized=Decimal("390.00"),
        charges=Decimal("31.42"),
        net=Decimal("358.58"),
        open_positions=1,
        marks_missing=0,
    )
    async with connect(monitor.ws_url) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "snapshot"

        await publish(producer, PNL, snapshot, key="account")
        point = await asyncio.wait_for(_next_of(ws, "pnl", {"net": "358.58"}), 10)
        positions = await asyncio.wait_for(_next_of(ws, "positions", {}), 10)

    assert point["data"]["unrealized"] == "390.00"
    [position] = positions["data"]["positions"]
    assert position["instrument"] == "NIFTY-2026-12-01-24000-PE"
    assert position["net_quantity"] == -65
    assert position["mark_price"] == "95.35"
    assert position["unrealized_pnl"] == "390.00"  # (95.35 - 101.35) x -65


async def test_snapshot_when_client_connects_holds_todays_pnl_series(
    monitor: RunningMonitor,
) -> None:
    now = datetime.now(UTC)
    db = await asyncpg.connect(monitor.database_url)
    try:
        for minutes, net in ((2, "100.00"), (1, "-50.25")):
            await db.execute(
                "INSERT INTO ledger.pnl_snapshots (message_id, trading_day, realized, unrealized, "
                "charges, net, open_positions, taken_at) VALUES ($1, $2, 0, $3, 0, $3, 1, "
                "$4::timestamptz - make_interval(mins => $5))",
                uuid.uuid4(),
                now.astimezone(IST).date(),
                Decimal(net),
                now,
                minutes,
            )
    finally:
        await db.close()

    async with connect(monitor.ws_url) as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))

    assert [p["net"] for p in snapshot["data"]["pnl"]] == ["100.00", "-50.25"]
    assert snapshot["data"]["trading_day"] == now.astimezone(IST).date().isoformat()


async def test_control_change_on_kafka_pushes_control_and_safety(
    monitor: RunningMonitor, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    # Automation on is every service's default, so this record changes nothing for other tests.
    who = f"it-{uuid.uuid4().hex[:8]}"
    change = ControlSet(
        ts_event=datetime.now(UTC),
        key=ControlKey.AUTOMATION,
        engaged=True,
        changed_by=who,
        reason="dashboard integration test",
    )
    async with connect(monitor.ws_url) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "snapshot"

        await publish(producer, CONTROL, change, key=ControlKey.AUTOMATION.value)
        control = await asyncio.wait_for(_next_of(ws, "control", {"changed_by": who}), 10)
        safety = await asyncio.wait_for(_next_of(ws, "safety", {}), 10)

    assert control["data"]["key"] == "automation"
    assert safety["data"]["automation"] is True
    assert safety["data"]["last_changes"]["automation"]["changed_by"] == who
