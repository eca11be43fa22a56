"""The trading-state table: every combination of control facts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from libs.common.control import ControlFacts, apply_control, effective_state, state_reasons
from libs.common.messages import ControlKey, ControlSet, TradingState

T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


def _set(key: ControlKey, **fields: object) -> ControlSet:
    return ControlSet(ts_event=T0, key=key, changed_by="test", reason="test", **fields)


def _expected(
    emergency: bool, kill: bool, manual: TradingState, loss: bool, circuit: str
) -> TradingState:
    if emergency or kill or manual is TradingState.HALTED:
        return TradingState.HALTED
    if loss or circuit == "open" or manual is TradingState.REDUCING:
        return TradingState.REDUCING
    return TradingState.ACTIVE


COMBINATIONS = list(
    itertools.product(
        [False, True], [False, True], list(TradingState), [False, True], ["closed", "open"]
    )
)


@pytest.mark.parametrize(("emergency", "kill", "manual", "loss", "circuit"), COMBINATIONS)
def test_effective_state_over_the_whole_table(
    emergency: bool, kill: bool, manual: TradingState, loss: bool, circuit: str
) -> None:
    facts = ControlFacts()
    for message in (
        _set(ControlKey.EMERGENCY_STOP, engaged=emergency),
        _set(ControlKey.KILL_SWITCH, engaged=kill),
        _set(ControlKey.MANUAL_STATE, state=manual),
        _set(ControlKey.LOSS_HALT, engaged=loss),
        _set(ControlKey.CIRCUIT, values={"state": circuit}),
    ):
        facts = apply_control(facts, message)

    assert effective_state(facts) is _expected(emergency, kill, manual, loss, circuit)
    assert bool(state_reasons(facts)) is (effective_state(facts) is not TradingState.ACTIVE)


def test_kill_switch_when_cleared_returns_to_active() -> None:
    facts = apply_control(ControlFacts(), _set(ControlKey.KILL_SWITCH, engaged=True))
    assert effective_state(facts) is TradingState.HALTED

    facts = apply_control(facts, _set(ControlKey.KILL_SWITCH, engaged=False))

    assert effective_state(facts) is TradingState.ACTIVE


def test_emergency_stop_when_kill_switch_cleared_stays_halted() -> None:
    facts = ControlFacts()
    for message in (
        _set(ControlKey.EMERGENCY_STOP, engaged=True),
        _set(ControlKey.KILL_SWITCH, engaged=True),
        _set(ControlKey.KILL_SWITCH, engaged=False),
    ):
        facts = apply_control(facts, message)

    assert effective_state(facts) is TradingState.HALTED
    assert state_reasons(facts) == ("emergency stop is on",)


def test_limits_and_automation_are_kept() -> None:
    facts = apply_control(ControlFacts(), _set(ControlKey.LIMITS, values={"max_open_trades": "3"}))
    facts = apply_control(facts, _set(ControlKey.AUTOMATION, engaged=False))

    assert facts.limits["max_open_trades"] == "3"
    assert facts.automation is False
    assert effective_state(facts) is TradingState.ACTIVE
