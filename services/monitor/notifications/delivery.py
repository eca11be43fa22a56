"""Delivers pending notifications on one channel: in order, rate-limited, retried, then given up.

A failing channel never stops monitor: every delivery error ends as a ``failed`` row with its
last error, and a database hiccup only delays the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiolimiter import AsyncLimiter
from prometheus_client import CollectorRegistry, Counter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.common.metrics import NAMESPACE
from services.monitor.notifications.adapters.channels import Channel, DeliveryError
from services.monitor.notifications.adapters.store import NotificationStore, PendingNotification

log = get_logger(__name__)
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one notification is tried."""

    max_attempts: int
    initial_s: float
    max_s: float


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` requests per ``period_s`` seconds on one channel."""

    count: float
    period_s: float

    def limiter(self) -> AsyncLimiter:
        """A fresh leaky-bucket limiter with this rate."""
        return AsyncLimiter(self.count, self.period_s)


class DeliveryMetrics:
    """Counters of delivery attempts and outcomes per channel."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            f"{NAMESPACE}_monitor_notification_attempts_total",
            "Delivery attempts, by channel and result",
            ["channel", "result"],
            registry=registry,
        )
        self.outcomes = Counter(
            f"{NAMESPACE}_monitor_notifications_total",
            "Notifications finished, by channel and status (sent or failed)",
            ["channel", "status"],
            registry=registry,
        )


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.retryable


def retry_delay(backoff_s: float, error: BaseException | None, max_s: float) -> float:
    """The backoff, or longer if the receiver asked for it (Retry-After), at most ``max_s``."""
    asked = error.retry_after if isinstance(error, DeliveryError) else None
    return min(max(backoff_s, asked or 0.0), max_s)


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(
        multiplier=policy.initial_s, jitter=policy.initial_s, max=policy.max_s
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return retry_delay(backoff(state), error, policy.max_s)

    return wait


class Deliverer:
    """One channel's sender loop."""

    def __init__(
        self,
        channel: Channel,
        store: NotificationStore,
        rate: RateLimit,
        policy: RetryPolicy,
        clock: Clock,
        metrics: DeliveryMetrics,
    ) -> None:
        self._channel = channel
        self._store = store
        self._limiter = rate.limiter()
        self._policy = policy
        self._clock = clock
        self._metrics = metrics
        self._wake = asyncio.Event()

    @property
    def channel(self) -> str:
        """The channel's name."""
        return self._channel.name

    def wake(self) -> None:
        """New rows may be waiting: look now rather than at the next poll."""
        self._wake.set()

    async def run(self, poll_s: float) -> None:
        """Deliver forever: whenever woken, and every ``poll_s`` seconds."""
        while True:
            self._wake.clear()
            try:
                while await self.deliver_pending() > 0:
                    pass
            except _DB_ERRORS as exc:
                log.error("notification_store_unavailable", channel=self.channel, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_s)

    async def deliver_pending(self) -> int:
        """Deliver (or give up on) every pending row; return how many were handled."""
        rows = await self._store.pending(self.channel)
        for row in rows:
            await self.deliver(row)
        return len(rows)

    async def deliver(self, row: PendingNotification) -> bool:
        """Try one row until it is sent or its attempts are spent; return whether it was sent."""
        remaining = self._policy.max_attempts - row.attempts
        try:
            if remaining <= 0:
                raise DeliveryError("no attempts left", retryable=False)
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(remaining),
                wait=_wait(self._policy),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    await self._attempt(row)
        except DeliveryError as exc:
            await self._store.failed(row.id, str(exc))
            self._metrics.outcomes.labels(self.channel, "failed").inc()
            log.error(
                "notification_failed",
                channel=self.channel,
                dedupe_key=row.dedupe_key,
                error=str(exc),
            )
            return False
        await self._store.sent(row.id, self._clock.now())
        self._metrics.outcomes.labels(self.channel, "sent").inc()
        log.info("notification_sent", channel=self.channel, dedupe_key=row.dedupe_key)
        return True

    async def _attempt(self, row: PendingNotification) -> None:
        await self._limiter.acquire()
        now = self._clock.now()
        try:
            await self._channel.send(row, int(now.timestamp()))
        except DeliveryError as exc:
            await self._store.attempted(row.id, str(exc), now)
            self._metrics.attempts.labels(self.channel, "error").inc()
            log.warning(
                "notification_attempt_failed",
                channel=self.channel,
                dedupe_key=row.dedupe_key,
                retryable=exc.retryable,
                error=str(exc),
            )
            raise
        await self._store.attempted(row.id, None, now)
        self._metrics.attempts.labels(self.channel, "ok").inc()
