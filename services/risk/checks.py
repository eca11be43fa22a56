"""Pre-trade checks: each a small pure function returning a denial reason or None.

They run in a fixed order (:data:`CHECKS`) and every reason is reported, so an operator sees
all that is wrong with a signal at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from libs.common.messages import SignalAction, TradingState

SESSION_OPEN = time(9, 15)
SESSION_CLOSE = time(15, 30)


@dataclass(frozen=True)
class GateView:
    """Everything the checks look at, already gathered."""

    state: TradingState
    state_reasons: tuple[str, ...]
    action: SignalAction
    now_ist: datetime
    trading_day: bool
    expiry_day: bool
    enforce_market_hours: bool
    entry_cutoff: time
    expiry_day_entry_cutoff: time
    lots: int
    max_lots_per_trade: int
    open_trades: int
    max_open_trades: int
    margin_in_use: Decimal
    margin_per_lot: Decimal
    max_margin: Decimal

    @property
    def is_entry(self) -> bool:
        """Entries are what most checks restrict; exits are always let through them."""
        return self.action is SignalAction.ENTRY


def check_trading_state(view: GateView) -> str | None:
    """HALTED denies everything; REDUCING denies entries."""
    why = "; ".join(view.state_reasons) or "operator decision"
    if view.state is TradingState.HALTED:
        return f"trading is HALTED ({why})"
    if view.state is TradingState.REDUCING and view.is_entry:
        return f"trading is REDUCING, exits only ({why})"
    return None


def check_market_hours(view: GateView) -> str | None:
    """No new entries on holidays, outside the session or after the entry cut-off (IST)."""
    if not view.is_entry or not view.enforce_market_hours:
        return None
    if not view.trading_day:
        return f"{view.now_ist:%Y-%m-%d} is not an NSE trading day"
    clock = view.now_ist.time()
    if clock < SESSION_OPEN or clock >= SESSION_CLOSE:
        return f"outside market hours ({clock:%H:%M} IST; session 09:15-15:30)"
    if clock >= view.entry_cutoff:
        return f"after the entry cut-off {view.entry_cutoff:%H:%M} IST"
    return None


def check_expiry_day(view: GateView) -> str | None:
    """On an expiry day, no new entries after the expiry-day cut-off."""
    if not view.is_entry or not view.enforce_market_hours or not view.expiry_day:
        return None
    if view.now_ist.time() >= view.expiry_day_entry_cutoff:
        return f"expiry day: no entries after {view.expiry_day_entry_cutoff:%H:%M} IST"
    return None


def check_max_lots(view: GateView) -> str | None:
    """Deny an entry above the per-trade lot limit."""
    if view.is_entry and view.lots > view.max_lots_per_trade:
        return f"{view.lots} lots exceed the limit of {view.max_lots_per_trade} per trade"
    return None


def check_max_open_trades(view: GateView) -> str | None:
    """Deny an entry when the open-trade limit is reached (entries being filled count)."""
    if view.is_entry and view.open_trades >= view.max_open_trades:
        return f"{view.open_trades} trades open: the limit is {view.max_open_trades}"
    return None


def check_max_margin(view: GateView) -> str | None:
    """Deny an entry whose estimated margin would exceed the margin limit."""
    if not view.is_entry:
        return None
    needed = view.margin_per_lot * view.lots
    if view.margin_in_use + needed > view.max_margin:
        return (
            f"estimated margin {view.margin_in_use + needed} would exceed the limit "
            f"{view.max_margin}"
        )
    return None


CHECKS = (
    check_trading_state,
    check_market_hours,
    check_expiry_day,
    check_max_lots,
    check_max_open_trades,
    check_max_margin,
)


def run_checks(view: GateView) -> tuple[str, ...]:
    """Run every check in order; return all denial reasons."""
    return tuple(reason for check in CHECKS if (reason := check(view)) is not None)


def check_limit_price(limit: Decimal, reference: Decimal, tick: Decimal) -> str | None:
    """A limit price must sit on the tick and inside NSE's limit-price protection band.

    Index options: within ±20 rupees of the reference when it is at most 50, else within ±40 %.
    """
    if limit <= 0:
        return f"limit price {limit} must be positive"
    if limit % tick != 0:
        return f"limit price {limit} is not a multiple of the tick {tick}"
    band = Decimal(20) if reference <= 50 else reference * Decimal("0.40")
    if abs(limit - reference) > band:
        return (
            f"limit price {limit} is outside the protection band {reference - band:.2f}"
            f"-{reference + band:.2f} around {reference}"
        )
    return None
