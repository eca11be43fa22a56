"""Control facts and the trading state they imply (pure).

The compacted control topic keeps one record per fact (kill switch, emergency stop, manual state,
automation, loss halt, circuit breaker, limits). Every service folds the same records with
:func:`apply_control` and derives the trading state with :func:`effective_state`, so a restarted
service knows the state the instant it has replayed the topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from libs.common.messages import ControlKey, ControlSet, TradingState


@dataclass(frozen=True)
class ControlFacts:
    """The latest value of every control fact."""

    kill_switch: bool = False
    emergency_stop: bool = False
    manual_state: TradingState = TradingState.ACTIVE
    automation: bool = True
    loss_halt: bool = False
    circuit: str = "closed"
    limits: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    last_loss_halt_day: str | None = None
    circuit_values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    last_change: ControlSet | None = None


def apply_control(facts: ControlFacts, message: ControlSet) -> ControlFacts:
    """Return the facts after one control record."""
    key = message.key
    if key is ControlKey.KILL_SWITCH:
        facts = replace(facts, kill_switch=message.engaged)
    elif key is ControlKey.EMERGENCY_STOP:
        facts = replace(facts, emergency_stop=message.engaged)
    elif key is ControlKey.MANUAL_STATE:
        facts = replace(facts, manual_state=message.state or TradingState.ACTIVE)
    elif key is ControlKey.AUTOMATION:
        facts = replace(facts, automation=message.engaged)
    elif key is ControlKey.LOSS_HALT:
        facts = replace(
            facts,
            loss_halt=message.engaged,
            last_loss_halt_day=message.values.get("trading_day") if message.engaged else None,
        )
    elif key is ControlKey.CIRCUIT:
        facts = replace(
            facts,
            circuit=message.values.get("state", "closed"),
            circuit_values=MappingProxyType(dict(message.values)),
        )
    elif key is ControlKey.LIMITS:
        facts = replace(facts, limits=MappingProxyType(dict(message.values)))
    return replace(facts, last_change=message)


def effective_state(facts: ControlFacts) -> TradingState:
    """Derive the trading state: the most restrictive fact wins.

    | fact                         | state     |
    |------------------------------|-----------|
    | emergency stop on            | HALTED    |
    | kill switch on               | HALTED    |
    | manual state HALTED          | HALTED    |
    | daily loss limit reached     | REDUCING  |
    | circuit breaker open         | REDUCING  |
    | manual state REDUCING        | REDUCING  |
    | none of the above            | ACTIVE    |
    """
    if facts.emergency_stop or facts.kill_switch or facts.manual_state is TradingState.HALTED:
        return TradingState.HALTED
    if facts.loss_halt or facts.circuit == "open" or facts.manual_state is TradingState.REDUCING:
        return TradingState.REDUCING
    return TradingState.ACTIVE


def state_reasons(facts: ControlFacts) -> tuple[str, ...]:
    """Name every fact that restricts trading, for denials and the status route."""
    reasons = []
    if facts.emergency_stop:
        reasons.append("emergency stop is on")
    if facts.kill_switch:
        reasons.append("kill switch is on")
    if facts.manual_state is not TradingState.ACTIVE:
        reasons.append(f"operator set trading to {facts.manual_state}")
    if facts.loss_halt:
        reasons.append("daily loss limit reached")
    if facts.circuit == "open":
        why = facts.circuit_values.get("reason")
        reasons.append(f"circuit breaker is open ({why})" if why else "circuit breaker is open")
    return tuple(reasons)
