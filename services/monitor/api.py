"""Read routes of monitor: health and positions."""

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
from libs.common.messages import Heartbeat
from services.monitor.health import ComponentHealth, overall, service_health
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


@router.get("/api/v2/health", summary="Health of Kafka, PostgreSQL and every service")
async def health(request: Request) -> JSONResponse:
    """Aggregate health: ``ok``, ``degraded`` or ``down``, with details per component."""
    ctx: MonitorContext = request.app.state.ctx
    now = ctx.clock.now()
    components = list(await asyncio.gather(_kafka(ctx), _postgres(ctx)))
    for name in [s.strip() for s in ctx.settings.services.split(",") if s.strip()]:
        components.append(
            service_health(
                name,
                ctx.heartbeats.get(name),
                now,
                ctx.settings.heartbeat_stale_s,
                ctx.settings.lag_degraded,
            )
        )
    components.append(ComponentHealth("monitor", "ok", "answering"))
    status = overall(components)
    body: dict[str, Any] = {
        "status": status,
        "checked_at": now.isoformat(),
        "components": {c.name: {"status": c.status, "detail": c.detail} for c in components},
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
