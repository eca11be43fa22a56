"""Builders of messages and domain objects for unit tests: valid defaults, override anything."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from libs.common.messages import (
    DecisionOutcome,
    FillReported,
    Heartbeat,
    Instrument,
    Leg,
    OptionRight,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    Purpose,
    RiskDecisionMade,
    Side,
    SignalAction,
    SignalName,
    SignalReceived,
    SubmitOrder,
    TradingState,
    TradingStateChanged,
    derived_id,
)

# Wednesday 2026-11-25 10:30 IST: a trading day whose next weekly expiry is Tuesday 2026-12-01.
T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
EXPIRY = date(2026, 12, 1)
TRADE_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
SIGNAL_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")


def make_instrument(**overrides: Any) -> Instrument:
    """A NIFTY 24000 PE expiring 2026-12-01."""
    fields: dict[str, Any] = {
        "symbol": "NIFTY",
        "expiry": EXPIRY,
        "strike": Decimal(24000),
        "right": OptionRight.PE,
    }
    fields.update(overrides)
    return Instrument(**fields)


def make_signal(**overrides: Any) -> SignalReceived:
    """An S1 (bullish) entry from the indicator, week 2026-W48."""
    key = overrides.pop("dedup_key", "S1|NIFTY|2026-W48|entry")
    fields: dict[str, Any] = {
        "ts_event": T0,
        "signal_id": derived_id("signal", key),
        "dedup_key": key,
        "signal": SignalName.S1,
        "action": SignalAction.ENTRY,
        "symbol": "NIFTY",
        "option_type": None,
        "strike": None,
        "stop_level": None,
        "price": Decimal(24010),
        "bar_time": None,
        "alert_id": None,
        "trading_week": "2026-W48",
        "payload_style": "brief",
        "source_ip": "127.0.0.1",
    }
    fields.update(overrides)
    return SignalReceived(**fields)


def make_order(**overrides: Any) -> SubmitOrder:
    """A one-lot SELL of the main leg, priced by the executor's model from index 24010."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "client_order_id": f"{TRADE_ID}-entry-main-0",
        "trade_id": TRADE_ID,
        "signal_id": SIGNAL_ID,
        "signal": SignalName.S1,
        "purpose": Purpose.ENTRY,
        "leg": Leg.MAIN,
        "sequence": 1,
        "instrument": make_instrument(),
        "side": Side.SELL,
        "quantity": 65,
        "lot_size": 65,
        "limit_price": None,
        "underlying_price": Decimal(24010),
    }
    fields.update(overrides)
    return SubmitOrder(**fields)


def make_heartbeat(**overrides: Any) -> Heartbeat:
    """A healthy heartbeat of the risk service sent at T0."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "service": "risk",
        "instance": "risk-1",
        "started_at": datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        "status": "ok",
        "consumer_lag": 0,
        "details": {},
    }
    fields.update(overrides)
    return Heartbeat(**fields)


def make_risk_decision(**overrides: Any) -> RiskDecisionMade:
    """An approved entry decision."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "signal_id": SIGNAL_ID,
        "trade_id": TRADE_ID,
        "action": SignalAction.ENTRY,
        "outcome": DecisionOutcome.APPROVED,
        "reasons": (),
    }
    fields.update(overrides)
    return RiskDecisionMade(**fields)


def make_order_accepted(**overrides: Any) -> OrderAccepted:
    """The broker accepted the default order."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "client_order_id": f"{TRADE_ID}-entry-main-0",
        "trade_id": TRADE_ID,
        "broker_order_id": "paper-1",
    }
    fields.update(overrides)
    return OrderAccepted(**fields)


def make_order_rejected(**overrides: Any) -> OrderRejected:
    """The broker rejected the default order."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "client_order_id": f"{TRADE_ID}-entry-main-0",
        "trade_id": TRADE_ID,
        "broker_order_id": None,
        "reason": "no margin",
    }
    fields.update(overrides)
    return OrderRejected(**fields)


def make_order_filled(**overrides: Any) -> OrderFilled:
    """The default order filled completely."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "client_order_id": f"{TRADE_ID}-entry-main-0",
        "trade_id": TRADE_ID,
        "broker_order_id": "paper-1",
        "filled_quantity": 65,
        "average_price": Decimal("101.35"),
    }
    fields.update(overrides)
    return OrderFilled(**fields)


def make_fill(**overrides: Any) -> FillReported:
    """One model-priced execution of the default order."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "fill_id": "paper-1-1",
        "client_order_id": f"{TRADE_ID}-entry-main-0",
        "trade_id": TRADE_ID,
        "signal_id": SIGNAL_ID,
        "signal": SignalName.S1,
        "purpose": Purpose.ENTRY,
        "leg": Leg.MAIN,
        "instrument": make_instrument(),
        "side": Side.SELL,
        "quantity": 65,
        "price": Decimal("101.35"),
        "charges": Decimal("31.42"),
        "price_source": "model",
    }
    fields.update(overrides)
    return FillReported(**fields)


def make_state_change(**overrides: Any) -> TradingStateChanged:
    """An operator halting trading."""
    fields: dict[str, Any] = {
        "ts_event": T0,
        "state": TradingState.HALTED,
        "kill_switch": True,
        "changed_by": "operator",
        "reason": "unit test",
    }
    fields.update(overrides)
    return TradingStateChanged(**fields)
