"""The circuit breaker (pure): closed -> open on trouble -> half-open after a cooldown -> closed.

While open, new entries are denied at once. After the cooldown one trial entry is let through
(half-open); its outcome closes the breaker or opens it again. An operator can reset it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class BreakerState(StrEnum):
    """The breaker's states."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    """When the breaker trips and how long it stays open."""

    error_burst: int = 5
    error_window: timedelta = timedelta(seconds=60)
    max_consecutive_losses: int = 3
    max_single_trade_loss: Decimal = Decimal(25000)
    cooldown: timedelta = timedelta(minutes=15)


@dataclass
class Breaker:
    """Breaker state plus the recent history it judges from."""

    config: BreakerConfig
    state: BreakerState = BreakerState.CLOSED
    opened_at: datetime | None = None
    reason: str = ""
    consecutive_losses: int = 0
    errors: deque[datetime] = field(default_factory=deque)

    def trip(self, at: datetime, reason: str) -> bool:
        """Open the breaker; return True if that changed its state."""
        changed = self.state is not BreakerState.OPEN
        self.state, self.opened_at, self.reason = BreakerState.OPEN, at, reason
        return changed

    def on_broker_error(self, at: datetime, what: str) -> bool:
        """Count a broker error; trip on a burst. Return True if the breaker opened."""
        self.errors.append(at)
        while self.errors and at - self.errors[0] > self.config.error_window:
            self.errors.popleft()
        if self.state is BreakerState.HALF_OPEN:
            return self.trip(at, f"trial failed: {what}")
        if len(self.errors) >= self.config.error_burst:
            return self.trip(
                at,
                f"{len(self.errors)} broker errors within "
                f"{int(self.config.error_window.total_seconds())}s (last: {what})",
            )
        return False

    def on_trade_closed(self, at: datetime, net_pnl: Decimal) -> bool:
        """Judge a closed trade; trip on a large loss or a losing streak."""
        if net_pnl < 0:
            self.consecutive_losses += 1
        else:
            self.consecutive_losses = 0
        if -net_pnl >= self.config.max_single_trade_loss:
            return self.trip(at, f"single trade lost {-net_pnl:.2f}")
        if self.consecutive_losses >= self.config.max_consecutive_losses:
            return self.trip(at, f"{self.consecutive_losses} losing trades in a row")
        return False

    def on_trial_filled(self) -> bool:
        """A half-open trial went through: close the breaker."""
        if self.state is not BreakerState.HALF_OPEN:
            return False
        self.state, self.reason, self.consecutive_losses = BreakerState.CLOSED, "", 0
        self.errors.clear()
        return True

    def tick(self, now: datetime) -> bool:
        """Move from open to half-open after the cooldown; return True if it did."""
        if (
            self.state is BreakerState.OPEN
            and self.opened_at is not None
            and now - self.opened_at >= self.config.cooldown
        ):
            self.state = BreakerState.HALF_OPEN
            return True
        return False

    def reset(self) -> None:
        """Operator reset: closed, history forgotten."""
        self.state, self.opened_at, self.reason = BreakerState.CLOSED, None, ""
        self.consecutive_losses = 0
        self.errors.clear()
