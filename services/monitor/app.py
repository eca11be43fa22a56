"""Composition root of monitor: heartbeat watcher, PostgreSQL pool, read routes."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from libs.common.clock import Clock, SystemClock
from libs.common.control import apply_control
from libs.common.db import create_pool
from libs.common.http import add_common_routes, serve
from libs.common.logging import configure_logging, get_logger
from libs.common.messages import AnyMessage, BrokerStatusChanged, ControlSet, Heartbeat
from libs.common.metrics import new_registry
from libs.common.runtime import TaskSupervisor, watch_compacted
from libs.common.topics import BROKER_STATUS, CONTROL, HEARTBEATS
from services.monitor import dashboard
from services.monitor.api import MonitorContext, router
from services.monitor.audit_api import router as audit_router
from services.monitor.backtests import router as backtest_router
from services.monitor.notifications.notifier import Notifier, NotifierConfig
from services.monitor.read_api import router as read_router
from services.monitor.settings import MonitorSettings

SERVICE = "monitor"


@dataclass(frozen=True)
class BacktestRuntime:
    """Where backtest runs execute and which data they read."""

    workers: ProcessPoolExecutor
    tasks: TaskSupervisor
    data_dir: Path


log = get_logger(__name__)


def create_app(settings: MonitorSettings, clock: Clock | None = None) -> FastAPI:
    """Build the monitor app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    registry = new_registry()
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url.get_secret_value())
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=3000
        )
        await admin.start()
        ctx = MonitorContext(settings=settings, pool=pool, admin=admin, clock=clock)
        app.state.ctx = ctx
        tasks = TaskSupervisor()

        async def on_beat(message: AnyMessage) -> None:
            if isinstance(message, Heartbeat):
                ctx.heartbeats[message.service] = message

        async def on_control(message: AnyMessage) -> None:
            if isinstance(message, ControlSet):
                ctx.control = apply_control(ctx.control, message)
                ctx.control_history[message.key.value] = message

        async def on_broker(message: AnyMessage) -> None:
            if isinstance(message, BrokerStatusChanged):
                ctx.broker_status = message

        broker_loaded = asyncio.Event()
        tasks.spawn(
            watch_compacted(
                settings.kafka_bootstrap_servers,
                BROKER_STATUS,
                "monitor-broker",
                on_broker,
                broker_loaded,
            ),
            "watch-broker",
        )
        await asyncio.wait_for(broker_loaded.wait(), timeout=30)
        control_loaded = asyncio.Event()
        tasks.spawn(
            watch_compacted(
                settings.kafka_bootstrap_servers,
                CONTROL,
                "monitor-control",
                on_control,
                control_loaded,
            ),
            "watch-control",
        )
        await asyncio.wait_for(control_loaded.wait(), timeout=30)
        loaded = asyncio.Event()
        tasks.spawn(
            watch_compacted(
                settings.kafka_bootstrap_servers, HEARTBEATS, "monitor-heartbeats", on_beat, loaded
            ),
            "watch-heartbeats",
        )
        await asyncio.wait_for(loaded.wait(), timeout=30)
        workers = ProcessPoolExecutor(
            max_workers=settings.backtest_workers, mp_context=multiprocessing.get_context("spawn")
        )
        app.state.backtests = BacktestRuntime(
            workers=workers, tasks=tasks, data_dir=settings.data_dir()
        )
        notifier = Notifier(NotifierConfig.from_settings(settings), pool, clock, registry)
        await notifier.start(tasks)
        app.state.dashboard = await dashboard.start_dashboard(settings, pool, clock, tasks)
        state["ready"] = True
        log.info("service_started", port=settings.http_port)
        try:
            yield
        finally:
            state["ready"] = False
            await notifier.stop()
            await tasks.stop()
            await app.state.dashboard.close()
            workers.shutdown(cancel_futures=True)
            await admin.close()
            await pool.close()

    app = FastAPI(
        title="strikeflow monitor",
        version="1",
        description="Health, positions and the operator's read side",
        lifespan=lifespan,
    )
    app.include_router(router)
    app.include_router(backtest_router)
    app.include_router(audit_router)
    app.include_router(read_router)
    app.include_router(dashboard.router)
    add_common_routes(app, registry, ready=lambda: state["ready"])
    return app


def main() -> None:
    """Run monitor in the foreground."""
    settings = MonitorSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
