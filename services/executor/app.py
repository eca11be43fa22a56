"""Composition root of executor: the broker is chosen here, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from libs.common.clock import IST, Clock, SystemClock
from libs.common.consumer_app import ConsumerSpec, Resources, consumer_service_app
from libs.common.control import apply_control, effective_state
from libs.common.db import Outbox
from libs.common.http import serve
from libs.common.kafka import Handler, publish
from libs.common.logging import configure_logging, get_logger
from libs.common.messages import AlertKind, AlertSeverity, AnyMessage, BarClosed, ControlSet
from libs.common.metrics import new_registry
from libs.common.topics import CONTROL, MARKET_BARS, ORDER_COMMANDS
from libs.market import charges as charges_model
from services.executor.adapters.breeze import BreezeBroker, BreezeBrokerConfig
from services.executor.adapters.breeze_bars import (
    BreezeBarFeed,
    feed_config,
    published_bar_starts,
    resolve_bars_source,
)
from services.executor.adapters.breeze_sdk import create_breeze_client
from services.executor.adapters.call_guard import CallGuard, GuardConfig
from services.executor.adapters.paper import PaperBroker, PaperFillModel
from services.executor.adapters.replay import replay_bars
from services.executor.api import ExecutorContext
from services.executor.api import router as executor_router
from services.executor.auto_login import executor_auto_login
from services.executor.broker import Broker, BrokerUnavailableError
from services.executor.live_session import LiveSession
from services.executor.metrics import ExecutorMetrics
from services.executor.service import ExecutorService, HaltFlag
from services.executor.session import SessionStore
from services.executor.settings import ExecutorSettings

SERVICE = "executor"
log = get_logger(__name__)


def build_broker(settings: ExecutorSettings, clock: Clock) -> Broker:
    """Choose the broker for the configured mode (the one place the mode is decided)."""
    if settings.mode == "live":
        return breeze_broker(settings, clock)
    return PaperBroker(
        clock,
        PaperFillModel(
            iv=settings.paper_iv,
            spread_pct=settings.paper_spread_pct,
            slippage_pct=settings.paper_slippage_pct,
            brokerage_per_order=settings.brokerage_per_order,
            latency_s=settings.paper_latency_ms / 1000,
        ),
        quotes=breeze_broker(settings, clock) if settings.paper_quotes == "breeze" else None,
    )


def breeze_broker(settings: ExecutorSettings, clock: Clock) -> BreezeBroker:
    """The Breeze adapter: the live broker, or the paper broker's source of quotes."""
    client = create_breeze_client(
        settings.breeze_api_key.get_secret_value(), settings.breeze_base_url or None
    )
    guard = CallGuard(
        GuardConfig(
            per_minute=settings.api_calls_per_minute,
            per_day=settings.api_calls_per_day,
            failures=settings.broker_error_failures,
            cooldown_s=settings.broker_error_cooldown_s,
        ),
        clock.now,
    )
    return BreezeBroker(
        client,
        BreezeBrokerConfig(
            brokerage=charges_model.Brokerage.flat_per_order(settings.brokerage_per_order)
        ),
        guard,
    )


async def supervise_session(
    service: ExecutorService,
    session: LiveSession,
    interval_s: float,
    metrics: ExecutorMetrics,
    settings: ExecutorSettings,
) -> None:
    """Watch the live session for ever: expiry, probe, reconciliation, open orders."""
    broker = service.broker
    while True:
        if isinstance(broker, BreezeBroker):
            minute, day = broker.guard.used()
            metrics.api_budget("minute", minute, settings.api_calls_per_minute)
            metrics.api_budget("day", day, settings.api_calls_per_day)
        if (expiry := session.expires_at()) is not None:
            seconds = (expiry - datetime.now(UTC)).total_seconds()
            metrics.session(settings.mode, broker.session_problem is None, seconds)
        if session.check_expiry() == "warn" and (expires := session.expires_at()) is not None:
            await service.raise_alert(
                AlertKind.SESSION_EXPIRING,
                AlertSeverity.WARNING,
                f"The Breeze session expires at {expires.astimezone(IST):%H:%M} IST: "
                "paste a fresh API session value (strikeflow session paste).",
                once_per=expires.isoformat(),
                expires_at=expires.isoformat(),
            )
        try:
            await service.supervise_once()
        except BrokerUnavailableError as exc:
            log.error("broker_unavailable", error=str(exc)[:300])
        await asyncio.sleep(interval_s)


def start_market_data(
    settings: ExecutorSettings, broker: Broker, res: Resources, clock: Clock
) -> None:
    """NIFTY hourly bars onto market.bars: from Breeze, from a CSV replay, or none."""
    bars_broker: BreezeBroker | None = None
    if isinstance(broker, BreezeBroker):
        bars_broker = broker
    elif isinstance(broker, PaperBroker) and isinstance(broker.quotes, BreezeBroker):
        bars_broker = broker.quotes
    bars_source = resolve_bars_source(
        settings.bars_source, bars_broker is not None, settings.bars_replay_csv
    )

    async def send_bar(bar: BarClosed) -> None:
        await publish(res.producer, MARKET_BARS, bar, key=bar.symbol)

    if bars_source == "replay":
        res.tasks.spawn(
            replay_bars(
                Path(settings.bars_replay_csv),
                send_bar,
                clock,
                settings.bars_replay_interval_s,
                settings.bars_replay_from,
            ),
            "bar-replay",
        )
    elif bars_source == "breeze" and bars_broker is not None:
        feed = BreezeBarFeed(
            bars_broker,
            send_bar,
            clock,
            feed_config(settings),
            partial(published_bar_starts, settings.kafka_bootstrap_servers, MARKET_BARS),
        )
        res.tasks.spawn(feed.run(), "breeze-bars")
    elif bars_source == "breeze":
        log.error("bars_source_breeze_without_a_breeze_session", fallback="no bars")


def create_app(settings: ExecutorSettings, clock: Clock | None = None) -> FastAPI:
    """Build the executor app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    halt = HaltFlag()
    broker = build_broker(settings, clock)
    outbox = Outbox("executor")
    registry = new_registry()
    metrics = ExecutorMetrics(registry)
    ctx = ExecutorContext(operator_token=settings.operator_token, clock=clock)

    async def on_control(message: AnyMessage) -> None:
        if isinstance(message, ControlSet):
            halt.facts = apply_control(halt.facts, message)
            log.warning(
                "control_applied",
                key=message.key,
                engaged=message.engaged,
                state=effective_state(halt.facts),
            )

    async def build(res: Resources) -> Handler:
        started = datetime.now(UTC)
        service = ExecutorService(res.pool, outbox, broker, clock, halt, metrics)
        service.mode = settings.mode
        service.order_timeout_s = settings.order_timeout_s
        ctx.service = service
        if isinstance(broker, BreezeBroker):
            session = LiveSession(
                broker,
                settings.breeze_api_secret,
                SessionStore(Path(settings.session_cache_path)),
                clock,
                timedelta(minutes=settings.session_warn_before_min),
            )
            await session.start(settings.breeze_session_token.get_secret_value())
            service.expires_at = session.expires_at
            ctx.session, ctx.broker = session, broker
        elif isinstance(broker, PaperBroker) and isinstance(broker.quotes, BreezeBroker):
            quoting = LiveSession(
                broker.quotes,
                settings.breeze_api_secret,
                SessionStore(Path(settings.session_cache_path)),
                clock,
                timedelta(minutes=settings.session_warn_before_min),
            )
            if not await quoting.start(settings.breeze_session_token.get_secret_value()):
                log.warning("paper_quotes_unavailable", fallback="model prices, labelled")
        start_market_data(settings, broker, res, clock)
        if broker.session_problem is None:
            report = await service.reconcile()
            log.info(
                "reconciled_before_accepting_commands",
                settled=report.settled,
                clean=report.clean,
                took_ms=int((datetime.now(UTC) - started).total_seconds() * 1000),
            )
        else:
            await service.publish_broker_status(force=True)
        if ctx.session is not None:
            res.tasks.spawn(
                supervise_session(
                    service, ctx.session, settings.session_probe_interval_s, metrics, settings
                ),
                "broker-session",
            )
        if settings.auto_login and ctx.session is not None:
            res.tasks.spawn(
                executor_auto_login(settings, ctx.session, service, clock), "breeze-auto-login"
            )
        elif settings.auto_login:
            log.warning("auto_login_ignored", reason="only a live Breeze broker logs in")
        return service.handle

    spec = ConsumerSpec(
        service=SERVICE,
        group_id=f"{settings.consumer_group_prefix}-executor",
        topics=(ORDER_COMMANDS, MARKET_BARS),
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
        "strikeflow executor",
        details=lambda: {"trading_state": effective_state(halt.facts).value},
    )
    app.state.control = halt
    app.state.executor = ctx
    app.include_router(executor_router)
    return app


def main() -> None:
    """Run executor in the foreground."""
    settings = ExecutorSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
