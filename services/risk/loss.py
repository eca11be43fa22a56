"""Daily loss limits on mark-to-market P&L: warn, halt new entries, emergency stop."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.common.messages import ControlKey, ControlSet, Message, PnlSnapshot, SquareOffAll
from libs.common.topics import CONTROL, SIGNALS, Topic
from services.risk.service import ControlHolder

log = get_logger(__name__)
Publish = Callable[[Topic, Message, str], Awaitable[None]]
ACTOR = "risk:daily-loss"


class LossLevel(IntEnum):
    """How bad the day is."""

    OK = 0
    WARN = 1
    HALT = 2
    PANIC = 3


@dataclass(frozen=True)
class LossLimits:
    """Rupee limits on the day's net P&L (losses as positive numbers)."""

    max_daily_loss: Decimal
    warn_fraction: Decimal
    panic_loss: Decimal


def loss_level(net: Decimal, limits: LossLimits) -> LossLevel:
    """Classify the day's net P&L against the limits."""
    loss = -net
    if loss >= limits.panic_loss:
        return LossLevel.PANIC
    if loss >= limits.max_daily_loss:
        return LossLevel.HALT
    if loss >= limits.max_daily_loss * limits.warn_fraction:
        return LossLevel.WARN
    return LossLevel.OK


class LossGuard:
    """Turns P&L snapshots into control facts: loss halt, emergency stop, daily reset."""

    def __init__(
        self, limits: LossLimits, control: ControlHolder, publish: Publish, clock: Clock
    ) -> None:
        self._limits = limits
        self._control = control
        self._publish = publish
        self._clock = clock
        self._warned_day: object = None

    async def on_snapshot(self, snapshot: PnlSnapshot) -> LossLevel:
        """Act on one snapshot; return its level."""
        level = loss_level(snapshot.net, self._limits)
        facts = self._control.facts
        day = snapshot.trading_day.isoformat()
        detail = f"daily net P&L {snapshot.net:.2f} on {day}"
        if level >= LossLevel.PANIC and not facts.emergency_stop:
            log.critical("daily_loss_panic", net=str(snapshot.net), trading_day=day)
            reason = f"{detail} beyond the panic level {self._limits.panic_loss}"
            await self._set(ControlKey.EMERGENCY_STOP, True, reason, {"trading_day": day})
            command = SquareOffAll(
                ts_event=self._clock.now(),
                command_id=uuid.uuid4(),
                requested_by=ACTOR,
                reason=reason,
            )
            await self._publish(SIGNALS, command, "NIFTY")
        if level >= LossLevel.HALT and not facts.loss_halt:
            log.error("daily_loss_halt", net=str(snapshot.net), trading_day=day)
            reason = f"{detail} beyond the daily limit {self._limits.max_daily_loss}"
            await self._set(ControlKey.LOSS_HALT, True, reason, {"trading_day": day})
        if level is LossLevel.WARN and self._warned_day != snapshot.trading_day:
            self._warned_day = snapshot.trading_day
            log.warning("daily_loss_warning", net=str(snapshot.net), trading_day=day)
        if level < LossLevel.HALT and facts.loss_halt:
            halted_day = facts.last_loss_halt_day or ""
            if halted_day and halted_day != day:
                await self._set(ControlKey.LOSS_HALT, False, f"daily reset for {day}", {})
        return level

    async def _set(
        self, key: ControlKey, engaged: bool, reason: str, values: dict[str, str]
    ) -> None:
        message = ControlSet(
            ts_event=self._clock.now(),
            key=key,
            engaged=engaged,
            values=values,
            changed_by=ACTOR,
            reason=reason,
        )
        await self._publish(CONTROL, message, key.value)
