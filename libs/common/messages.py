"""Message models v1: every fact and command that crosses Kafka.

Commands are imperative (``SubmitOrder``), events past tense (``OrderFilled``). Every message is
frozen, carries a ``message_id``, a ``schema_version``, a tz-aware UTC ``ts_event`` and a
correlation id, and is decoded through :data:`MESSAGE_ADAPTER` with a discriminator on ``type``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, field_validator

# A fixed namespace so that ids derived from business keys are stable across processes.
ID_NAMESPACE = uuid.UUID("0c8f7c1e-5d7e-4a55-9d43-4f1f3e2a9b10")


def derived_id(*parts: object) -> uuid.UUID:
    """Return a stable UUID derived from business-key parts."""
    return uuid.uuid5(ID_NAMESPACE, "|".join(str(p) for p in parts))


class SignalName(StrEnum):
    """The eight weekly signals."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"
    S5 = "S5"
    S6 = "S6"
    S7 = "S7"
    S8 = "S8"

    @property
    def bullish(self) -> bool:
        """Bullish signals sell puts; bearish signals sell calls."""
        return self in {SignalName.S1, SignalName.S2, SignalName.S4, SignalName.S7}


class SignalAction(StrEnum):
    """What an alert asks for."""

    ENTRY = "entry"
    EXIT = "exit"


class OptionRight(StrEnum):
    """Call or put."""

    CE = "CE"
    PE = "PE"


class Side(StrEnum):
    """Order side."""

    BUY = "BUY"
    SELL = "SELL"


class Leg(StrEnum):
    """Which leg of a hedged position an order belongs to."""

    HEDGE = "hedge"
    MAIN = "main"


class Purpose(StrEnum):
    """Whether an order opens or closes a position."""

    ENTRY = "entry"
    EXIT = "exit"


class TradingState(StrEnum):
    """Trading states: ACTIVE trades, REDUCING only exits, HALTED nothing but cancels."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class DecisionOutcome(StrEnum):
    """What the risk gate decided about a signal."""

    APPROVED = "approved"
    DENIED = "denied"
    DUPLICATE = "duplicate"
    PENDING = "pending"


class Instrument(BaseModel):
    """A NIFTY option contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(description="Underlying symbol, e.g. NIFTY")
    expiry: date = Field(description="Contract expiry date (IST)")
    strike: Decimal = Field(description="Strike price in index points")
    right: OptionRight = Field(description="CE or PE")

    @property
    def key(self) -> str:
        """Return a stable, readable id such as ``NIFTY-2026-11-26-24000-PE``."""
        return f"{self.symbol}-{self.expiry.isoformat()}-{self.strike.normalize():f}-{self.right}"


class Message(BaseModel):
    """Fields every message has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique per message")
    schema_version: Literal[1] = Field(default=1, description="Version of this message's schema")
    ts_event: AwareDatetime = Field(description="When the fact happened, UTC")

    @field_validator("ts_event")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------------------------


class SignalReceived(Message):
    """An authenticated, validated TradingView alert."""

    type: Literal["SignalReceived"] = "SignalReceived"
    signal_id: uuid.UUID = Field(description="Stable id derived from the dedup key")
    dedup_key: str = Field(description="signal|symbol|trading week|action[|alert id or bar time]")
    signal: SignalName
    action: SignalAction
    symbol: str = "NIFTY"
    option_type: OptionRight | None = Field(default=None, description="From the alert, if given")
    strike: Decimal | None = Field(default=None, description="Strike from the alert, if given")
    stop_level: Decimal | None = Field(default=None, description="Raw index stop level (sl)")
    price: Decimal | None = Field(default=None, description="Index price from the alert")
    bar_time: AwareDatetime | None = Field(default=None, description="Alert bar time, UTC")
    alert_id: str | None = None
    trading_week: str = Field(description="ISO week of the signal in IST, e.g. 2026-W48")
    payload_style: Literal["brief", "indicator"]
    source_ip: str | None = None


# ---------------------------------------------------------------------------------------------
# risk
# ---------------------------------------------------------------------------------------------


class RiskDecisionMade(Message):
    """The risk gate's decision about one signal, with its reasons."""

    type: Literal["RiskDecisionMade"] = "RiskDecisionMade"
    signal_id: uuid.UUID
    trade_id: uuid.UUID | None = None
    action: SignalAction
    outcome: DecisionOutcome
    reasons: tuple[str, ...] = ()


class SubmitOrder(Message):
    """Command: place one order at the broker."""

    type: Literal["SubmitOrder"] = "SubmitOrder"
    client_order_id: str = Field(description="Deterministic id: trade, purpose, leg, slice")
    trade_id: uuid.UUID
    signal_id: uuid.UUID
    signal: SignalName | None = Field(default=None, description="None: a manual order")
    purpose: Purpose
    leg: Leg
    sequence: int = Field(ge=0, description="Order of this command within its trade action")
    instrument: Instrument
    side: Side
    quantity: int = Field(gt=0, description="Units (lots x lot size)")
    lot_size: int = Field(gt=0)
    limit_price: Decimal | None = Field(default=None, description="None: priced by the executor")
    underlying_price: Decimal | None = Field(
        default=None, description="Index level the decision was based on, for model pricing"
    )


# ---------------------------------------------------------------------------------------------
# executor
# ---------------------------------------------------------------------------------------------


class OrderEvent(Message):
    """Fields every order lifecycle event has."""

    client_order_id: str
    trade_id: uuid.UUID
    broker_order_id: str | None = None


class OrderAccepted(OrderEvent):
    """The broker accepted the order."""

    type: Literal["OrderAccepted"] = "OrderAccepted"


class OrderRejected(OrderEvent):
    """The broker proved it did not take the order."""

    type: Literal["OrderRejected"] = "OrderRejected"
    reason: str


class OrderFilled(OrderEvent):
    """The order is completely filled."""

    type: Literal["OrderFilled"] = "OrderFilled"
    filled_quantity: int
    average_price: Decimal


class FillReported(Message):
    """One execution against an order."""

    type: Literal["FillReported"] = "FillReported"
    fill_id: str
    client_order_id: str
    trade_id: uuid.UUID
    signal_id: uuid.UUID
    signal: SignalName | None = Field(default=None, description="None: a manual order")
    purpose: Purpose
    leg: Leg
    instrument: Instrument
    side: Side
    quantity: int = Field(gt=0)
    price: Decimal
    charges: Decimal = Field(description="All charges of this fill, rupees")
    price_source: Literal["quote", "model"] = Field(description="What the fill price came from")


# ---------------------------------------------------------------------------------------------
# control and health
# ---------------------------------------------------------------------------------------------


class TradingStateChanged(Message):
    """The trading state and kill switch, as set by an operator or the gate itself."""

    type: Literal["TradingStateChanged"] = "TradingStateChanged"
    state: TradingState
    kill_switch: bool
    changed_by: str = Field(description="Operator or component that made the change")
    reason: str


class ControlKey(StrEnum):
    """The independent facts kept on the compacted control topic, one record key each."""

    KILL_SWITCH = "kill_switch"
    EMERGENCY_STOP = "emergency_stop"
    MANUAL_STATE = "manual_state"
    AUTOMATION = "automation"
    LOSS_HALT = "loss_halt"
    CIRCUIT = "circuit"
    LIMITS = "limits"


class ControlSet(Message):
    """One control fact set by an operator or by the gate itself; the latest per key wins."""

    type: Literal["ControlSet"] = "ControlSet"
    key: ControlKey
    engaged: bool = Field(default=False, description="Switch facts: on or off")
    state: TradingState | None = Field(default=None, description="manual_state: the state")
    values: dict[str, str] = Field(default_factory=dict, description="limits, circuit details")
    changed_by: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class SquareOffAll(Message):
    """Command: close every open trade now (main legs before hedges)."""

    type: Literal["SquareOffAll"] = "SquareOffAll"
    command_id: uuid.UUID
    requested_by: str
    reason: str


class PlaceManualOrder(Message):
    """Command: an operator's own order, through the same gate as signals."""

    type: Literal["PlaceManualOrder"] = "PlaceManualOrder"
    command_id: uuid.UUID
    instrument: Instrument
    side: Side
    lots: int = Field(gt=0)
    purpose: Purpose
    underlying_price: Decimal | None = None
    requested_by: str
    reason: str


class ResolvePending(Message):
    """Command: approve or reject a signal that waits for an operator."""

    type: Literal["ResolvePending"] = "ResolvePending"
    signal_id: uuid.UUID
    approve: bool
    requested_by: str
    reason: str


class BarClosed(Message):
    """A complete hourly index bar (labelled by its start time)."""

    type: Literal["BarClosed"] = "BarClosed"
    symbol: str = "NIFTY"
    start: AwareDatetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    source: str = Field(description="live, breeze (built from Breeze candles), replay or test")


class MarkUpdated(Message):
    """The current price of a held contract (a quote, or a labelled model price)."""

    type: Literal["MarkUpdated"] = "MarkUpdated"
    instrument: Instrument
    price: Decimal
    underlying: Decimal | None = None
    price_source: Literal["quote", "model"]


class PnlSnapshot(Message):
    """The account's P&L for one IST trading day, marked to market."""

    type: Literal["PnlSnapshot"] = "PnlSnapshot"
    trading_day: date
    realized: Decimal = Field(description="Realised today, before charges")
    unrealized: Decimal = Field(description="Open positions at their latest marks")
    charges: Decimal = Field(description="Charges of today's fills")
    net: Decimal = Field(description="realized + unrealized - charges")
    open_positions: int
    marks_missing: int = Field(description="Open positions without a mark (valued at cost)")


class TradeClosed(Message):
    """Every leg of a trade is flat: its result."""

    type: Literal["TradeClosed"] = "TradeClosed"
    trade_id: uuid.UUID
    signal: SignalName | None = Field(default=None, description="None: a manual order")
    net_pnl: Decimal = Field(description="Sell minus buy notional, less charges, rupees")
    charges: Decimal


class PositionSnapshot(Message):
    """The account's net position in one instrument after a fill or mark (compacted by key)."""

    type: Literal["PositionSnapshot"] = "PositionSnapshot"
    instrument: Instrument
    net_quantity: int = Field(description="Signed units: long > 0, short < 0, flat 0")
    average_price: Decimal = Field(description="Average open price; 0 when flat")
    realized_pnl: Decimal = Field(description="Realised P&L of the instrument, before charges")
    charges: Decimal = Field(description="Charges of every fill in the instrument")
    mark_price: Decimal | None = Field(default=None, description="Latest mark, if any")


class BrokerStatusChanged(Message):
    """The broker session as the executor last saw it."""

    type: Literal["BrokerStatusChanged"] = "BrokerStatusChanged"
    mode: Literal["paper", "live"]
    session_valid: bool
    detail: str = Field(max_length=500)
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the session value expires; None: it does not (paper)"
    )
    reconciled: bool = Field(
        default=True, description="Orders and positions were reconciled with the broker"
    )


class AlertKind(StrEnum):
    """What an operator alert is about."""

    SESSION_EXPIRING = "session_expiring"
    SESSION_EXPIRED = "session_expired"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    HEDGE_UNWOUND = "hedge_unwound"
    LARGE_LOSS = "large_loss"
    OTHER = "other"


class AlertSeverity(StrEnum):
    """How urgently an operator should look."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class OperatorAlert(Message):
    """Something an operator must be told about, raised by any service through its outbox."""

    type: Literal["OperatorAlert"] = "OperatorAlert"
    kind: AlertKind
    severity: AlertSeverity
    raised_by: str = Field(min_length=1, max_length=64, description="Service or component")
    text: str = Field(min_length=1, max_length=1000, description="One line for the operator")
    details: dict[str, str] = Field(
        default_factory=dict, description="Facts behind the alert, e.g. order ids or amounts"
    )


class Heartbeat(Message):
    """A service's periodic report of its own health."""

    type: Literal["Heartbeat"] = "Heartbeat"
    service: str
    instance: str
    started_at: AwareDatetime
    status: Literal["ok", "degraded", "down"]
    consumer_lag: int = Field(ge=0, description="Sum of lag over the service's partitions")
    details: dict[str, str] = Field(default_factory=dict)


AnyMessage = Annotated[
    SignalReceived
    | RiskDecisionMade
    | SubmitOrder
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | FillReported
    | TradingStateChanged
    | ControlSet
    | SquareOffAll
    | PlaceManualOrder
    | ResolvePending
    | BarClosed
    | MarkUpdated
    | PnlSnapshot
    | TradeClosed
    | PositionSnapshot
    | BrokerStatusChanged
    | OperatorAlert
    | Heartbeat,
    Field(discriminator="type"),
]

MESSAGE_ADAPTER: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)


def decode(raw: bytes) -> AnyMessage:
    """Decode one Kafka record value; raises ``pydantic.ValidationError`` on bad input."""
    return MESSAGE_ADAPTER.validate_json(raw)


def encode(message: Message) -> bytes:
    """Encode a message as JSON bytes."""
    return message.model_dump_json().encode()
