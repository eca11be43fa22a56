"""The executor's operator routes: the broker session's state, and pasting today's session value.

The session value goes straight to the process that uses it, over HTTP with the operator token;
it never travels over Kafka and is never logged or echoed back.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from libs.common.clock import Clock
from libs.common.logging import get_logger
from services.executor.adapters.breeze import BreezeBroker, SessionRejectedError
from services.executor.broker import BrokerUnavailableError
from services.executor.live_session import LiveSession
from services.executor.service import ExecutorService

log = get_logger(__name__)
router = APIRouter()


@dataclass
class ExecutorContext:
    """What the routes need, filled in once the service has started."""

    operator_token: SecretStr
    clock: Clock
    service: ExecutorService | None = None
    session: LiveSession | None = None
    broker: BreezeBroker | None = None


def _ctx(request: Request) -> ExecutorContext:
    ctx: ExecutorContext = request.app.state.executor
    return ctx


async def operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Check the operator's bearer token in constant time."""
    expected = _ctx(request).operator_token.get_secret_value()
    if not expected:
        raise HTTPException(503, "no operator token is configured for the executor")
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(401, "operator token missing: send 'Authorization: Bearer <token>'")
    try:
        given = authorization[7:].strip().encode()
    except UnicodeEncodeError:
        given = b""
    if not hmac.compare_digest(given, expected.encode()):
        log.warning("operator_token_wrong", path=request.url.path)
        raise HTTPException(403, "operator token is wrong")


class SessionPaste(BaseModel):
    """Today's API session value, from the ``apisession=`` of the Breeze login redirect."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    api_session: SecretStr = Field(description="The apisession value (digits)")


def _state(ctx: ExecutorContext) -> dict[str, Any]:
    service = ctx.service
    if service is None:
        raise HTTPException(503, "the executor is still starting")
    expires = ctx.session.expires_at() if ctx.session else None
    report = service.last_reconciliation
    body: dict[str, Any] = {
        "mode": service.mode,
        "session_valid": service.broker.session_problem is None,
        "problem": service.broker.session_problem,
        "reconciled": service.reconciled,
        "expires_at": expires.isoformat() if expires else None,
        "seconds_to_expiry": (
            max(0, int((expires - ctx.clock.now()).total_seconds())) if expires else None
        ),
        "last_reconciliation": {
            "at": report.at.isoformat() if report.at else None,
            "settled": report.settled,
            "refreshed": report.refreshed,
            "unsettled": report.unsettled,
            "mismatches": {
                k: {"executor": a, "broker": b} for k, (a, b) in report.mismatches.items()
            },
        },
    }
    if ctx.broker is not None:
        minute, day = ctx.broker.guard.used()
        body["api_calls"] = {"last_minute": minute, "today": day}
        body["broker_error_breaker"] = ctx.broker.guard.state.value
    return body


@router.get("/api/v2/broker/session", summary="The broker session and the last reconciliation")
async def session_state(request: Request) -> dict[str, Any]:
    """Session validity, expiry, reconciliation and API call use; never the session value."""
    return _state(_ctx(request))


@router.post(
    "/api/v2/broker/session",
    summary="Paste today's Breeze API session value (operator)",
    dependencies=[Depends(operator)],
)
async def paste_session(request: Request, body: SessionPaste) -> dict[str, Any]:
    """Log in with the value, then reconcile with the broker; entries resume only after that."""
    ctx = _ctx(request)
    if ctx.session is None or ctx.service is None:
        raise HTTPException(409, "the executor runs the paper broker: there is no broker session")
    try:
        await ctx.session.paste(body.api_session.get_secret_value())
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except SessionRejectedError as exc:
        raise HTTPException(422, f"the broker refused this session value ({exc})") from None
    except BrokerUnavailableError as exc:
        raise HTTPException(504, f"the broker did not answer the login: {exc}") from None
    ctx.service.expires_at = ctx.session.expires_at
    report = await ctx.service.reconcile()
    state = _state(ctx)
    state["accepted"] = True
    state["trading_resumes"] = report.clean
    return state


class Adoption(BaseModel):
    """The broker order an operator has identified as an unknown intent's."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    broker_order_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


@router.post(
    "/api/v2/broker/orders/{client_order_id}/adopt",
    summary="Settle an unknown order with the broker order an operator identified (operator)",
    dependencies=[Depends(operator)],
)
async def adopt_order(request: Request, client_order_id: str, body: Adoption) -> dict[str, Any]:
    """When several broker orders match an unknown intent, the operator names the right one."""
    ctx = _ctx(request)
    if ctx.service is None:
        raise HTTPException(503, "the executor is still starting")
    try:
        result = await ctx.service.adopt(client_order_id, body.broker_order_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    except BrokerUnavailableError as exc:
        raise HTTPException(502, str(exc)) from None
    return {
        "client_order_id": client_order_id,
        "broker_order_id": result.broker_order_id,
        "status": result.status.value,
        "filled_quantity": sum(e.quantity for e in result.executions),
    }
