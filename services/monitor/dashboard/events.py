"""Kafka messages and control facts as the dashboard's small JSON events (pure, no I/O).

Every event is ``{"type": ..., "ts": ..., "data": {...}}``: ``ts`` is the fact's UTC time in
ISO 8601, money and prices are strings (Decimals never become floats), ids are strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from libs.common.control import ControlFacts, effective_state, state_reasons
from libs.common.messages import (
    AnyMessage,
    BrokerStatusChanged,
    ControlSet,
    FillReported,
    Instrument,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    PlaceManualOrder,
    PnlSnapshot,
    ResolvePending,
    RiskDecisionMade,
    SignalReceived,
    SquareOffAll,
    TradeClosed,
)

Event = dict[str, Any]

# Event types a client can receive (``snapshot`` first, then any of the others).
EVENT_TYPES = (
    "snapshot",
    "signal",
    "decision",
    "order_event",
    "fill",
    "pnl",
    "trade_closed",
    "control",
    "safety",
    "broker",
    "command",
    "positions",
    "pending",
)


def event(kind: str, ts: datetime, data: Mapping[str, Any]) -> Event:
    """One dashboard event."""
    return {"type": kind, "ts": ts.isoformat(), "data": dict(data)}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _instrument(inst: Instrument) -> dict[str, Any]:
    return {
        "key": inst.key,
        "symbol": inst.symbol,
        "expiry": inst.expiry.isoformat(),
        "strike": str(inst.strike),
        "option_type": inst.right.value,
    }


def _signal(m: SignalReceived) -> Event:
    return event(
        "signal",
        m.ts_event,
        {
            "signal_id": str(m.signal_id),
            "signal": m.signal.value,
            "action": m.action.value,
            "symbol": m.symbol,
            "option_type": m.option_type.value if m.option_type else None,
            "strike": _money(m.strike),
            "stop_level": _money(m.stop_level),
            "price": _money(m.price),
            "trading_week": m.trading_week,
        },
    )


def _decision(m: RiskDecisionMade) -> Event:
    return event(
        "decision",
        m.ts_event,
        {
            "signal_id": str(m.signal_id),
            "trade_id": str(m.trade_id) if m.trade_id else None,
            "action": m.action.value,
            "outcome": m.outcome.value,
            "reasons": list(m.reasons),
        },
    )


def _order_event(m: OrderAccepted | OrderRejected | OrderFilled) -> Event:
    data: dict[str, Any] = {
        "event": m.type.removeprefix("Order").lower(),
        "client_order_id": m.client_order_id,
        "trade_id": str(m.trade_id),
        "broker_order_id": m.broker_order_id,
    }
    if isinstance(m, OrderRejected):
        data["reason"] = m.reason
    if isinstance(m, OrderFilled):
        data["filled_quantity"] = m.filled_quantity
        data["average_price"] = str(m.average_price)
    return event("order_event", m.ts_event, data)


def _fill(m: FillReported) -> Event:
    return event(
        "fill",
        m.ts_event,
        {
            "fill_id": m.fill_id,
            "client_order_id": m.client_order_id,
            "trade_id": str(m.trade_id),
            "signal_id": str(m.signal_id),
            "signal": m.signal.value if m.signal else None,
            "purpose": m.purpose.value,
            "leg": m.leg.value,
            "instrument": _instrument(m.instrument),
            "side": m.side.value,
            "quantity": m.quantity,
            "price": str(m.price),
            "charges": str(m.charges),
            "price_source": m.price_source,
        },
    )


def _pnl(m: PnlSnapshot) -> Event:
    return event("pnl", m.ts_event, pnl_point(m))


def pnl_point(m: PnlSnapshot) -> dict[str, Any]:
    """One point of the intraday P&L series."""
    return {
        "trading_day": m.trading_day.isoformat(),
        "at": m.ts_event.isoformat(),
        "realized": str(m.realized),
        "unrealized": str(m.unrealized),
        "charges": str(m.charges),
        "net": str(m.net),
        "open_positions": m.open_positions,
        "marks_missing": m.marks_missing,
    }


def _trade_closed(m: TradeClosed) -> Event:
    return event(
        "trade_closed",
        m.ts_event,
        {
            "trade_id": str(m.trade_id),
            "signal": m.signal.value if m.signal else None,
            "net_pnl": str(m.net_pnl),
            "charges": str(m.charges),
        },
    )


def control_change(m: ControlSet) -> dict[str, Any]:
    """One control fact as the operator sees it."""
    return {
        "key": m.key.value,
        "engaged": m.engaged,
        "state": m.state.value if m.state else None,
        "values": dict(m.values),
        "changed_by": m.changed_by,
        "reason": m.reason,
        "at": m.ts_event.isoformat(),
    }


def broker_view(m: BrokerStatusChanged | None) -> dict[str, Any]:
    """The broker session as the dashboard shows it."""
    if m is None:
        return {"mode": None, "session_valid": None, "detail": "no broker status published yet"}
    return {
        "mode": m.mode,
        "session_valid": m.session_valid,
        "detail": m.detail,
        "at": m.ts_event.isoformat(),
    }


def _command(m: SquareOffAll | ResolvePending | PlaceManualOrder) -> Event:
    data: dict[str, Any] = {
        "command": m.type,
        "requested_by": m.requested_by,
        "reason": m.reason,
    }
    if isinstance(m, ResolvePending):
        data["signal_id"] = str(m.signal_id)
        data["approve"] = m.approve
    elif isinstance(m, PlaceManualOrder):
        data["instrument"] = _instrument(m.instrument)
        data["side"] = m.side.value
        data["lots"] = m.lots
        data["purpose"] = m.purpose.value
    else:
        data["command_id"] = str(m.command_id)
    return event("command", m.ts_event, data)


def to_event(message: AnyMessage) -> Event | None:
    """The dashboard event of one Kafka message, or None for messages it does not show."""
    if isinstance(message, SignalReceived):
        return _signal(message)
    if isinstance(message, RiskDecisionMade):
        return _decision(message)
    if isinstance(message, OrderAccepted | OrderRejected | OrderFilled):
        return _order_event(message)
    if isinstance(message, FillReported):
        return _fill(message)
    if isinstance(message, PnlSnapshot):
        return _pnl(message)
    if isinstance(message, TradeClosed):
        return _trade_closed(message)
    if isinstance(message, ControlSet):
        return event("control", message.ts_event, control_change(message))
    if isinstance(message, BrokerStatusChanged):
        return event("broker", message.ts_event, broker_view(message))
    if isinstance(message, SquareOffAll | ResolvePending | PlaceManualOrder):
        return _command(message)
    return None


def safety_view(facts: ControlFacts, history: Mapping[str, ControlSet]) -> dict[str, Any]:
    """The trading state every service derives from the control facts, and why."""
    return {
        "trading_state": effective_state(facts).value,
        "restrictions": list(state_reasons(facts)),
        "kill_switch": facts.kill_switch,
        "emergency_stop": facts.emergency_stop,
        "manual_state": facts.manual_state.value,
        "automation": facts.automation,
        "daily_loss_halt": facts.loss_halt,
        "circuit_breaker": facts.circuit,
        "last_changes": {key: control_change(m) for key, m in sorted(history.items())},
    }
