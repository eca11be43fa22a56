"""PostgreSQL helpers: the pool and the transactional outbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiolimiter import AsyncLimiter
from asyncpg.pool import PoolConnectionProxy

from libs.common.kafka import message_headers
from libs.common.logging import get_logger
from libs.common.messages import Message, encode
from libs.common.topics import Topic

log = get_logger(__name__)

Pool = asyncpg.Pool
Connection = asyncpg.Connection | PoolConnectionProxy


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 5) -> asyncpg.Pool:
    """Open a connection pool."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, timeout=10)
    if pool is None:  # pragma: no cover - asyncpg returns None only without awaiting
        raise RuntimeError("asyncpg returned no pool")
    return pool


class Outbox:
    """Messages written in the same transaction as the effect that caused them.

    One relay task per process publishes them in order with the idempotent producer, as soon as
    it is woken after a commit and again every few seconds for any a crash left behind;
    consumers deduplicate by ``message_id``. Rows for ``limited_topics`` pass through the rate
    limiter first, so a burst of order commands leaves at most the budget per second.
    """

    def __init__(
        self,
        schema: str,
        limiter: AsyncLimiter | None = None,
        limited_topics: frozenset[str] = frozenset(),
    ) -> None:
        if not schema.isidentifier():
            raise ValueError(f"bad schema name {schema!r}")
        self._table = f"{schema}.outbox"
        self._limiter = limiter
        self._limited = limited_topics
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None

    async def add(self, conn: Connection, topic: Topic, key: str, message: Message) -> None:
        """Stage one message inside the caller's transaction."""
        headers = {k: v.decode() for k, v in message_headers(message)}
        await conn.execute(
            f"INSERT INTO {self._table} (id, topic, key, payload, headers) "  # noqa: S608
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            message.message_id,
            topic.name,
            key,
            encode(message),
            json.dumps(headers),
        )

    def wake(self) -> None:
        """Ask the relay task to publish now (call after the transaction committed)."""
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()

    async def relay(
        self, pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes], limit: int = 500
    ) -> int:
        """Publish unpublished messages in order; return how many were sent."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        sent = 0
        async with self._lock:
            rows = await pool.fetch(
                f"SELECT seq, topic, key, payload, headers FROM {self._table} "  # noqa: S608
                "WHERE published_at IS NULL ORDER BY seq LIMIT $1",
                limit,
            )
            for row in rows:
                if self._limiter is not None and row["topic"] in self._limited:
                    await self._limiter.acquire()
                headers: dict[str, Any] = json.loads(row["headers"])
                await producer.send_and_wait(
                    row["topic"],
                    value=bytes(row["payload"]),
                    key=row["key"].encode(),
                    headers=[(k, str(v).encode()) for k, v in headers.items()],
                )
                await pool.execute(
                    f"UPDATE {self._table} SET published_at = now() WHERE seq = $1",  # noqa: S608
                    row["seq"],
                )
                sent += 1
        return sent

    async def run(
        self, pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes], sweep_s: float
    ) -> None:
        """Relay forever: on every wake-up, and every ``sweep_s`` seconds regardless."""
        if self._wake is None:
            self._wake = asyncio.Event()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=sweep_s)
            self._wake.clear()
            while await self.relay(pool, producer) > 0:
                pass

    async def backlog(self, pool: asyncpg.Pool) -> int:
        """Return how many messages wait to be published."""
        value = await pool.fetchval(
            f"SELECT count(*) FROM {self._table} WHERE published_at IS NULL"  # noqa: S608
        )
        return int(value or 0)


def new_id() -> uuid.UUID:
    """Return a random UUID."""
    return uuid.uuid4()
