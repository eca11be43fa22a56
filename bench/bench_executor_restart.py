"""Executor restart -> reconciled -> ready, in live mode against the local Breeze simulator.

A real executor process (real SDK, Kafka and PostgreSQL from the running stack, its own database
and consumer group) trades a few hedged entries, then is SIGKILLed while the broker holds the
answer to an order it has booked. The figure is the time from spawning the new process until its
health check says ready, which it says only after it has reconciled orders and positions with
the broker (the held order is settled from the broker's order list). Target: <= 10 s.

Needs ``DATABASE_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` (``make bench`` starts the stack).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.common.kafka import make_producer, publish
from libs.common.messages import (
    Instrument,
    Leg,
    OptionRight,
    Purpose,
    Side,
    SignalName,
    SubmitOrder,
    derived_id,
)
from libs.common.migrate import apply_migrations
from libs.common.topics import MARKET_BARS, ORDER_COMMANDS, Topic
from services.executor.adapters.breeze_sdk import load_breeze_sdk
from sim.breeze.server import SimServer
from sim.breeze.settings import SimSettings

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5
WARM_TRADES = 10


def pct(values: list[float], q: float) -> float:
    """Percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for(check, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``check`` until it is true."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def groups_at_end(bootstrap: str, group: str, topics: tuple[Topic, ...]) -> None:
    """Commit a fresh consumer group at the topics' ends."""
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(tps)
        await consumer.commit(dict(await consumer.end_offsets(tps)))
    finally:
        await consumer.stop()


def order(expiry: date, strike: int, side: Side, leg: Leg) -> SubmitOrder:
    """One entry leg of a bullish put spread, as risk would send it."""
    trade = uuid.uuid4()
    cid = f"{trade.hex[:16]}-entry-{leg.value}-0"
    return SubmitOrder(
        ts_event=datetime.now(UTC),
        message_id=derived_id("command", cid),
        client_order_id=cid,
        trade_id=trade,
        signal_id=uuid.uuid4(),
        signal=SignalName.S1,
        purpose=Purpose.ENTRY,
        leg=leg,
        sequence=0,
        instrument=Instrument(
            symbol="NIFTY", expiry=expiry, strike=Decimal(strike), right=OptionRight.PE
        ),
        side=side,
        quantity=65,
        lot_size=65,
        underlying_price=Decimal(24600),
    )


class Executor:
    """The executor as a real process."""

    def __init__(self, env: dict[str, str], port: int, workdir: Path) -> None:
        self.env, self.port, self.workdir = env, port, workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        """Spawn it; seconds until it says ready (after reconciling)."""
        started = time.perf_counter()
        with (self.workdir / "executor.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.executor.app", env=self.env, stdout=log, stderr=log
            )

        async def ready() -> bool:
            if self.process is None or self.process.returncode is not None:
                raise RuntimeError("executor exited: see executor.log")
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    reply = await client.get(f"http://127.0.0.1:{self.port}/healthz")
                return bool(reply.json().get("ready"))
            except (httpx.HTTPError, ValueError):
                return False

        await wait_for(ready, 60, "executor ready")
        return time.perf_counter() - started

    async def kill(self) -> None:
        """SIGKILL."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)


async def run() -> dict[str, object]:
    """The measurement."""
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin_url = os.environ["DATABASE_URL"]
    name = f"strikeflow_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    database = f"{admin_url.rpartition('/')[0]}/{name}"
    apply_migrations(database)
    workdir = Path(tempfile.mkdtemp(prefix="strikeflow-bench-"))
    load_breeze_sdk(workdir / "sdk")
    settings = SimSettings(
        calls_per_minute=10**6,
        calls_per_day=10**7,
        order_ops_per_second=10**6,
        opening_funds=10**9,
    )
    prefix = f"bench-restart-{uuid.uuid4().hex[:8]}"
    await groups_at_end(bootstrap, f"{prefix}-executor", (ORDER_COMMANDS, MARKET_BARS))
    producer = make_producer(bootstrap, "bench-restart")
    await producer.start()
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    if pool is None:
        raise RuntimeError("no database pool")
    timings: list[float] = []
    try:
        with SimServer(settings) as sim:
            control = httpx.AsyncClient(base_url=f"{sim.url}/_sim")
            expiry = sim.state.universe.expiries[0]
            for strike, ltp in ((24300, "40"), (24500, "80")):
                (
                    await control.post(
                        "/quotes",
                        json={
                            "expiry_date": expiry.isoformat(),
                            "right": "put",
                            "strike_price": str(strike),
                            "ltp": ltp,
                        },
                    )
                ).raise_for_status()
            port = free_port()
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("EXECUTOR_", "BREEZE_", "KAFKA_", "DATABASE_"))
            }
            env.update(
                {
                    "PYTHONPATH": str(ROOT),
                    "EXECUTOR_MODE": "live",
                    "EXECUTOR_BARS_SOURCE": "off",
                    "EXECUTOR_LIVE_CONFIRMED": "true",
                    "BREEZE_API_KEY": settings.app_key,
                    "BREEZE_API_SECRET": settings.secret_key,
                    "BREEZE_API_SESSION": settings.api_sessions[0],
                    "EXECUTOR_BREEZE_BASE_URL": sim.url,
                    "EXECUTOR_SESSION_CACHE_PATH": str(workdir / "session.json"),
                    "DATABASE_URL": database,
                    "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    "KAFKA_CONSUMER_GROUP_PREFIX": prefix,
                    "EXECUTOR_HTTP_PORT": str(port),
                    "LOG_LEVEL": "WARNING",
                    "KAFKA_STATIC_MEMBERSHIP": "true",
                }
            )
            executor = Executor(env, port, workdir)
            await executor.start()
            warm = [order(expiry, 24300, Side.BUY, Leg.HEDGE) for _ in range(WARM_TRADES)]
            for command in warm:
                await publish(producer, ORDER_COMMANDS, command, key=str(command.trade_id))

            async def filled(n: int) -> bool:
                count = await pool.fetchval(
                    "SELECT count(*) FROM executor.orders WHERE status = 'FILLED'"
                )
                return int(count) >= n

            await wait_for(lambda: filled(WARM_TRADES), 120, "warm-up orders filled")
            for n in range(ROUNDS):
                (
                    await control.post(
                        "/faults",
                        json={
                            "kind": "hold_after",
                            "endpoint": "order",
                            "method": "POST",
                            "times": 1,
                        },
                    )
                ).raise_for_status()
                held = order(expiry, 24300, Side.BUY, Leg.HEDGE)
                await publish(producer, ORDER_COMMANDS, held, key=str(held.trade_id))

                async def booked(count: int = WARM_TRADES + n + 1) -> bool:
                    return len((await control.get("/book")).json()["orders"]) >= count

                await wait_for(booked, 60, "held order booked")
                await executor.kill()
                (await control.post("/faults/release")).raise_for_status()
                timings.append(await executor.start())
                status = await pool.fetchval(
                    "SELECT status FROM executor.orders WHERE client_order_id = $1",
                    held.client_order_id,
                )
                if status != "FILLED":
                    raise RuntimeError(f"held order not reconciled: {status}")
            await executor.stop()
            orders_at_broker = len((await control.get("/book")).json()["orders"])
            await control.aclose()
    finally:
        await pool.close()
        await producer.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "figure": "executor_restart_to_ready_s",
        "p50": round(pct(timings, 50), 2),
        "max": round(max(timings), 2),
        "target_max": 10.0,
        "rounds": ROUNDS,
        "orders_at_broker": orders_at_broker,
        "duplicates": orders_at_broker - (WARM_TRADES + ROUNDS),
        "note": "spawn of a live executor after SIGKILL until /healthz ready, after reconciling "
        "a held order from the broker's order list",
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }


def main() -> None:
    """Print one JSON object."""
    print(json.dumps(asyncio.run(run())))


if __name__ == "__main__":
    main()
