"""Composition root of executor: the broker is chosen here, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI

from libs.common.clock import Clock, SystemClock
from libs.common.consumer_app import ConsumerSpec, Resources, consumer_service_app
from libs.common.control import apply_control, effective_state
from libs.common.db import Outbox
from libs.common.http import serve
from libs.common.kafka import Handler, publish
from libs.common.logging import configure_logging, get_logger
from libs.common.messages import AnyMessage, BarClosed, ControlSet
from libs.common.metrics import new_registry
from libs.common.topics import CONTROL, MARKET_BARS, ORDER_COMMANDS
from libs.market import charges as charges_model
from services.executor.adapters.breeze import BreezeBroker, BreezeBrokerConfig
from services.executor.adapters.breeze_sdk import create_breeze_client
from services.executor.adapters.paper import PaperBroker, PaperFillModel
from services.executor.adapters.replay import replay_bars
from services.executor.broker import Broker
from services.executor.service import ExecutorService, HaltFlag
from services.executor.settings import ExecutorSettings

SERVICE = "executor"
log = get_logger(__name__)


def build_broker(settings: ExecutorSettings, clock: Clock) -> Broker:
    """Choose the broker for the configured mode (the one place the mode is decided)."""
    if settings.mode == "live":
        client = create_breeze_client(
            settings.breeze_api_key.get_secret_value(), settings.breeze_base_url or None
        )
        return BreezeBroker(
            client,
            BreezeBrokerConfig(
                brokerage=charges_model.Brokerage.flat_per_order(settings.brokerage_per_order)
            ),
        )
    return PaperBroker(
        clock,
        PaperFillModel(
            iv=settings.paper_iv,
            spread_pct=settings.paper_spread_pct,
            slippage_pct=settings.paper_slippage_pct,
            brokerage_per_order=settings.brokerage_per_order,
        ),
    )


async def open_breeze_session(broker: BreezeBroker, settings: ExecutorSettings) -> None:
    """Log in with today's session value; a failure stops the start-up with a clear message."""
    client = broker.client
    try:
        reply = await asyncio.wait_for(
            asyncio.to_thread(
                client.generate_session,
                api_secret=settings.breeze_api_secret.get_secret_value(),
                session_token=settings.breeze_session_token.get_secret_value(),
            ),
            timeout=30,
        )
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exceptions on login
        raise RuntimeError(f"Breeze session could not be opened: {type(exc).__name__}") from None
    log.warning(
        "breeze_session_opened", base_url=settings.breeze_base_url or "icici", reply=str(reply)[:80]
    )


def create_app(settings: ExecutorSettings, clock: Clock | None = None) -> FastAPI:
    """Build the executor app; nothing connects until the app starts."""
    clock = clock or SystemClock()
    halt = HaltFlag()
    broker = build_broker(settings, clock)
    outbox = Outbox("executor")

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
        if isinstance(broker, BreezeBroker):
            await open_breeze_session(broker, settings)
        service = ExecutorService(res.pool, outbox, broker, clock, halt)
        if settings.bars_replay_csv:

            async def send_bar(bar: BarClosed) -> None:
                await publish(res.producer, MARKET_BARS, bar, key=bar.symbol)

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
        service.mode = settings.mode
        await service.publish_broker_status(force=True)
        settled = await service.reconcile_pending()
        log.info("reconciled_before_accepting_commands", orders=settled)
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
        new_registry(),
        build,
        "strikeflow executor",
        details=lambda: {"trading_state": effective_state(halt.facts).value},
    )
    app.state.control = halt
    return app


def main() -> None:
    """Run executor in the foreground."""
    settings = ExecutorSettings()
    configure_logging(SERVICE, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
