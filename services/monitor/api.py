"""Read routes of monitor: health, positions, safety status and pending approvals."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from libs.common.clock import Clock
from libs.common.control import ControlFacts, effective_state, state_reasons
from libs.common.messages import BrokerStatusChanged, ControlSet, Heartbeat
from services.monitor import queries
from services.monitor.health import (
    ComponentHealth,
    broker_health,
    circuit_health,
    heartbeat_facts,
    kill_switch_health,
    overall,
    service_health,
)
from services.monitor.settings import MonitorSettings

router = APIRouter()


@dataclass
class MonitorContext:
    """Long-lived clients and state the routes read."""

    settings: MonitorSettings
    pool: asyncpg.Pool
    admin: AIOKafkaAdminClient
    clock: Clock
    heartbeats: dict[str, Heartbeat] = field(default_factory=dict)
    control: ControlFacts = field(default_factory=ControlFacts)
    control_history: dict[str, ControlSet] = field(default_factory=dict)
    broker_status: BrokerStatusChanged | None = None


async def _kafka(ctx: MonitorContext) -> ComponentHealth:
    try:
        topics = await asyncio.wait_for(ctx.admin.list_topics(), timeout=2.0)
    except (TimeoutError, KafkaError, OSError) as exc:
        return ComponentHealth("kafka", "down", f"metadata request failed: {exc!r}")
    return ComponentHealth("kafka", "ok", f"{len(topics)} topics")


async def _postgres(ctx: MonitorContext) -> ComponentHealth:
    try:
        await asyncio.wait_for(ctx.pool.fetchval("SELECT 1"), timeout=2.0)
    except (TimeoutError, asyncpg.PostgresError, OSError) as exc:
        return ComponentHealth("postgres", "down", f"query failed: {exc!r}")
    return ComponentHealth("postgres", "ok", "SELECT 1 answered")


@router.get(
    "/api/v2/health",
    summary="Deep health: Kafka, PostgreSQL, broker session, every service, kill switch, breaker",
)
async def health(request: Request) -> JSONResponse:
    """Overall ``ok``, ``degraded`` or ``down`` (503 when down), with a status and details per
    component. Kafka, PostgreSQL and the broker session being down make the whole ``down``; any
    other component not ok makes it ``degraded``. The kill switch and the circuit breaker are
    reported with their own status but do not change the overall status (a halt is deliberate)."""
    ctx: MonitorContext = request.app.state.ctx
    now = ctx.clock.now()
    components = list(await asyncio.gather(_kafka(ctx), _postgres(ctx)))
    extra: dict[str, dict[str, object]] = {}
    for name in [s.strip() for s in ctx.settings.services.split(",") if s.strip()]:
        beat = ctx.heartbeats.get(name)
        components.append(
            service_health(
                name, beat, now, ctx.settings.heartbeat_stale_s, ctx.settings.lag_degraded
            )
        )
        extra[name] = heartbeat_facts(beat, now)
    components.append(broker_health(ctx.broker_status))
    broker = ctx.broker_status
    extra["broker"] = {
        "mode": broker.mode if broker else None,
        "session_valid": broker.session_valid if broker else None,
        "since": broker.ts_event.isoformat() if broker else None,
    }
    components.append(ComponentHealth("monitor", "ok", "answering"))
    status = overall(components)
    safety = [kill_switch_health(ctx.control), circuit_health(ctx.control)]
    extra["kill_switch"] = {
        "kill_switch": ctx.control.kill_switch,
        "emergency_stop": ctx.control.emergency_stop,
    }
    extra["circuit_breaker"] = {"state": ctx.control.circuit}
    body: dict[str, Any] = {
        "status": status,
        "checked_at": now.isoformat(),
        "trading_state": effective_state(ctx.control).value,
        "components": {
            c.name: {"status": c.status, "detail": c.detail, **extra.get(c.name, {})}
            for c in [*components, *safety]
        },
    }
    return JSONResponse(status_code=200 if status != "down" else 503, content=body)


def _position_row(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "instrument": row["instrument_key"],
        "symbol": row["symbol"],
        "expiry": row["expiry"].isoformat(),
        "strike": str(row["strike"]),
        "option_type": row["option_right"],
        "net_quantity": row["net_quantity"],
        "side": "long" if row["net_quantity"] > 0 else "short" if row["net_quantity"] else "flat",
        "average_price": str(row["average_price"].quantize(_PAISA)),
        "realized_pnl": str(row["realized_pnl"].quantize(_PAISA)),
        "charges": str(row["charges"]),
        "opened_at": row["opened_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


_PAISA = Decimal("0.01")


@router.get("/api/v2/trading/positions", summary="Positions from the ledger")
async def positions(request: Request, include_closed: bool = False) -> JSONResponse:
    """Open positions (net quantity not zero), or all with ``include_closed=true``."""
    ctx: MonitorContext = request.app.state.ctx
    query = "SELECT * FROM ledger.positions"
    if not include_closed:
        query += " WHERE net_quantity <> 0"
    rows = await ctx.pool.fetch(query + " ORDER BY opened_at, instrument_key")
    items = [_position_row(r) for r in rows]
    return JSONResponse({"count": len(items), "positions": items})


@router.get("/api/v2/safety/status", summary="Trading state, kill switch and every control fact")
async def safety_status(request: Request) -> JSONResponse:
    """The trading state every service derives from the control topic, and why."""
    ctx: MonitorContext = request.app.state.ctx
    facts = ctx.control
    return JSONResponse(
        {
            "trading_state": effective_state(facts).value,
            "restrictions": list(state_reasons(facts)),
            "kill_switch": facts.kill_switch,
            "emergency_stop": facts.emergency_stop,
            "manual_state": facts.manual_state.value,
            "automation": facts.automation,
            "daily_loss_halt": facts.loss_halt,
            "circuit_breaker": facts.circuit,
            "limit_overrides": dict(facts.limits),
            "last_changes": {
                key: {
                    "engaged": m.engaged,
                    "state": m.state.value if m.state else None,
                    "values": m.values,
                    "changed_by": m.changed_by,
                    "reason": m.reason,
                    "at": m.ts_event.isoformat(),
                }
                for key, m in sorted(ctx.control_history.items())
            },
            "services": {
                name: beat.details.get("trading_state")
                for name, beat in sorted(ctx.heartbeats.items())
                if "trading_state" in beat.details
            },
        }
    )


@router.get("/api/v2/strategy/pending", summary="Signals waiting for operator approval")
async def pending_approvals(request: Request) -> JSONResponse:
    """Pending approvals that are neither resolved nor expired, oldest first."""
    ctx: MonitorContext = request.app.state.ctx
    items = [
        {**p, "signal_id": str(p["signal_id"]), "expires_at": p["expires_at"].isoformat()}
        for p in await queries.pending_approvals(ctx.pool, ctx.clock.now())
    ]
    return JSONResponse({"count": len(items), "pending": items})
