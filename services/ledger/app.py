"""Composition root of ledger: one consumer over every fact topic."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.clock import Clock, SystemClock
from libs.common.consumer_app import ConsumerSpec, Resources, consumer_service_app
from libs.common.http import serve
from libs.common.kafka import Handler
from libs.common.logging import configure_logging
from libs.common.metrics import new_registry
from libs.common.topics import (
    BROKER_STATUS,
    CONTROL,
    FILLS,
    MARKS,
    ORDER_COMMANDS,
    ORDER_EVENTS,
    RISK_DECISIONS,
    SIGNALS,
)
from services.ledger.metrics import LedgerMetrics
from services.ledger.service import LedgerService
from services.ledger.settings import LedgerSettings

SERVICE = "ledger"


def create_app(settings: LedgerSettings, clock: Clock | None = None) -> FastAPI:
    """Build the ledger app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    registry = new_registry()
    metrics = LedgerMetrics(registry)

    async def build(res: Resources) -> Handler:
        ledger = LedgerService(res.pool, res.producer, clock, metrics)
        await ledger.publish_positions()
        return ledger.handle

    spec = ConsumerSpec(
        service=SERVICE,
        group_id=f"{settings.consumer_group_prefix}-ledger",
        topics=(
            SIGNALS,
            RISK_DECISIONS,
            ORDER_COMMANDS,
            ORDER_EVENTS,
            FILLS,
            CONTROL,
            MARKS,
            BROKER_STATUS,
        ),
    )
    return consumer_service_app(settings, spec, clock, registry, build, "strikeflow ledger")


def main() -> None:
    """Run ledger in the foreground."""
    settings = LedgerSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
