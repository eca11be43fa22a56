"""The live executor killed (SIGKILL) while the broker holds the answer to an order it has booked:
the restarted process settles the order from the broker's order list and never sends it again
(breeze.md 5.1, 5.2, 6.3: start-up reconciliation before new commands).

The executor runs as a real process (``python -m services.executor.app``) in live mode against
the in-process Breeze simulator, with real Kafka and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from libs.common.kafka import make_producer, publish
from libs.common.messages import FillReported, Leg, OrderAccepted, OrderFilled, Purpose
from libs.common.topics import FILLS, MARKET_BARS, ORDER_COMMANDS, ORDER_EVENTS
from sim.breeze.server import SimServer
from tests.integration import live_executor_harness as live
from tests.integration import test_breeze_sim_sdk as sim_sdk
from tests.integration.kafka_tools import end_offsets, read_from, start_groups_at_end
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0

guard, sim, control, api_session, expiry = (
    sim_sdk.guard,
    sim_sdk.sim,
    sim_sdk.control,
    sim_sdk.api_session,
    sim_sdk.expiry,
)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ExecutorProcess:
    """``python -m services.executor.app`` with a fixed environment, restartable."""

    env: dict[str, str]
    port: int
    workdir: Path
    process: asyncio.subprocess.Process | None = None
    log: IO[bytes] | None = None
    starts: int = 0

    async def start(self) -> None:
        """Spawn the process and wait until its health check says ready."""
        self.starts += 1
        self.log = (self.workdir / f"executor-{self.starts}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.executor.app",
            cwd=self.workdir,
            env=self.env,
            stdout=self.log,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.process = process

        async def ready() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"executor exited at start-up: {self.output()}")
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    reply = await client.get(f"http://127.0.0.1:{self.port}/healthz")
                return reply.json().get("ready") is True
            except (httpx.HTTPError, ValueError):
                return False

        await eventually(ready, bool, START_TIMEOUT_S, "executor ready", poll_s=0.1)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.process.wait(), 10) == -signal.SIGKILL

    async def stop(self) -> None:
        """SIGTERM and wait (the outbox relay and consumer stop cleanly)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await asyncio.wait_for(self.process.wait(), 10)
        if self.log is not None:
            self.log.close()

    def output(self) -> str:
        """The last lines the process wrote."""
        if self.log is not None:
            self.log.flush()
        text = (self.workdir / f"executor-{self.starts}.log").read_text(errors="replace")
        return text[-3000:]


@pytest_asyncio.fixture
async def executor(
    sim: SimServer,
    api_session: str,
    fresh_database: str,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> AsyncIterator[ExecutorProcess]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EXECUTOR_", "BREEZE_", "KAFKA_", "DATABASE_"))
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "EXECUTOR_MODE": "live",
            "EXECUTOR_BARS_SOURCE": "off",
            "EXECUTOR_LIVE_CONFIRMED": "true",
            "BREEZE_API_KEY": sim_sdk.APP_KEY,
            "BREEZE_API_SECRET": sim_sdk.SECRET,
            "BREEZE_API_SESSION": api_session,
            "EXECUTOR_BREEZE_BASE_URL": sim.url,
            "DATABASE_URL": fresh_database,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_CONSUMER_GROUP_PREFIX": f"sigkill-{uuid.uuid4().hex[:8]}",
            "EXECUTOR_HTTP_PORT": str(port),
            "EXECUTOR_OUTBOX_RELAY_INTERVAL_S": "0.2",
            "HEARTBEAT_INTERVAL_S": "5",
        }
    )
    process = ExecutorProcess(env, port, tmp_path)
    try:
        yield process
    finally:
        await process.stop()


def about(client_order_id: str, messages: list[Any]) -> list[Any]:
    """The messages of one order."""
    return [m for m in messages if getattr(m, "client_order_id", None) == client_order_id]


async def test_executor_killed_while_the_answer_is_held_settles_the_order_once(
    executor: ExecutorProcess,
    control: httpx.Client,
    expiry: date,
    fresh_database: str,
    kafka_bootstrap: str,
) -> None:
    prefix = executor.env["KAFKA_CONSUMER_GROUP_PREFIX"]
    await start_groups_at_end(
        kafka_bootstrap, {f"{prefix}-executor": (ORDER_COMMANDS, MARKET_BARS)}
    )
    live.quote_both_legs(control, expiry)
    trade = uuid.uuid4()
    order = live.command(trade, Purpose.ENTRY, Leg.HEDGE, expiry)
    events_from = await end_offsets(kafka_bootstrap, ORDER_EVENTS.name, ORDER_EVENTS.partitions)
    fills_from = await end_offsets(kafka_bootstrap, FILLS.name, FILLS.partitions)
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=2)
    assert pool is not None
    producer = make_producer(kafka_bootstrap, "sigkill-test")
    await producer.start()
    try:
        await executor.start()
        # The broker books the order and holds its answer until released.
        sim_sdk.fault(control, kind="hold_after", endpoint="order", method="POST", times=1)
        await publish(producer, ORDER_COMMANDS, order, key=str(trade))

        [booked] = await live.wait_book_orders(
            control, lambda orders: len(orders) == 1, 30, "the order booked at the broker"
        )
        assert booked["status"] == "Executed"
        assert await live.sim_call(control, "GET", "/faults/held") == {"holding": 1}

        async def row() -> asyncpg.Record | None:
            return await pool.fetchrow(
                "SELECT status, broker_order_id, filled_quantity FROM executor.orders "
                "WHERE client_order_id = $1",
                order.client_order_id,
            )

        before = await row()
        assert before is not None
        assert (before["status"], before["broker_order_id"]) == ("PENDING_SUBMIT", None)

        await executor.kill()
        await live.sim_call(control, "POST", "/faults/release")  # to a dead socket
        await live.sim_call(control, "DELETE", "/faults")

        await executor.start()
        settled = await eventually(
            row,
            lambda r: r is not None and r["status"] != "PENDING_SUBMIT",
            START_TIMEOUT_S,
            "the order settled after the restart",
        )
        assert settled is not None
        assert (settled["status"], settled["broker_order_id"], settled["filled_quantity"]) == (
            "FILLED",
            booked["order_id"],
            live.QUANTITY,
        )

        async def published() -> tuple[list[Any], list[Any]]:
            events = await read_from(kafka_bootstrap, ORDER_EVENTS.name, events_from, 1000, 1000)
            fills = await read_from(kafka_bootstrap, FILLS.name, fills_from, 1000, 1000)
            return about(order.client_order_id, events), about(order.client_order_id, fills)

        await eventually(
            published, lambda p: len(p[0]) >= 2 and len(p[1]) >= 1, 30, "events published"
        )
        await executor.stop()  # a clean stop drains the outbox: anything late is on the topics
        events, fills = await published()
        assert sorted(type(e).__name__ for e in events) == ["OrderAccepted", "OrderFilled"]
        accepted = next(e for e in events if isinstance(e, OrderAccepted))
        filled = next(e for e in events if isinstance(e, OrderFilled))
        assert accepted.broker_order_id == filled.broker_order_id == booked["order_id"]
        assert filled.filled_quantity == live.QUANTITY
        [fill] = fills
        assert isinstance(fill, FillReported)
        assert (fill.quantity, fill.fill_id) == (live.QUANTITY, f"breeze-{booked['order_id']}")

        calls = await live.sim_call(control, "GET", "/calls")
        places = [c for c in calls if c["method"] == "POST" and c["endpoint"] == "order"]
        assert len(places) == 1, places
        assert len((await live.sim_call(control, "GET", "/book"))["orders"]) == 1
    finally:
        await producer.stop()
        await pool.close()
