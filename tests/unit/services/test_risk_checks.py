"""The gate's checks: one test per check and per trading state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal

import pytest

from libs.common.clock import IST
from libs.common.messages import SignalAction, TradingState
from services.risk.checks import (
    CHECKS,
    GateView,
    check_expiry_day,
    check_limit_price,
    check_market_hours,
    check_max_lots,
    check_max_margin,
    check_max_open_trades,
    check_trading_state,
    run_checks,
)

ENTRY, EXIT = SignalAction.ENTRY, SignalAction.EXIT

PASSING = GateView(
    state=TradingState.ACTIVE,
    state_reasons=(),
    action=ENTRY,
    now_ist=datetime(2026, 11, 25, 11, 0, tzinfo=IST),
    trading_day=True,
    expiry_day=False,
    enforce_market_hours=True,
    entry_cutoff=time(15, 0),
    expiry_day_entry_cutoff=time(14, 0),
    lots=2,
    max_lots_per_trade=10,
    open_trades=1,
    max_open_trades=8,
    margin_in_use=Decimal(60000),
    margin_per_lot=Decimal(60000),
    max_margin=Decimal(600000),
)


def test_run_checks_when_everything_in_order_passes() -> None:
    assert run_checks(PASSING) == ()


@pytest.mark.parametrize(
    ("state", "action", "denied"),
    [
        (TradingState.ACTIVE, ENTRY, False),
        (TradingState.ACTIVE, EXIT, False),
        (TradingState.REDUCING, ENTRY, True),
        (TradingState.REDUCING, EXIT, False),
        (TradingState.HALTED, ENTRY, True),
        (TradingState.HALTED, EXIT, True),
    ],
)
def test_check_trading_state_per_state_and_action(
    state: TradingState, action: SignalAction, denied: bool
) -> None:
    view = replace(PASSING, state=state, action=action, state_reasons=("kill switch is on",))

    reason = check_trading_state(view)

    assert (reason is not None) is denied
    if denied:
        assert state.value in (reason or "")
        assert "kill switch is on" in (reason or "")


@pytest.mark.parametrize(
    ("hour", "minute", "trading_day", "fragment"),
    [
        (9, 14, True, "outside market hours"),
        (9, 15, True, None),
        (14, 59, True, None),
        (15, 0, True, "cut-off"),
        (15, 30, True, "outside market hours"),
        (11, 0, False, "not an NSE trading day"),
    ],
)
def test_check_market_hours_for_entries(
    hour: int, minute: int, trading_day: bool, fragment: str | None
) -> None:
    view = replace(
        PASSING,
        now_ist=datetime(2026, 11, 25, hour, minute, tzinfo=IST),
        trading_day=trading_day,
    )

    reason = check_market_hours(view)

    assert (reason is None) if fragment is None else (fragment in (reason or ""))


def test_check_market_hours_when_exit_at_night_allows_it() -> None:
    view = replace(PASSING, action=EXIT, now_ist=datetime(2026, 11, 25, 22, 0, tzinfo=IST))

    assert check_market_hours(view) is None


def test_check_market_hours_when_not_enforced_allows_entry_at_night() -> None:
    view = replace(
        PASSING, enforce_market_hours=False, now_ist=datetime(2026, 11, 25, 22, 0, tzinfo=IST)
    )

    assert check_market_hours(view) is None


@pytest.mark.parametrize(("hour", "denied"), [(13, False), (14, True)])
def test_check_expiry_day_when_after_cutoff_denies_entry(hour: int, denied: bool) -> None:
    view = replace(PASSING, expiry_day=True, now_ist=datetime(2026, 12, 1, hour, 0, tzinfo=IST))

    assert (check_expiry_day(view) is not None) is denied


def test_check_expiry_day_when_not_expiry_allows_late_entry() -> None:
    view = replace(PASSING, now_ist=datetime(2026, 11, 25, 14, 30, tzinfo=IST))

    assert check_expiry_day(view) is None


@pytest.mark.parametrize(("lots", "denied"), [(10, False), (11, True)])
def test_check_max_lots(lots: int, denied: bool) -> None:
    assert (check_max_lots(replace(PASSING, lots=lots)) is not None) is denied


@pytest.mark.parametrize(("open_trades", "denied"), [(7, False), (8, True)])
def test_check_max_open_trades(open_trades: int, denied: bool) -> None:
    reason = check_max_open_trades(replace(PASSING, open_trades=open_trades))

    assert (reason is not None) is denied


@pytest.mark.parametrize(("in_use", "denied"), [(480000, False), (480001, True)])
def test_check_max_margin_counts_margin_in_use_plus_this_entry(in_use: int, denied: bool) -> None:
    reason = check_max_margin(replace(PASSING, margin_in_use=Decimal(in_use)))

    assert (reason is not None) is denied


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_lets_exits_through_except_halted(check: object) -> None:
    view = replace(
        PASSING,
        action=EXIT,
        state=TradingState.REDUCING,
        lots=99,
        open_trades=99,
        margin_in_use=Decimal(10**9),
        now_ist=datetime(2026, 11, 25, 23, 0, tzinfo=IST),
        trading_day=False,
    )

    assert check(view) is None  # type: ignore[operator]


def test_run_checks_reports_every_reason_in_check_order() -> None:
    view = replace(PASSING, state=TradingState.REDUCING, lots=11, open_trades=8)

    reasons = run_checks(view)

    assert len(reasons) == 4
    assert reasons[0].startswith("trading is REDUCING")
    assert "lots exceed" in reasons[1]
    assert "trades open" in reasons[2]
    assert "estimated margin" in reasons[3]


@pytest.mark.parametrize(
    ("limit", "reference", "fragment"),
    [
        ("100.05", "100", None),
        ("100.03", "100", "tick"),
        ("140", "100", None),
        ("140.05", "100", "protection band"),
        ("59.95", "100", "protection band"),
        ("40", "30", None),
        ("50.05", "30", "protection band"),
        ("0", "30", "positive"),
    ],
)
def test_check_limit_price(limit: str, reference: str, fragment: str | None) -> None:
    reason = check_limit_price(Decimal(limit), Decimal(reference), Decimal("0.05"))

    assert (reason is None) if fragment is None else (fragment in (reason or ""))
