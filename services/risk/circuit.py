"""Keeps the circuit breaker: feeds it events, publishes its state on the control topic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.common.messages import (
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    Leg,
    Message,
    OrderFilled,
    OrderRejected,
    TradeClosed,
)
from libs.common.topics import CONTROL, Topic
from services.risk.breaker import Breaker, BreakerConfig, BreakerState

log = get_logger(__name__)
Publish = Callable[[Topic, Message, str], Awaitable[None]]
ACTOR = "risk:circuit-breaker"
SESSION_REASON = "broker session invalid"


class CircuitKeeper:
    """One breaker per risk process, its state mirrored on the compacted control topic."""

    def __init__(self, config: BreakerConfig, clock: Clock) -> None:
        self.breaker = Breaker(config)
        self._publish: Publish | None = None
        self._clock = clock
        self.trial_trade: uuid.UUID | None = None
        self.broker: BrokerStatusChanged | None = None

    def bind(self, publish: Publish) -> None:
        """Give the keeper its way to publish, once the producer exists."""
        self._publish = publish

    def restore(self, values: Mapping[str, str]) -> None:
        """Adopt the state last published (after the control topic was replayed)."""
        self.breaker.state = BreakerState(values.get("state", "closed"))
        self.breaker.reason = values.get("reason", "")
        opened = values.get("opened_at")
        self.breaker.opened_at = datetime.fromisoformat(opened) if opened else None

    def on_control(self, message: ControlSet) -> None:
        """An operator reset closes the breaker and forgets its history."""
        if (
            message.key is ControlKey.CIRCUIT
            and message.changed_by != ACTOR
            and message.values.get("state", "closed") == "closed"
        ):
            self.breaker.reset()
            self.trial_trade = None
            log.warning("circuit_reset", changed_by=message.changed_by, reason=message.reason)

    def entry_allowed(self) -> str | None:
        """No entry while the broker is not ready; in half-open, one trial entry at a time."""
        if self.broker is not None and not self.broker.session_valid:
            return f"broker not ready for entries: {self.broker.detail}"[:300]
        if self.breaker.state is BreakerState.HALF_OPEN and self.trial_trade is not None:
            return "circuit breaker half-open: a trial entry is already in flight"
        return None

    def entry_approved(self, trade_id: uuid.UUID) -> None:
        """Remember the trial entry while half-open."""
        if self.breaker.state is BreakerState.HALF_OPEN:
            self.trial_trade = trade_id

    async def on_order_event(self, message: OrderRejected | OrderFilled) -> None:
        """Broker rejections count as errors; a filled trial main leg closes the breaker."""
        now = self._clock.now()
        if isinstance(message, OrderRejected):
            if self.breaker.on_broker_error(now, message.reason or "rejected"):
                await self._announce()
            if message.trade_id == self.trial_trade:
                self.trial_trade = None
        elif message.trade_id == self.trial_trade and Leg.MAIN.value in message.client_order_id:
            self.trial_trade = None
            if self.breaker.on_trial_filled():
                await self._announce()

    async def on_trade_closed(self, message: TradeClosed, live: bool) -> None:
        """Count losses; while replaying history only the counters move."""
        tripped = self.breaker.on_trade_closed(self._clock.now(), message.net_pnl)
        if tripped and live:
            await self._announce()

    async def on_broker_status(self, message: BrokerStatusChanged, live: bool) -> None:
        """An invalid broker session opens the breaker and stops entries until the executor
        says the session is good again and its book is reconciled; that closes it."""
        self.broker = message
        if not live:
            return
        if not message.session_valid:
            if self.breaker.trip(self._clock.now(), f"{SESSION_REASON}: {message.detail}"):
                await self._announce()
        elif self.breaker.state is not BreakerState.CLOSED and self.breaker.reason.startswith(
            SESSION_REASON
        ):
            self.breaker.reset()
            self.trial_trade = None
            log.warning("circuit_closed_broker_ready", detail=message.detail)
            await self._announce()

    async def tick(self) -> None:
        """Half-open after the cooldown."""
        if self.breaker.tick(self._clock.now()):
            self.trial_trade = None
            await self._announce()

    async def run(self, every_s: float = 1.0) -> None:
        """Tick forever."""
        while True:
            await asyncio.sleep(every_s)
            await self.tick()

    async def _announce(self) -> None:
        b = self.breaker
        values = {"state": b.state.value, "reason": b.reason}
        if b.opened_at is not None:
            values["opened_at"] = b.opened_at.isoformat()
        log.error("circuit_state", state=b.state, reason=b.reason)
        message = ControlSet(
            ts_event=self._clock.now(),
            key=ControlKey.CIRCUIT,
            values=values,
            changed_by=ACTOR,
            reason=b.reason or f"circuit breaker {b.state}",
        )
        if self._publish is None:
            raise RuntimeError("circuit keeper used before bind()")
        await self._publish(CONTROL, message, ControlKey.CIRCUIT.value)
