"""Composition root of ingest: settings, Kafka producer, routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from libs.common.clock import Clock, SystemClock
from libs.common.http import add_common_routes, serve
from libs.common.kafka import make_producer
from libs.common.logging import configure_logging, get_logger
from libs.common.metrics import new_registry
from libs.common.runtime import TaskSupervisor, heartbeat_loop
from services.ingest.api import IngestContext, RecentKeys, router
from services.ingest.metrics import IngestMetrics
from services.ingest.operator import OperatorError
from services.ingest.operator import router as operator_router
from services.ingest.settings import IngestSettings

SERVICE = "ingest"
log = get_logger(__name__)


def install_routes(app: FastAPI) -> None:
    """Add the webhook and operator routes and the operator error answers."""
    app.include_router(router)
    app.include_router(operator_router)

    @app.exception_handler(OperatorError)
    async def _operator_error(_request: Request, exc: OperatorError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(status_code=exc.status, content={"error": str(exc)}, headers=headers)


def create_app(settings: IngestSettings, clock: Clock | None = None) -> FastAPI:
    """Build the ingest app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    registry = new_registry()
    metrics = IngestMetrics(registry)
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = make_producer(settings.kafka_bootstrap_servers, client_id=SERVICE)
        await producer.start()
        tasks = TaskSupervisor()
        app.state.ctx = IngestContext(
            settings=settings,
            producer=producer,
            clock=clock,
            metrics=metrics,
            recent=RecentKeys(),
            allowlist=settings.allowlist(),
        )
        started = clock.now()

        def no_lag() -> int:
            # Called once per heartbeat: ingest consumes nothing, so its lag is always zero.
            metrics.beat()
            return 0

        tasks.spawn(
            heartbeat_loop(
                producer, SERVICE, started, clock, settings.heartbeat_interval_s, lag=no_lag
            ),
            "heartbeat",
        )
        state["ready"] = True
        log.info("service_started", port=settings.http_port)
        try:
            yield
        finally:
            state["ready"] = False
            await tasks.stop()
            await producer.stop()
            log.info("service_stopped")

    app = FastAPI(
        title="strikeflow ingest",
        version="1",
        description="TradingView webhook and operator commands",
        lifespan=lifespan,
    )
    install_routes(app)

    add_common_routes(app, registry, ready=lambda: state["ready"])
    return app


def main() -> None:
    """Run ingest in the foreground."""
    settings = IngestSettings.model_validate({})
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
