"""The dashboard's long-lived parts, built and started by monitor's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from libs.common.clock import IST, Clock
from libs.common.runtime import TaskSupervisor, instance_name
from services.monitor.dashboard.events import Event, broker_view, event
from services.monitor.dashboard.feed import LiveFeed
from services.monitor.dashboard.hub import Hub
from services.monitor.dashboard.operator_proxy import OperatorProxy
from services.monitor.dashboard.store import DashboardStore
from services.monitor.settings import MonitorSettings


@dataclass
class Dashboard:
    """Hub, live feed, database reads and the operator proxy."""

    hub: Hub
    feed: LiveFeed
    store: DashboardStore
    proxy: OperatorProxy
    clock: Clock
    _http: httpx.AsyncClient

    async def snapshot(self) -> Event:
        """Everything a client shows before the first live event."""
        now = self.clock.now()
        today = now.astimezone(IST).date()
        positions, pnl, pending, signals, decisions = await asyncio.gather(
            self.store.positions(),
            self.store.pnl_series(today),
            self.store.pending(now),
            self.store.recent_signals(),
            self.store.recent_decisions(),
        )
        data: dict[str, Any] = {
            "broker": broker_view(self.feed.state.broker),
            "safety": self.feed.state.safety(),
            "positions": positions,
            "pnl": pnl,
            "trading_day": today.isoformat(),
            "pending": pending,
            "signals": signals,
            "decisions": decisions,
        }
        return event("snapshot", now, data)

    async def close(self) -> None:
        """Release the HTTP client (the feed task is cancelled with the supervisor)."""
        await self._http.aclose()


async def start_dashboard(
    settings: MonitorSettings,
    pool: asyncpg.Pool,
    clock: Clock,
    tasks: TaskSupervisor,
    ready_timeout_s: float = 30.0,
) -> Dashboard:
    """Start the live feed and return once it has the control and broker state."""
    hub = Hub(settings.dashboard_client_queue)
    store = DashboardStore(pool)
    feed = LiveFeed(
        settings.kafka_bootstrap_servers,
        hub,
        store,
        clock,
        client_id=f"dashboard-{instance_name('monitor')}",
    )
    http = httpx.AsyncClient(timeout=settings.operator_timeout_s)
    dashboard = Dashboard(
        hub=hub,
        feed=feed,
        store=store,
        proxy=OperatorProxy(http, settings.operator_url()),
        clock=clock,
        _http=http,
    )
    tasks.spawn(feed.run(ready_timeout_s), "dashboard-feed")
    try:
        await asyncio.wait_for(feed.ready.wait(), timeout=ready_timeout_s)
    except TimeoutError:
        await http.aclose()
        raise
    return dashboard
