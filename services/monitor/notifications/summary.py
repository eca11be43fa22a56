"""Schedules the post-market summary: once per IST session day, after the configured time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import time

import asyncpg

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.notify.summary import summary_day_due, summary_key, summary_notification
from services.monitor.notifications.adapters.day_figures import day_figures
from services.monitor.notifications.adapters.store import NotificationStore

log = get_logger(__name__)
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class SummaryScheduler:
    """Writes the day's summary notification once it is due."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: NotificationStore,
        channels: Sequence[str],
        after: time,
        clock: Clock,
        on_new: Callable[[], None],
    ) -> None:
        self._pool = pool
        self._store = store
        self._channels = tuple(channels)
        self._after = after
        self._clock = clock
        self._on_new = on_new

    async def tick(self) -> bool:
        """Record today's summary if it is due and not yet recorded; return whether it was."""
        day = summary_day_due(self._clock.now(), self._after)
        if day is None or await self._store.exists(summary_key(day)):
            return False
        figures = await day_figures(self._pool, day)
        notification = summary_notification(figures, self._clock.now())
        async with self._pool.acquire() as conn:
            added = await self._store.record(conn, notification, self._channels)
        if added:
            log.info("daily_summary_recorded", trading_day=day.isoformat(), net=str(figures.net))
            self._on_new()
        return added > 0

    async def run(self, every_s: float) -> None:
        """Check forever, every ``every_s`` seconds."""
        while True:
            try:
                await self.tick()
            except _DB_ERRORS as exc:
                log.error("daily_summary_unavailable", error=repr(exc))
            await asyncio.sleep(every_s)
