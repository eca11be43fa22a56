"""Composition root of risk: control watcher, signal consumer, outbox relay."""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.clock import Clock, SystemClock
from libs.common.consumer_app import ConsumerSpec, Resources, consumer_service_app
from libs.common.db import Outbox
from libs.common.http import serve
from libs.common.kafka import Handler
from libs.common.logging import configure_logging, get_logger
from libs.common.messages import AnyMessage, TradingStateChanged
from libs.common.metrics import new_registry
from libs.common.topics import CONTROL, SIGNALS
from services.risk.construction import TradeSettings
from services.risk.service import GateState, RiskService
from services.risk.settings import RiskSettings

SERVICE = "risk"
log = get_logger(__name__)


def create_app(settings: RiskSettings, clock: Clock | None = None) -> FastAPI:
    """Build the risk app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    gate = GateState()

    async def on_control(message: AnyMessage) -> None:
        if isinstance(message, TradingStateChanged):
            gate.apply(message)
            log.warning(
                "trading_state_applied",
                state=message.state,
                kill_switch=message.kill_switch,
                changed_by=message.changed_by,
                reason=message.reason,
            )

    async def build(res: Resources) -> Handler:
        service = RiskService(
            res.pool,
            res.producer,
            clock,
            gate,
            TradeSettings(
                lots=settings.lots,
                hedge_enabled=settings.hedge_enabled,
                hedge_offset_points=settings.hedge_offset_points,
                min_trading_days_to_expiry=settings.min_trading_days_to_expiry,
            ),
            settings.max_lots_per_trade,
            settings.max_open_trades,
        )
        return service.handle

    spec = ConsumerSpec(
        service=SERVICE,
        group_id="strikeflow-risk",
        topics=(SIGNALS,),
        watch=((CONTROL, on_control),),
        outbox=Outbox("risk"),
        relay_interval_s=settings.outbox_relay_interval_s,
    )
    return consumer_service_app(settings, spec, clock, new_registry(), build, "strikeflow risk")


def main() -> None:
    """Run risk in the foreground."""
    settings = RiskSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
