"""Pre-trade checks: each a small pure function returning a denial reason or None."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.messages import SignalAction, TradingState


@dataclass(frozen=True)
class GateView:
    """What the checks look at."""

    state: TradingState
    kill_switch: bool
    action: SignalAction
    lots: int
    max_lots_per_trade: int
    open_trades: int
    max_open_trades: int


def check_kill_switch(view: GateView) -> str | None:
    """Deny everything but cancels while the kill switch is on."""
    return "kill switch is on" if view.kill_switch else None


def check_trading_state(view: GateView) -> str | None:
    """HALTED denies all; REDUCING denies entries."""
    if view.state is TradingState.HALTED:
        return "trading is HALTED"
    if view.state is TradingState.REDUCING and view.action is SignalAction.ENTRY:
        return "trading is REDUCING: exits only"
    return None


def check_max_lots(view: GateView) -> str | None:
    """Deny an entry above the per-trade lot limit."""
    if view.action is SignalAction.ENTRY and view.lots > view.max_lots_per_trade:
        return f"{view.lots} lots exceed the limit of {view.max_lots_per_trade} per trade"
    return None


def check_max_open_trades(view: GateView) -> str | None:
    """Deny an entry when the open-trade limit is reached (pending entries count)."""
    if view.action is SignalAction.ENTRY and view.open_trades >= view.max_open_trades:
        return f"{view.open_trades} trades open: the limit is {view.max_open_trades}"
    return None


CHECKS = (check_kill_switch, check_trading_state, check_max_lots, check_max_open_trades)


def run_checks(view: GateView) -> tuple[str, ...]:
    """Run every check in order; return all denial reasons."""
    return tuple(reason for check in CHECKS if (reason := check(view)) is not None)
