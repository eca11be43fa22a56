"""The ``monitor.notifications`` table: rows written once per (dedupe key, channel)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from libs.common.db import Connection
from libs.notify.model import Notification

SESSION_VALID = "broker_session_valid"


@dataclass(frozen=True)
class PendingNotification:
    """A row waiting to be delivered on one channel."""

    id: int
    dedupe_key: str
    channel: str
    attempts: int
    payload: dict[str, Any]

    @property
    def text(self) -> str:
        """The operator-facing text."""
        return str(self.payload["text"])


class NotificationStore:
    """Inserts notifications idempotently and tracks their delivery."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self, conn: Connection, notification: Notification, channels: Sequence[str]
    ) -> int:
        """Add one row per channel unless it exists; return how many rows are new."""
        added = 0
        payload = json.dumps(notification.payload())
        for channel in channels:
            new = await conn.fetchval(
                "INSERT INTO monitor.notifications (dedupe_key, channel, kind, severity, payload, "
                "source_message_id) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (dedupe_key, channel) DO NOTHING RETURNING id",
                notification.dedupe_key,
                channel,
                notification.kind.value,
                notification.severity.value,
                payload,
                notification.source_message_id,
            )
            added += new is not None
        return added

    async def exists(self, dedupe_key: str) -> bool:
        """Whether a notification with this key was recorded on any channel."""
        value = await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM monitor.notifications WHERE dedupe_key = $1)",
            dedupe_key,
        )
        return bool(value)

    async def session_was_valid(self, conn: Connection) -> bool | None:
        """The broker session's validity as last seen (None: never seen); locks the row."""
        value = await conn.fetchval(
            "SELECT value FROM monitor.notifier_state WHERE key = $1 FOR UPDATE", SESSION_VALID
        )
        return None if value is None else value == "true"

    async def remember_session(self, conn: Connection, valid: bool, at: datetime) -> None:
        """Keep the broker session's validity for the next status message."""
        await conn.execute(
            "INSERT INTO monitor.notifier_state (key, value, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
            "updated_at = EXCLUDED.updated_at",
            SESSION_VALID,
            "true" if valid else "false",
            at,
        )

    async def pending(self, channel: str, limit: int = 50) -> list[PendingNotification]:
        """Rows of one channel still to deliver, oldest first."""
        rows = await self._pool.fetch(
            "SELECT id, dedupe_key, channel, attempts, payload FROM monitor.notifications "
            "WHERE channel = $1 AND status = 'pending' ORDER BY id LIMIT $2",
            channel,
            limit,
        )
        return [
            PendingNotification(
                id=r["id"],
                dedupe_key=r["dedupe_key"],
                channel=r["channel"],
                attempts=r["attempts"],
                payload=json.loads(r["payload"]),
            )
            for r in rows
        ]

    async def attempted(self, row_id: int, error: str | None, at: datetime) -> int:
        """Count one delivery attempt (with its error, if any); return the attempts so far."""
        value = await self._pool.fetchval(
            "UPDATE monitor.notifications SET attempts = attempts + 1, last_attempt_at = $2, "
            "last_error = coalesce($3, last_error) WHERE id = $1 RETURNING attempts",
            row_id,
            at,
            error,
        )
        return int(value or 0)

    async def sent(self, row_id: int, at: datetime) -> None:
        """The channel accepted the notification."""
        await self._pool.execute(
            "UPDATE monitor.notifications SET status = 'sent', sent_at = $2 WHERE id = $1",
            row_id,
            at,
        )

    async def failed(self, row_id: int, error: str) -> None:
        """Give up on a notification: it stays in the table for the operator to read."""
        await self._pool.execute(
            "UPDATE monitor.notifications SET status = 'failed', last_error = $2 WHERE id = $1",
            row_id,
            error,
        )
