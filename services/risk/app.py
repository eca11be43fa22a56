"""Composition root of risk: control replay, signal and bar consumer, rate-limited relay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiolimiter import AsyncLimiter
from fastapi import FastAPI

from libs.common.clock import IST, Clock, SystemClock
from libs.common.consumer_app import ConsumerSpec, Resources, consumer_service_app
from libs.common.control import apply_control, effective_state, state_reasons
from libs.common.db import Outbox
from libs.common.http import serve
from libs.common.kafka import Handler, publish
from libs.common.logging import configure_logging, get_logger
from libs.common.messages import (
    AnyMessage,
    BrokerStatusChanged,
    ControlSet,
    Message,
    PnlSnapshot,
    TradeClosed,
)
from libs.common.metrics import new_registry
from libs.common.runtime import watch_compacted
from libs.common.topics import (
    BROKER_STATUS,
    CONTROL,
    MARKET_BARS,
    ORDER_COMMANDS,
    ORDER_EVENTS,
    PNL,
    SIGNALS,
    Topic,
)
from services.risk.api import router as risk_router
from services.risk.breaker import BreakerConfig
from services.risk.circuit import CircuitKeeper
from services.risk.loss import LossGuard, LossLimits
from services.risk.metrics import RiskMetrics, exposure_loop
from services.risk.service import ControlHolder, RiskService
from services.risk.settings import RiskSettings

SERVICE = "risk"
EXPOSURE_REFRESH_S = 5.0
log = get_logger(__name__)


def build_outbox(settings: RiskSettings) -> Outbox:
    """The risk outbox: order commands leave at most ``order_rate_per_s`` per second.

    A bucket of one, refilled every 1/rate seconds (with 2 % headroom for clock jitter), so no
    one-second window ever holds more than the budget, unlike a bucket of ``rate`` that allows a
    burst of ``rate`` on top of the refill.
    """
    limiter = AsyncLimiter(max_rate=1, time_period=1.02 / settings.order_rate_per_s)
    return Outbox("risk", limiter=limiter, limited_topics=frozenset({ORDER_COMMANDS.name}))


def create_app(settings: RiskSettings, clock: Clock | None = None) -> FastAPI:
    """Build the risk app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    control = ControlHolder()
    outbox = build_outbox(settings)
    holder: dict[str, FastAPI] = {}
    circuit = CircuitKeeper(
        BreakerConfig(
            error_burst=settings.breaker_error_burst,
            error_window=timedelta(seconds=settings.breaker_error_window_s),
            max_consecutive_losses=settings.max_consecutive_losses,
            max_single_trade_loss=settings.max_single_trade_loss,
            cooldown=timedelta(seconds=settings.breaker_cooldown_s),
        ),
        clock,
    )
    registry = new_registry()
    metrics = RiskMetrics(
        registry,
        lambda: control.facts,
        lambda: circuit.breaker.state,
        settings,
        today=lambda: clock.now().astimezone(IST).date(),
    )

    async def on_control(message: AnyMessage) -> None:
        if isinstance(message, ControlSet):
            before = effective_state(control.facts)
            control.facts = apply_control(control.facts, message)
            after = effective_state(control.facts)
            circuit.on_control(message)
            log.warning(
                "control_applied",
                key=message.key,
                engaged=message.engaged,
                changed_by=message.changed_by,
                reason=message.reason,
                state_before=before,
                state=after,
                restrictions=list(state_reasons(control.facts)),
            )

    async def build(res: Resources) -> Handler:
        async def send(topic: Topic, message: Message, key: str) -> None:
            await publish(res.producer, topic, message, key=key)

        circuit.bind(send)
        circuit.restore(control.facts.circuit_values)
        res.tasks.spawn(circuit.run(), "circuit-breaker")
        guard = LossGuard(
            LossLimits(settings.max_daily_loss, settings.loss_warn_fraction, settings.panic_loss),
            control,
            send,
            clock,
        )

        status_loaded = asyncio.Event()

        async def on_status(message: AnyMessage) -> None:
            if isinstance(message, BrokerStatusChanged):
                await circuit.on_broker_status(message, live=status_loaded.is_set())

        res.tasks.spawn(
            watch_compacted(
                settings.kafka_bootstrap_servers,
                BROKER_STATUS,
                "risk-broker-status",
                on_status,
                status_loaded,
            ),
            "watch-broker-status",
        )
        await asyncio.wait_for(status_loaded.wait(), timeout=30)
        loaded = asyncio.Event()

        async def on_pnl(message: AnyMessage) -> None:
            # Replayed snapshots are history: the control facts they caused are already on the
            # control topic, and an operator may have cleared them since. Act on live ones only,
            # and only for today's trading day.
            if isinstance(message, TradeClosed):
                await circuit.on_trade_closed(message, live=loaded.is_set())
                return
            if not isinstance(message, PnlSnapshot):
                return
            if message.trading_day != clock.now().astimezone(IST).date():
                return
            metrics.observe_pnl(message)
            if loaded.is_set():
                await guard.on_snapshot(message)

        res.tasks.spawn(
            watch_compacted(settings.kafka_bootstrap_servers, PNL, "risk-pnl", on_pnl, loaded),
            "watch-pnl",
        )
        await asyncio.wait_for(loaded.wait(), timeout=30)
        service = RiskService(
            res.pool, outbox, clock, control, settings, circuit, on_decision=metrics.decision
        )
        res.tasks.spawn(exposure_loop(res.pool, metrics, EXPOSURE_REFRESH_S), "exposure-metrics")
        res.tasks.spawn(service.run_square_off(settings.square_off_check_s), "square-off")
        holder["app"].state.service = service
        return service.handle

    spec = ConsumerSpec(
        service=SERVICE,
        group_id=f"{settings.consumer_group_prefix}-risk",
        topics=(SIGNALS, MARKET_BARS, ORDER_EVENTS),
        watch=((CONTROL, on_control),),
        outbox=outbox,
        relay_interval_s=settings.outbox_relay_interval_s,
    )
    app = consumer_service_app(
        settings,
        spec,
        clock,
        registry,
        build,
        "strikeflow risk",
        details=lambda: {
            "trading_state": effective_state(control.facts).value,
            "limit.max_open_trades": str(settings.max_open_trades),
            "limit.max_lots_per_trade": str(settings.max_lots_per_trade),
            "limit.max_margin": str(settings.max_margin),
            "limit.margin_per_lot": str(settings.margin_per_lot),
            "limit.max_daily_loss": str(settings.max_daily_loss),
            "limit.panic_loss": str(settings.panic_loss),
        },
    )
    app.state.control = control
    app.include_router(risk_router)
    holder["app"] = app
    return app


def main() -> None:
    """Run risk in the foreground."""
    settings = RiskSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
