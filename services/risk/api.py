"""Risk's own HTTP route: a dry run of an order through the same checks, nothing written."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from libs.common.clock import IST
from libs.common.control import effective_state
from libs.common.messages import SignalAction, SignalName, SignalReceived, derived_id
from libs.market.calendar import CalendarRangeError
from libs.market.contract import TICK_SIZE
from libs.market.lots import LotSizeUnknownError
from services.risk.checks import check_limit_price, run_checks
from services.risk.construction import plan_entry
from services.risk.service import RiskService

router = APIRouter(tags=["safety"])


class ValidateOrder(BaseModel):
    """An order to check without placing it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signal: SignalName
    action: SignalAction = SignalAction.ENTRY
    price: Decimal | None = Field(default=None, gt=0, description="Index level")
    strike: Decimal | None = Field(default=None, gt=0)
    sl: Decimal | None = Field(default=None, gt=0, description="Index stop level")
    trading_week: str | None = Field(default=None, description="Default: this week (IST)")
    limit_price: Decimal | None = Field(default=None, description="Premium limit to check")
    reference_price: Decimal | None = Field(default=None, gt=0, description="Premium reference")


@router.post("/api/v2/safety/validate-order", summary="Dry run through the risk checks")
async def validate_order(request: Request) -> JSONResponse:
    """Answer whether the gate would accept the order now, with every reason; nothing is stored."""
    service: RiskService | None = getattr(request.app.state, "service", None)
    if service is None:
        return JSONResponse(status_code=503, content={"error": "risk is starting"})
    try:
        body = ValidateOrder.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(status_code=422, content={"error": errors})
    return JSONResponse(await _dry_run(service, body))


async def _dry_run(service: RiskService, body: ValidateOrder) -> dict[str, Any]:
    now = service.clock.now()
    year, week, _ = now.astimezone(IST).isocalendar()
    signal = SignalReceived(
        ts_event=now,
        signal_id=uuid.uuid4(),
        dedup_key="validate-order",
        signal=body.signal,
        action=body.action,
        strike=body.strike,
        stop_level=body.sl,
        price=body.price,
        trading_week=body.trading_week or f"{year}-W{week:02d}",
        payload_style="brief",
    )
    async with service.pool.acquire() as conn:
        view = await service.gate_view(conn, body.action)
        reasons = list(run_checks(view))
        key = service.latch_key(signal)
        latched = await conn.fetchval("SELECT status FROM risk.trades WHERE latch_key = $1", key)
    if body.action is SignalAction.ENTRY and latched is not None:
        reasons.append(f"{signal.signal} already entered in {signal.trading_week}")
    if body.action is SignalAction.EXIT and latched != "open":
        reasons.append(f"no open {signal.signal} trade in {signal.trading_week} to exit")
    if body.limit_price is not None:
        if body.reference_price is None:
            reasons.append("reference_price is needed to check limit_price")
        elif why := check_limit_price(body.limit_price, body.reference_price, TICK_SIZE):
            reasons.append(why)
    legs: list[dict[str, Any]] = []
    if body.action is SignalAction.ENTRY:
        try:
            plans = plan_entry(signal, now.astimezone(IST).date(), service.trade_settings)
            legs = [
                {
                    "leg": p.leg.value,
                    "instrument": p.instrument.key,
                    "side": p.side.value,
                    "quantity": p.quantity,
                    "lot_size": p.lot_size,
                }
                for p in plans
            ]
        except (CalendarRangeError, LotSizeUnknownError, ValueError) as exc:
            reasons.append(f"cannot construct the trade: {exc}")
    return {
        "would_accept": not reasons,
        "reasons": reasons,
        "trading_state": effective_state(service.control.facts).value,
        "trade_id_if_accepted": str(derived_id("trade", key)),
        "legs": legs,
    }
