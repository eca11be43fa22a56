"""Breakout and breakdown engines: two small per-week state machines (strategy spec §3.2)."""

from __future__ import annotations

import enum
from decimal import Decimal

from libs.strategy.bars import Bar


class EngineLatch(enum.Enum):
    """``signals.engine_latch`` (spec §3.4)."""

    ONCE_PER_WEEK = "once_per_week"
    REARM_ON_EDGE = "rearm_on_edge"


class _Engine:
    """Shared machinery; subclasses define the direction-specific tests.

    With ``once_per_week`` the engine fires at most once and then latches until the next week.
    With ``rearm_on_edge`` the per-bar trigger is edge-detected and may fire again after it has
    been false on a bar (origin Python port). ``armed`` is set once and never updated.
    """

    def __init__(self, first: Bar, latch: EngineLatch = EngineLatch.ONCE_PER_WEEK) -> None:
        self.first = first
        self.latch = latch
        self.armed: Decimal | None = None
        self.fired = False
        self.fire_count = 0
        self._prev_trigger = False

    def step(self, cur: Bar, run_extreme: Decimal) -> bool:
        """Evaluate bar k >= 2 given the pre-bar running extreme; True only on a firing bar."""
        if self.latch is EngineLatch.ONCE_PER_WEEK and self.fired:
            return False
        trigger = self._trigger(cur, run_extreme)
        if self.latch is EngineLatch.ONCE_PER_WEEK:
            out = trigger
        else:
            out = trigger and not self._prev_trigger
            self._prev_trigger = trigger
        if out:
            self.fired = True
            self.fire_count += 1
        return out

    def _trigger(self, cur: Bar, run_extreme: Decimal) -> bool:
        if cur.day == self.first.day:
            return self._beyond_first(cur)
        if self.armed is None:
            if self._arms(cur, run_extreme):
                self.armed = self._arm_level(cur)
            return False
        return self._beyond_armed(cur, self.armed)

    def _beyond_first(self, cur: Bar) -> bool:
        raise NotImplementedError

    def _arms(self, cur: Bar, run_extreme: Decimal) -> bool:
        raise NotImplementedError

    def _arm_level(self, cur: Bar) -> Decimal:
        raise NotImplementedError

    def _beyond_armed(self, cur: Bar, armed: Decimal) -> bool:
        raise NotImplementedError


class BreakoutEngine(_Engine):
    """Day one: close above `F.H`; later: a green bar closing above `F.H` with a high at or above
    `RunMaxH` arms at its high, and a later close above that level fires (spec §3.2)."""

    def _beyond_first(self, cur: Bar) -> bool:
        return cur.close > self.first.high

    def _arms(self, cur: Bar, run_extreme: Decimal) -> bool:
        return cur.is_green and cur.close > self.first.high and cur.high >= run_extreme

    def _arm_level(self, cur: Bar) -> Decimal:
        return cur.high

    def _beyond_armed(self, cur: Bar, armed: Decimal) -> bool:
        return cur.close > armed


class BreakdownEngine(_Engine):
    """Mirror of the breakout engine on lows (spec §3.2)."""

    def _beyond_first(self, cur: Bar) -> bool:
        return cur.close < self.first.low

    def _arms(self, cur: Bar, run_extreme: Decimal) -> bool:
        return cur.is_red and cur.close < self.first.low and cur.low <= run_extreme

    def _arm_level(self, cur: Bar) -> Decimal:
        return cur.low

    def _beyond_armed(self, cur: Bar, armed: Decimal) -> bool:
        return cur.close < armed
