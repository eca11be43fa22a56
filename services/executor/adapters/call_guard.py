"""Guards in front of every Breeze call: the API call budgets and a breaker on broker errors.

ICICI allows 100 calls a minute and 5,000 a day per app (breeze.md 4) and has been seen to refuse
well below that, so both budgets keep headroom. A refused call is never sent: the caller learns it
was *not* sent, which is a safe outcome for an order (nothing happened at the broker).

The breaker counts consecutive failed calls (transport errors, timeouts, gateway errors): after
``failures`` in a row it opens and calls fail fast for ``cooldown``; then one trial call is let
through (half-open), and its outcome closes or reopens the breaker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from libs.common.clock import IST


@dataclass(frozen=True)
class GuardConfig:
    """Budgets and breaker settings."""

    per_minute: int = 90
    per_day: int = 4_500
    failures: int = 5
    cooldown_s: float = 30.0


class BreakerState(StrEnum):
    """State of the broker-error breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CallGuard:
    """Decides whether a Breeze call may be sent now, and learns from its outcome.

    ``monotonic`` and ``now`` are injected so tests can move time.
    """

    def __init__(
        self,
        config: GuardConfig,
        now: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._now = now
        self._monotonic = monotonic
        self._minute: deque[float] = deque()
        self._day: date | None = None
        self._day_count = 0
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    # ------------------------------------------------------------------ budgets
    def _roll(self) -> None:
        now = self._monotonic()
        while self._minute and now - self._minute[0] >= 60.0:
            self._minute.popleft()
        today = self._now().astimezone(IST).date()
        if today != self._day:
            self._day, self._day_count = today, 0

    def used(self) -> tuple[int, int]:
        """Calls made in the last minute and today (IST)."""
        self._roll()
        return len(self._minute), self._day_count

    @property
    def state(self) -> BreakerState:
        """The breaker's state now."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._monotonic() - self._opened_at >= self._config.cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def acquire(self) -> str | None:
        """Take one call from the budgets; the reason it may not be sent, or None."""
        state = self.state
        if state is BreakerState.OPEN:
            return "broker error breaker open: calls fail fast until the cooldown ends"
        if state is BreakerState.HALF_OPEN:
            if self._trial_in_flight:
                return "broker error breaker half-open: a trial call is in flight"
            self._trial_in_flight = True
        self._roll()
        if len(self._minute) >= self._config.per_minute:
            self._trial_in_flight = False
            return f"API call budget: {self._config.per_minute} calls in the last minute"
        if self._day_count >= self._config.per_day:
            self._trial_in_flight = False
            return f"API call budget: {self._config.per_day} calls today"
        self._minute.append(self._monotonic())
        self._day_count += 1
        return None

    def record(self, failed: bool) -> BreakerState | None:
        """Learn the outcome of a sent call; the new breaker state when it changed."""
        before = self.state
        self._trial_in_flight = False
        if not failed:
            self._consecutive_failures = 0
            self._opened_at = None
            return BreakerState.CLOSED if before is not BreakerState.CLOSED else None
        self._consecutive_failures += 1
        if before is BreakerState.HALF_OPEN or (
            self._consecutive_failures >= self._config.failures
        ):
            self._opened_at = self._monotonic()
            return BreakerState.OPEN if before is not BreakerState.OPEN else None
        return None
