"""Exits of an open trade and outcome classification (strategy spec §5).

`ExitMonitor` is fed the hourly bars after the entry, in time order, and reports the first exit
in the order of spec §5: stop-loss, profit lock / trailing, T+N square-off, expiry settlement.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_FLOOR, Decimal

from libs.strategy.bars import IST, SESSION_CLOSE, Bar, ist_datetime
from libs.strategy.ports import ExpiryCalendar
from libs.strategy.signals import Direction, OptionType
from libs.strategy.trade import next_trading_day


class ExitReason(enum.Enum):
    STOP = "STOP"
    PROFIT_LOCK = "PROFIT_LOCK"
    TRAILING = "TRAILING"
    SQUARE_OFF = "SQUARE_OFF"
    EXPIRY = "EXPIRY"
    END_OF_DATA = "END_OF_DATA"


class SettlementPrice(enum.Enum):
    """``exit.settlement_price`` (spec §5 item 4)."""

    LAST_PRICE_WHEN_AVAILABLE = "last_price_when_available"
    INTRINSIC = "intrinsic"


@dataclass(frozen=True, slots=True)
class ProfitLockConfig:
    enabled: bool = False
    target_pct: Decimal = Decimal(10)
    lock_pct: Decimal = Decimal(5)


@dataclass(frozen=True, slots=True)
class TrailingConfig:
    enabled: bool = False
    step_pct: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if self.step_pct <= 0:
            raise ValueError("exit.trailing.step_pct must be > 0")


@dataclass(frozen=True, slots=True)
class SquareOffConfig:
    enabled: bool = False
    trading_days_after_entry: int = 2
    at: time = time(15, 15)


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """The ``exit.*`` options of spec §9 with their defaults."""

    profit_lock: ProfitLockConfig = field(default_factory=ProfitLockConfig)
    trailing: TrailingConfig = field(default_factory=TrailingConfig)
    square_off: SquareOffConfig = field(default_factory=SquareOffConfig)
    settlement_price: SettlementPrice = SettlementPrice.LAST_PRICE_WHEN_AVAILABLE


@dataclass(frozen=True, slots=True)
class ExitEvent:
    """An exit decision.

    ``index_level`` is the index at the exit (a bar close); ``settle`` is True when the legs are
    valued as the expiry settlement (spec §5 item 4), including a stop at the expiry day's 15:30
    close. ``bar_start`` is the bar that triggered the exit (None when the expiry was passed
    without its last bar).
    """

    reason: ExitReason
    time: datetime
    index_level: Decimal | None
    settle: bool
    bar_start: datetime | None


def stop_hit(direction: Direction, close: Decimal, stop: Decimal) -> bool:
    """Bullish: ``close <= stop``; bearish: ``close >= stop`` (spec §4.3, §5 item 1)."""
    return close <= stop if direction is Direction.BULLISH else close >= stop


def intrinsic_value(option_type: OptionType, strike: int, index_close: Decimal) -> Decimal:
    """Settlement value of one unit: ``max(0, K - close)`` (PE), ``max(0, close - K)`` (CE)."""
    diff = strike - index_close if option_type is OptionType.PE else index_close - strike
    return max(Decimal(0), diff)


def expiry_close_time(expiry: date) -> datetime:
    """Expiry is a date; its close is 15:30 IST that day (spec R23)."""
    return ist_datetime(expiry, SESSION_CLOSE)


def trading_day_after(calendar: ExpiryCalendar, d: date, n: int) -> date:
    """The ``n``-th trading day after ``d`` (``n = 0`` is ``d`` itself)."""
    out = d
    for _ in range(n):
        out = next_trading_day(calendar, out)
    return out


def profit_lock_level(cfg: ExitConfig, peak_pct: Decimal) -> Decimal:
    """The lock level once the target was reached (spec §5 item 2)."""
    pl = cfg.profit_lock
    if not cfg.trailing.enabled:
        return pl.lock_pct
    step = cfg.trailing.step_pct
    steps = ((peak_pct - pl.target_pct) / step).to_integral_value(rounding=ROUND_FLOOR)
    return pl.lock_pct + steps * step


class ExitMonitor:
    """Evaluates one open trade at each hourly close after its entry (spec §5)."""

    def __init__(
        self,
        direction: Direction,
        stop_level: Decimal,
        entry_time: datetime,
        expiry: date,
        config: ExitConfig,
        calendar: ExpiryCalendar,
    ) -> None:
        self.direction = direction
        self.stop_level = stop_level
        self.entry_time = entry_time
        self.expiry = expiry
        self.config = config
        self._expiry_close = expiry_close_time(expiry)
        self._peak_pct: Decimal | None = None
        self._square_off: datetime | None = None
        so = config.square_off
        if so.enabled:
            entry_day = entry_time.astimezone(IST).date()
            day = min(trading_day_after(calendar, entry_day, so.trading_days_after_entry), expiry)
            self._square_off = ist_datetime(day, so.at)

    @property
    def profit_lock_active(self) -> bool:
        return self.config.profit_lock.enabled or self.config.trailing.enabled

    def on_bar(self, bar: Bar, net_pct: Decimal | None = None) -> ExitEvent | None:
        """Evaluate ``bar`` (ignored when it starts before the entry time).

        ``net_pct`` is the trade's net P&L in percent of the main entry premium at this close,
        needed only when profit lock or trailing is on.
        """
        if bar.start < self.entry_time:
            return None
        close_t = bar.close_time
        if close_t > self._expiry_close and bar.day > self.expiry:
            return ExitEvent(ExitReason.EXPIRY, self._expiry_close, None, True, None)
        at_expiry = close_t >= self._expiry_close
        if stop_hit(self.direction, bar.close, self.stop_level):
            return ExitEvent(ExitReason.STOP, close_t, bar.close, at_expiry, bar.start)
        if self.profit_lock_active and net_pct is not None:
            reason = self._profit_lock(net_pct)
            if reason is not None:
                return ExitEvent(reason, close_t, bar.close, False, bar.start)
        if self._square_off is not None and close_t >= self._square_off:
            return ExitEvent(ExitReason.SQUARE_OFF, close_t, bar.close, False, bar.start)
        if at_expiry:
            return ExitEvent(ExitReason.EXPIRY, self._expiry_close, bar.close, True, bar.start)
        return None

    def _profit_lock(self, net_pct: Decimal) -> ExitReason | None:
        pl = self.config.profit_lock
        if self._peak_pct is None:
            if net_pct >= pl.target_pct:
                self._peak_pct = net_pct
            return None
        self._peak_pct = max(self._peak_pct, net_pct)
        if net_pct < profit_lock_level(self.config, self._peak_pct):
            return ExitReason.TRAILING if self.config.trailing.enabled else ExitReason.PROFIT_LOCK
        return None

    def end_of_data(self, last_bar: Bar) -> ExitEvent:
        """Close at the last available bar (spec §5, ``END_OF_DATA``)."""
        return ExitEvent(
            ExitReason.END_OF_DATA, last_bar.close_time, last_bar.close, False, last_bar.start
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """Win flags of a closed trade (spec §5.1); None means excluded from that win rate."""

    index_win: bool | None
    pnl_win: bool | None


def classify_outcome(reason: ExitReason, net_pnl: Decimal) -> Outcome:
    """Index win: not stopped; P&L win: net P&L > 0; ``END_OF_DATA`` counts in neither rate."""
    if reason is ExitReason.END_OF_DATA:
        return Outcome(None, None)
    return Outcome(reason is not ExitReason.STOP, net_pnl > 0)
