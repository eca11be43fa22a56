"""TradingView alert payloads: validation and normalisation into ``SignalReceived``.

Two payload styles are accepted: the product brief's
``{"signal","action","symbol","price",...}`` and the S1..S8 indicator's
``{"signal","strike","type","action":"Entry"|"Stoploss", "sl"?, "bar_time"?, "v"?}``.
Both carry the webhook secret in the body (TradingView cannot set headers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from libs.common.clock import IST
from libs.common.messages import (
    OptionRight,
    SignalAction,
    SignalName,
    SignalReceived,
    derived_id,
)

ENTRY_WORDS = frozenset({"entry", "sell", "open"})
EXIT_WORDS = frozenset({"stoploss", "exit", "close", "squareoff", "square_off", "sl"})
SUPPORTED_SYMBOLS = {"NIFTY": "NIFTY", "NIFTY50": "NIFTY", "NIFTY 50": "NIFTY", "NIFTY1!": "NIFTY"}


class AlertError(ValueError):
    """An alert that cannot be accepted, with a message naming the problem."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a number")
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if "{{" in text:
            raise ValueError(f"{field} still holds a TradingView placeholder: {value!r}")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{field} must be a number, got {value!r}") from None
    else:
        raise ValueError(f"{field} must be a number")
    if not result.is_finite() or result <= 0:
        raise ValueError(f"{field} must be a positive number")
    return result


class AlertPayload(BaseModel):
    """The union of both payload styles; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    secret: str | None = Field(default=None, max_length=256)
    signal: str = Field(max_length=8)
    action: str = Field(max_length=32)
    symbol: str = Field(default="NIFTY", max_length=32)
    price: Decimal | None = None
    strike: Decimal | None = None
    sl: Decimal | None = None
    type: str | None = Field(default=None, max_length=8)
    bar_time: datetime | None = None
    alert_id: str | None = Field(default=None, max_length=128)
    v: int | None = None

    @field_validator("price", "strike", "sl", mode="before")
    @classmethod
    def _numbers(cls, value: object, info: Any) -> Decimal | None:
        if value is None:
            return None
        return _decimal(value, info.field_name)

    @field_validator("bar_time", mode="before")
    @classmethod
    def _bar_time(cls, value: object) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError("bar_time must be epoch milliseconds or an ISO-8601 time")
        if isinstance(value, int | float):
            return _from_epoch_ms(float(value))
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return _from_epoch_ms(float(text))
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"bar_time {value!r} is not an ISO-8601 time") from None
            if parsed.tzinfo is None:
                raise ValueError("bar_time must carry a time zone (use {{time}}, which is UTC)")
            return parsed.astimezone(UTC)
        raise ValueError("bar_time must be epoch milliseconds or an ISO-8601 time")


def _from_epoch_ms(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value / 1000.0, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"bar_time {value!r} ms is out of range") from None


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def parse_payload(body: object) -> AlertPayload:
    """Validate a decoded JSON body; raises ``AlertError`` naming each problem."""
    if not isinstance(body, dict):
        raise AlertError("body must be a JSON object", status=400)
    try:
        return AlertPayload.model_validate(body)
    except ValidationError as exc:
        raise AlertError(_format_validation(exc)) from None


def normalise_signal(raw: str) -> SignalName:
    """Map ``S1``..``S8`` (any case) to a signal name."""
    try:
        return SignalName(raw.strip().upper())
    except ValueError:
        raise AlertError(f"signal: unknown signal {raw!r}; expected one of S1..S8") from None


def normalise_action(raw: str) -> SignalAction:
    """Map the alert's action word to entry or exit."""
    word = raw.strip().lower()
    if word in ENTRY_WORDS:
        return SignalAction.ENTRY
    if word in EXIT_WORDS:
        return SignalAction.EXIT
    raise AlertError(
        f"action: {raw!r} is not understood; use Entry (or sell) to open and "
        "Stoploss (or Exit) to close"
    )


def normalise_symbol(raw: str) -> str:
    """Map accepted spellings of the underlying to ``NIFTY``."""
    text = raw.strip().upper()
    if ":" in text:
        text = text.split(":", 1)[1]
    if text not in SUPPORTED_SYMBOLS:
        raise AlertError(f"symbol: {raw!r} is not supported; only NIFTY is traded")
    return SUPPORTED_SYMBOLS[text]


def trading_week(at: datetime) -> str:
    """Return the ISO week, in IST, that a time falls in (e.g. ``2026-W48``)."""
    year, week, _ = at.astimezone(IST).isocalendar()
    return f"{year}-W{week:02d}"


def dedup_key(
    signal: SignalName,
    symbol: str,
    week: str,
    action: SignalAction,
    alert_id: str | None,
    bar_time: datetime | None,
) -> str:
    """Return the idempotency key of an alert (signal, symbol, week, action, and id or bar)."""
    key = f"{signal}|{symbol}|{week}|{action}"
    if alert_id:
        return f"{key}|id={alert_id}"
    if bar_time is not None:
        return f"{key}|bar={bar_time.astimezone(UTC).isoformat()}"
    return key


def to_signal(
    payload: AlertPayload,
    received_at: datetime,
    source_ip: str | None,
) -> SignalReceived:
    """Turn a validated payload into the ``SignalReceived`` event."""
    signal = normalise_signal(payload.signal)
    action = normalise_action(payload.action)
    symbol = normalise_symbol(payload.symbol)
    option_type: OptionRight | None = None
    if payload.type is not None:
        try:
            option_type = OptionRight(payload.type.strip().upper())
        except ValueError:
            raise AlertError(f"type: {payload.type!r} must be CE or PE") from None
        expected = OptionRight.PE if signal.bullish else OptionRight.CE
        if option_type is not expected:
            raise AlertError(
                f"type: {signal} is {'bullish' if signal.bullish else 'bearish'} and sells "
                f"{expected}, but the alert says {option_type}"
            )
    style: Literal["brief", "indicator"] = (
        "indicator" if payload.type is not None or payload.strike is not None else "brief"
    )
    if action is SignalAction.ENTRY and all(
        v is None for v in (payload.price, payload.strike, payload.sl)
    ):
        raise AlertError("an entry needs price, strike or sl to choose the strike")
    week = trading_week(payload.bar_time or received_at)
    key = dedup_key(signal, symbol, week, action, payload.alert_id, payload.bar_time)
    return SignalReceived(
        ts_event=received_at,
        signal_id=derived_id("signal", key),
        dedup_key=key,
        signal=signal,
        action=action,
        symbol=symbol,
        option_type=option_type,
        strike=payload.strike,
        stop_level=payload.sl,
        price=payload.price,
        bar_time=payload.bar_time,
        alert_id=payload.alert_id,
        trading_week=week,
        payload_style=style,
        source_ip=source_ip,
    )
