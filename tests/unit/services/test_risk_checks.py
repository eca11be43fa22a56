"""Pre-trade checks of the risk gate (services/risk/checks.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from libs.common.messages import SignalAction, TradingState
from services.risk.checks import (
    CHECKS,
    GateView,
    check_kill_switch,
    check_max_lots,
    check_max_open_trades,
    check_trading_state,
    run_checks,
)

PASSING = GateView(
    state=TradingState.ACTIVE,
    kill_switch=False,
    action=SignalAction.ENTRY,
    lots=1,
    max_lots_per_trade=10,
    open_trades=0,
    max_open_trades=8,
)
ENTRY, EXIT = SignalAction.ENTRY, SignalAction.EXIT


# --- kill switch ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", [ENTRY, EXIT])
def test_check_kill_switch_when_on_denies_any_action(action: SignalAction) -> None:
    view = replace(PASSING, kill_switch=True, action=action)

    assert check_kill_switch(view) == "kill switch is on"


@pytest.mark.parametrize("action", [ENTRY, EXIT])
def test_check_kill_switch_when_off_passes(action: SignalAction) -> None:
    assert check_kill_switch(replace(PASSING, action=action)) is None


# --- trading state --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "reason"),
    [
        (TradingState.ACTIVE, ENTRY, None),
        (TradingState.ACTIVE, EXIT, None),
        (TradingState.REDUCING, ENTRY, "trading is REDUCING: exits only"),
        (TradingState.REDUCING, EXIT, None),
        (TradingState.HALTED, ENTRY, "trading is HALTED"),
        (TradingState.HALTED, EXIT, "trading is HALTED"),
    ],
)
def test_check_trading_state_when_state_and_action_given_returns_expected_reason(
    state: TradingState, action: SignalAction, reason: str | None
) -> None:
    view = replace(PASSING, state=state, action=action)

    assert check_trading_state(view) == reason


@pytest.mark.parametrize(
    ("state", "action", "reasons"),
    [
        (TradingState.ACTIVE, ENTRY, ()),
        (TradingState.ACTIVE, EXIT, ()),
        (TradingState.REDUCING, ENTRY, ("trading is REDUCING: exits only",)),
        (TradingState.REDUCING, EXIT, ()),
        (TradingState.HALTED, ENTRY, ("trading is HALTED",)),
        (TradingState.HALTED, EXIT, ("trading is HALTED",)),
    ],
)
def test_run_checks_when_only_state_varies_denies_per_state_table(
    state: TradingState, action: SignalAction, reasons: tuple[str, ...]
) -> None:
    view = replace(PASSING, state=state, action=action)

    assert run_checks(view) == reasons


# --- max lots -------------------------------------------------------------------------------


def test_check_max_lots_when_entry_above_limit_denies() -> None:
    view = replace(PASSING, lots=11, max_lots_per_trade=10)

    assert check_max_lots(view) == "11 lots exceed the limit of 10 per trade"


def test_check_max_lots_when_entry_at_limit_passes() -> None:
    assert check_max_lots(replace(PASSING, lots=10, max_lots_per_trade=10)) is None


def test_check_max_lots_when_exit_above_limit_passes() -> None:
    assert check_max_lots(replace(PASSING, action=EXIT, lots=11, max_lots_per_trade=10)) is None


# --- max open trades ------------------------------------------------------------------------


def test_check_max_open_trades_when_entry_at_limit_denies() -> None:
    view = replace(PASSING, open_trades=8, max_open_trades=8)

    assert check_max_open_trades(view) == "8 trades open: the limit is 8"


def test_check_max_open_trades_when_entry_above_limit_denies() -> None:
    view = replace(PASSING, open_trades=9, max_open_trades=8)

    assert check_max_open_trades(view) == "9 trades open: the limit is 8"


def test_check_max_open_trades_when_entry_below_limit_passes() -> None:
    assert check_max_open_trades(replace(PASSING, open_trades=7, max_open_trades=8)) is None


def test_check_max_open_trades_when_exit_at_limit_passes() -> None:
    view = replace(PASSING, action=EXIT, open_trades=8, max_open_trades=8)

    assert check_max_open_trades(view) is None


# --- run_checks -----------------------------------------------------------------------------


def test_run_checks_when_everything_passes_returns_no_reasons() -> None:
    assert run_checks(PASSING) == ()


def test_checks_when_listed_run_in_documented_order() -> None:
    expected = (check_kill_switch, check_trading_state, check_max_lots, check_max_open_trades)

    assert expected == CHECKS


def test_run_checks_when_every_check_fails_returns_all_reasons_in_order() -> None:
    view = GateView(
        state=TradingState.REDUCING,
        kill_switch=True,
        action=ENTRY,
        lots=12,
        max_lots_per_trade=10,
        open_trades=8,
        max_open_trades=8,
    )

    assert run_checks(view) == (
        "kill switch is on",
        "trading is REDUCING: exits only",
        "12 lots exceed the limit of 10 per trade",
        "8 trades open: the limit is 8",
    )


def test_run_checks_when_exit_under_kill_switch_and_halt_returns_both_reasons() -> None:
    view = replace(PASSING, action=EXIT, kill_switch=True, state=TradingState.HALTED, lots=99)

    assert run_checks(view) == ("kill switch is on", "trading is HALTED")
