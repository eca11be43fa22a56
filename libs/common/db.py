"""PostgreSQL helpers: the pool and the transactional outbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
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

    A relay publishes them with the idempotent producer after the transaction commits, and again
    on start-up for any that a crash left behind; consumers deduplicate by ``message_id``.
    """

    def __init__(self, schema: str) -> None:
        if not schema.isidentifier():
            raise ValueError(f"bad schema name {schema!r}")
        self._table = f"{schema}.outbox"

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

    async def relay(
        self, pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes], limit: int = 500
    ) -> int:
        """Publish unpublished messages in order; return how many were sent."""
        sent = 0
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT seq, id, topic, key, payload, headers FROM {self._table} "  # noqa: S608
                "WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            for row in rows:
                headers: dict[str, Any] = json.loads(row["headers"])
                await producer.send_and_wait(
                    row["topic"],
                    value=bytes(row["payload"]),
                    key=row["key"].encode(),
                    headers=[(k, str(v).encode()) for k, v in headers.items()],
                )
                sent += 1
            if rows:
                await conn.execute(
                    f"UPDATE {self._table} SET published_at = now() "  # noqa: S608
                    "WHERE seq = ANY($1::bigint[])",
                    [r["seq"] for r in rows],
                )
        return sent

    async def backlog(self, pool: asyncpg.Pool) -> int:
        """Return how many messages wait to be published."""
        value = await pool.fetchval(
            f"SELECT count(*) FROM {self._table} WHERE published_at IS NULL"  # noqa: S608
        )
        return int(value or 0)


def new_id() -> uuid.UUID:
    """Return a random UUID."""
    return uuid.uuid4()
