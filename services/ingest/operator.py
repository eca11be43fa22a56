"""Operator routes: authenticated commands that change trading (published to Kafka, audited)."""

from __future__ import annotations

import asyncio
import hmac
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.common.clock import IST
from libs.common.kafka import publish
from libs.common.logging import get_logger
from libs.common.messages import (
    ControlKey,
    ControlSet,
    Instrument,
    Message,
    OptionRight,
    PlaceManualOrder,
    Purpose,
    ResolvePending,
    Side,
    SquareOffAll,
    TradingState,
)
from libs.common.topics import CONTROL, SIGNALS, Topic
from libs.market.calendar import CalendarRangeError
from libs.market.expiries import next_weekly_expiry
from services.ingest.api import IngestContext

log = get_logger(__name__)
router = APIRouter(tags=["operator"])


class OperatorError(Exception):
    """An operator request refused with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _token_matches(given: str, expected: str) -> bool:
    try:
        given_bytes = given.encode()
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given_bytes, expected.encode())


async def operator(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_operator: Annotated[str | None, Header(max_length=64)] = None,
) -> str:
    """Authenticate the bearer token; return the operator's name for the audit trail."""
    ctx: IngestContext = request.app.state.ctx
    if not authorization or not authorization.lower().startswith("bearer "):
        ctx.metrics.operator_auth_failures.labels("token_missing").inc()
        raise OperatorError(401, "operator token missing: send 'Authorization: Bearer <token>'")
    token = authorization[7:].strip()
    if not _token_matches(token, ctx.settings.operator_token.get_secret_value()):
        ctx.metrics.operator_auth_failures.labels("token_wrong").inc()
        log.warning("operator_token_wrong", path=request.url.path)
        raise OperatorError(403, "operator token is wrong")
    return (x_operator or "operator").strip() or "operator"


Operator = Annotated[str, Depends(operator)]


class Reason(BaseModel):
    """Every operator command says why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=3, max_length=500, description="Why; kept in the audit log")


class Switch(Reason):
    """Turn a safety switch on or off."""

    engaged: bool = Field(default=True, description="true turns it on, false clears it")


class StateRequest(Reason):
    """Set the operator's trading state."""

    state: TradingState


class LimitsRequest(Reason):
    """Change limits at run time (audited); omitted limits keep their configured value."""

    max_lots_per_trade: int | None = Field(default=None, ge=1, le=1000)
    max_open_trades: int | None = Field(default=None, ge=1, le=1000)
    max_margin: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _something(self) -> LimitsRequest:
        if (
            self.max_lots_per_trade is None
            and self.max_open_trades is None
            and (self.max_margin is None)
        ):
            raise ValueError("give at least one of max_lots_per_trade, max_open_trades, max_margin")
        return self


class PlaceOrderRequest(Reason):
    """An operator's order on one NIFTY option contract."""

    strike: Decimal = Field(gt=0, multiple_of=50, description="Strike, a multiple of 50")
    option_type: OptionRight
    expiry: date | None = Field(default=None, description="Default: the next weekly expiry")
    side: Side
    lots: int = Field(ge=1, le=1000)
    purpose: Purpose = Field(description="entry opens exposure; exit reduces it")
    underlying_price: Decimal | None = Field(
        default=None, gt=0, description="Index level, for the paper broker's model price"
    )


class PaperModeRequest(BaseModel):
    """Switch between paper and live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(description="true: paper trading; false: live trading")
    confirm: str | None = Field(default=None, description="Must be 'GO LIVE' to leave paper")


async def _send(ctx: IngestContext, topic: Topic, message: Message, key: str) -> None:
    try:
        await asyncio.wait_for(
            publish(ctx.producer, topic, message, key=key), ctx.settings.publish_timeout_s
        )
    except (TimeoutError, KafkaError) as exc:
        ctx.metrics.operator_commands.labels(type(message).__name__, "unavailable").inc()
        raise OperatorError(503, "the command could not be stored in Kafka; not applied") from exc
    ctx.metrics.operator_commands.labels(type(message).__name__, "stored").inc()


async def _set(
    request: Request, who: str, key: ControlKey, reason: str, **fields: object
) -> ControlSet:
    ctx: IngestContext = request.app.state.ctx
    message = ControlSet(ts_event=ctx.clock.now(), key=key, changed_by=who, reason=reason, **fields)
    await _send(ctx, CONTROL, message, key.value)
    log.warning("control_set", key=key, changed_by=who, reason=reason, engaged=message.engaged)
    return message


def _answer(message: ControlSet) -> dict[str, object]:
    return {
        "status": "accepted",
        "key": message.key.value,
        "engaged": message.engaged,
        "state": message.state.value if message.state else None,
        "values": message.values,
        "message_id": str(message.message_id),
    }


@router.post("/api/v2/safety/kill-switch", summary="Turn the kill switch on (HALTED) or off")
async def kill_switch(request: Request, body: Switch, who: Operator) -> dict[str, object]:
    """Kill switch on: trading HALTED everywhere until an operator turns it off."""
    return _answer(
        await _set(request, who, ControlKey.KILL_SWITCH, body.reason, engaged=body.engaged)
    )


@router.post(
    "/api/v2/safety/emergency-stop", summary="HALT, square off every position, stay halted"
)
async def emergency_stop(request: Request, body: Switch, who: Operator) -> dict[str, object]:
    """Emergency stop on: HALTED and every open trade squared off; stays until cleared."""
    message = await _set(request, who, ControlKey.EMERGENCY_STOP, body.reason, engaged=body.engaged)
    answer = _answer(message)
    if body.engaged:
        answer["square_off_command_id"] = str(await _square_off(request, who, body.reason))
    return answer


@router.post("/api/v2/safety/trading-state", summary="Set ACTIVE, REDUCING or HALTED")
async def trading_state(request: Request, body: StateRequest, who: Operator) -> dict[str, object]:
    """The operator's own state; kill switch, emergency stop and loss limits still apply."""
    return _answer(await _set(request, who, ControlKey.MANUAL_STATE, body.reason, state=body.state))


async def _square_off(request: Request, who: str, reason: str) -> uuid.UUID:
    ctx: IngestContext = request.app.state.ctx
    command = SquareOffAll(
        ts_event=ctx.clock.now(), command_id=uuid.uuid4(), requested_by=who, reason=reason
    )
    await _send(ctx, SIGNALS, command, "NIFTY")
    log.warning("square_off_requested", requested_by=who, reason=reason)
    return command.command_id


@router.post("/api/v2/safety/circuit-breaker/reset", summary="Close the circuit breaker")
async def reset_breaker(request: Request, body: Reason, who: Operator) -> dict[str, object]:
    """Operator reset: the breaker closes and forgets its error and loss history."""
    message = await _set(request, who, ControlKey.CIRCUIT, body.reason, values={"state": "closed"})
    return _answer(message)


@router.post("/api/v2/trading/square-off-all", summary="Close every open trade now")
async def square_off_all(request: Request, body: Reason, who: Operator) -> dict[str, object]:
    """Close every open trade, main legs before hedges."""
    return {"status": "accepted", "command_id": str(await _square_off(request, who, body.reason))}


@router.post("/api/v2/strategy/start-automation", summary="Trade accepted signals automatically")
async def start_automation(request: Request, body: Reason, who: Operator) -> dict[str, object]:
    """Automation on: approved signals are traded without waiting for an operator."""
    return _answer(await _set(request, who, ControlKey.AUTOMATION, body.reason, engaged=True))


@router.post("/api/v2/strategy/stop-automation", summary="Hold signals for operator approval")
async def stop_automation(request: Request, body: Reason, who: Operator) -> dict[str, object]:
    """Automation off: accepted signals wait as pending approvals."""
    return _answer(await _set(request, who, ControlKey.AUTOMATION, body.reason, engaged=False))


async def _resolve(
    request: Request, signal_id: uuid.UUID, approve: bool, who: str, reason: str
) -> dict[str, object]:
    ctx: IngestContext = request.app.state.ctx
    command = ResolvePending(
        ts_event=ctx.clock.now(),
        signal_id=signal_id,
        approve=approve,
        requested_by=who,
        reason=reason,
    )
    await _send(ctx, SIGNALS, command, "NIFTY")
    log.warning("pending_resolved", signal_id=str(signal_id), approve=approve, requested_by=who)
    return {"status": "accepted", "signal_id": str(signal_id), "approve": approve}


@router.post("/api/v2/strategy/pending/{signal_id}/approve", summary="Approve a pending signal")
async def approve(
    request: Request, signal_id: uuid.UUID, body: Reason, who: Operator
) -> dict[str, object]:
    """Approve a waiting signal; the gate checks it again before any order."""
    return await _resolve(request, signal_id, True, who, body.reason)


@router.post("/api/v2/strategy/pending/{signal_id}/reject", summary="Reject a pending signal")
async def reject(
    request: Request, signal_id: uuid.UUID, body: Reason, who: Operator
) -> dict[str, object]:
    """Reject a waiting signal."""
    return await _resolve(request, signal_id, False, who, body.reason)


@router.post("/api/v2/risk/limits", summary="Change limits at run time (audited)")
async def limits(request: Request, body: LimitsRequest, who: Operator) -> dict[str, object]:
    """Replace the run-time limit overrides."""
    values = {k: str(v) for k, v in body.model_dump(exclude={"reason"}).items() if v is not None}
    return _answer(await _set(request, who, ControlKey.LIMITS, body.reason, values=values))


@router.post("/api/v2/trading/place-order", summary="A manual order through the risk gate")
async def place_order(
    request: Request, body: PlaceOrderRequest, who: Operator
) -> dict[str, object]:
    """Queue a manual order; risk applies the same checks and answers on risk.decisions."""
    ctx: IngestContext = request.app.state.ctx
    try:
        expiry = body.expiry or next_weekly_expiry(ctx.clock.now().astimezone(IST).date())
    except CalendarRangeError as exc:
        raise OperatorError(422, f"expiry: {exc}") from exc
    command = PlaceManualOrder(
        ts_event=ctx.clock.now(),
        command_id=uuid.uuid4(),
        instrument=Instrument(
            symbol="NIFTY", expiry=expiry, strike=body.strike, right=body.option_type
        ),
        side=body.side,
        lots=body.lots,
        purpose=body.purpose,
        underlying_price=body.underlying_price,
        requested_by=who,
        reason=body.reason,
    )
    await _send(ctx, SIGNALS, command, "NIFTY")
    log.warning(
        "manual_order_requested",
        requested_by=who,
        instrument=command.instrument.key,
        side=body.side,
        lots=body.lots,
        purpose=body.purpose,
    )
    return {
        "status": "accepted",
        "command_id": str(command.command_id),
        "instrument": command.instrument.key,
        "decision": "published on risk.decisions under this command_id",
    }


@router.post("/api/v2/trading/toggle-paper-mode", summary="Paper or live trading")
async def toggle_paper_mode(body: PaperModeRequest, who: Operator) -> JSONResponse:
    """Paper stays paper; live needs confirmation and a live broker session."""
    if body.enabled:
        return JSONResponse({"status": "unchanged", "mode": "paper"})
    if body.confirm != "GO LIVE":
        raise OperatorError(400, 'leaving paper mode needs "confirm": "GO LIVE"')
    log.warning("live_mode_refused", requested_by=who)
    raise OperatorError(409, "live trading is not available: no live broker session is configured")
