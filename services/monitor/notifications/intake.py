"""From Kafka facts to stored notifications, once each, in order, committing after the insert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.common.messages import AnyMessage, BrokerStatusChanged, decode
from libs.notify.events import LossRules, notification_for
from libs.notify.model import Notification
from services.monitor.notifications.adapters.store import NotificationStore

log = get_logger(__name__)
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class Intake:
    """Turns each message into at most one notification row per channel."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: NotificationStore,
        rules: LossRules,
        channels: Sequence[str],
        clock: Clock,
        max_age_s: float,
        on_new: Callable[[], None],
    ) -> None:
        self._pool = pool
        self._store = store
        self._rules = rules
        self._channels = tuple(channels)
        self._clock = clock
        self._max_age_s = max_age_s
        self._on_new = on_new

    async def handle(self, message: AnyMessage) -> int:
        """Record the message's notification, if it calls for one; return the rows added."""
        async with self._pool.acquire() as conn, conn.transaction():
            if isinstance(message, BrokerStatusChanged):
                was_valid = await self._store.session_was_valid(conn)
                await self._store.remember_session(conn, message.session_valid, message.ts_event)
                notification = notification_for(message, self._rules, was_valid)
            else:
                notification = notification_for(message, self._rules)
            if notification is None or self._stale(notification):
                return 0
            added = await self._store.record(conn, notification, self._channels)
        if added:
            log.info(
                "notification_recorded",
                kind=notification.kind.value,
                dedupe_key=notification.dedupe_key,
                channels=added,
            )
            self._on_new()
        return added

    def _stale(self, notification: Notification) -> bool:
        age = (self._clock.now() - notification.occurred_at).total_seconds()
        if age <= self._max_age_s:
            return False
        log.info("notification_skipped_stale", dedupe_key=notification.dedupe_key, age_s=age)
        return True


async def consume(
    consumer: AIOKafkaConsumer[bytes, bytes], handle: Callable[[AnyMessage], Awaitable[object]]
) -> None:
    """Feed every record to ``handle`` in order; commit a partition once its records are stored.

    A record that does not decode is logged and skipped (the services that own the topic
    dead-letter it); a database error is retried with backoff until the row is written; a commit
    lost to a rebalance only means the records are read again.
    """
    while True:
        batches = await consumer.getmany(timeout_ms=500, max_records=100)
        for tp, records in batches.items():
            for record in records:
                try:
                    message = decode(record.value or b"")
                except ValidationError as exc:
                    log.warning(
                        "notification_source_undecodable",
                        topic=record.topic,
                        offset=record.offset,
                        error=str(exc)[:300],
                    )
                    continue
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception_type(_DB_ERRORS),
                    wait=wait_exponential_jitter(multiplier=0.5, jitter=0.5, max=30),
                    before_sleep=lambda state: log.error(
                        "notification_store_unavailable",
                        error=repr(state.outcome.exception() if state.outcome else None),
                    ),
                ):
                    with attempt:
                        await handle(message)
            try:
                await consumer.commit({tp: records[-1].offset + 1})
            except CommitFailedError as exc:
                # The group rebalanced (e.g. while a database outage held a record): the records
                # come again from the last commit and find their rows already written.
                log.warning("notification_commit_failed", topic=tp.topic, error=str(exc)[:300])
