"""Read routes of monitor: broker status, risk metrics, performance, active signals, trades."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from libs.analytics.performance import report
from libs.analytics.periods import Period, period_start, session_days
from libs.analytics.risk import resolve_limits, risk_metrics
from libs.analytics.trades import build_trade, build_trades, closed_trade
from libs.common.clock import IST
from services.monitor import queries, views
from services.monitor.api import MonitorContext

router = APIRouter()
MAX_PAGE = 500
SignalFilter = Annotated[
    str | None,
    Query(pattern=r"^(S[1-8]|MANUAL)$", description="S1..S8, or MANUAL for operator trades"),
]


def _ctx(request: Request) -> MonitorContext:
    ctx: MonitorContext = request.app.state.ctx
    return ctx


@router.get("/api/v2/broker/status", summary="Broker session: mode, validity, detail, since")
async def broker_status(request: Request) -> dict[str, Any]:
    """The executor's last report of the broker session (``broker.status`` topic)."""
    return views.broker_status(_ctx(request).broker_status)


@router.get(
    "/api/v2/risk/metrics",
    summary="Exposure, margin, today's P&L and drawdown, limits and their utilisation",
)
async def metrics(request: Request) -> dict[str, Any]:
    """Open book at its marks, the risk gate's open trades, today's (IST) P&L snapshots and the
    limits in force (operator override, else what risk reports; unknown otherwise)."""
    ctx = _ctx(request)
    today = ctx.clock.now().astimezone(IST).date()
    risk_beat = ctx.heartbeats.get("risk")
    limits = resolve_limits(ctx.control.limits, risk_beat.details if risk_beat else {})
    lots = await queries.open_trade_lots(ctx.pool)
    result = risk_metrics(
        await queries.open_positions(ctx.pool),
        len(lots),
        lots,
        await queries.day_snapshots(ctx.pool, today),
        limits,
    )
    return views.risk_metrics(result, today.isoformat())


@router.get(
    "/api/v2/performance/analytics",
    summary="P&L, win rates, expectancy, profit factor, drawdown and Sharpe of closed trades",
)
async def analytics(
    request: Request,
    period: Annotated[
        Period, Query(description="today, week or month (from 00:00 IST), or all")
    ] = Period.ALL,
) -> dict[str, Any]:
    """Figures of the trades closed in the period (by the time of their last fill), overall and
    per signal; definitions in docs/api.md."""
    ctx = _ctx(request)
    now = ctx.clock.now()
    start = period_start(period, now)
    trade_ids = await queries.closed_trade_ids(ctx.pool, start)
    trades = build_trades(await queries.fills(ctx.pool, trade_ids))
    causes = {sid for t in trades for sid in (t.entry_signal_id, *t.exit_signal_ids) if sid}
    levels = await queries.signal_levels(ctx.pool, list(causes))
    closed = [closed_trade(t, levels) for t in trades if t.status == "closed"]
    first_day = (
        start.date()
        if start is not None
        else min((c.closed_at.astimezone(IST).date() for c in closed), default=None)
    )
    today = now.astimezone(IST).date()
    days = session_days(first_day, today) if first_day is not None else []
    result = report(closed, ctx.settings.capital, days)
    return {
        "period": period.value,
        "from": views.iso(start),
        "to": now.isoformat(),
        "capital": views.money(ctx.settings.capital),
        "overall": views.performance(result.overall),
        "per_signal": {name: views.performance(p) for name, p in result.per_signal.items()},
    }


@router.get(
    "/api/v2/webhook/signals/active",
    summary="Signals whose trade is still open, and signals waiting for approval",
)
async def active_signals(request: Request) -> dict[str, Any]:
    """Approved entries whose trade is ``open`` (a leg held) or ``opening`` (no fill yet), and
    pending approvals that are neither resolved nor expired."""
    ctx = _ctx(request)
    active = [
        {
            "signal_id": str(r["signal_id"]),
            "signal": r["signal"],
            "trading_week": r["trading_week"],
            "state": r["trade_state"],
            "trade_id": str(r["trade_id"]),
            "option_type": r["option_type"],
            "strike": views.money(r["strike"]),
            "stop_level": views.money(r["stop_level"]),
            "price": views.money(r["price"]),
            "received_at": views.iso(r["received_at"]),
            "decided_at": views.iso(r["decided_at"]),
        }
        for r in await queries.active_signals(ctx.pool)
    ]
    pending = [_pending(p) for p in await queries.pending_approvals(ctx.pool, ctx.clock.now())]
    items = active + pending
    return {"count": len(items), "signals": items}


def _pending(p: dict[str, Any]) -> dict[str, Any]:
    """A pending approval in the shape of an active signal (its stored JSON normalised)."""

    def number(value: str | None) -> str | None:
        return views.money(Decimal(value)) if value is not None else None

    return {
        "signal_id": str(p["signal_id"]),
        "signal": p["signal"],
        "trading_week": p["trading_week"],
        "state": "pending_approval",
        "trade_id": None,
        "option_type": p["option_type"],
        "strike": number(p["strike"]),
        "stop_level": number(p["stop_level"]),
        "price": number(p["price"]),
        "received_at": datetime.fromisoformat(p["received_at"]).isoformat(),
        "decided_at": None,
        "expires_at": views.iso(p["expires_at"]),
    }


@router.get("/api/v2/trades", summary="Trades from the ledger's fills, newest first, paged")
async def trades(
    request: Request,
    status: Annotated[
        Literal["open", "closed"] | None,
        Query(description="open: a leg is still held; closed: every leg is flat"),
    ] = None,
    signal: SignalFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    """Trades (fills grouped by trade id) ordered by first fill, newest first; pass
    ``next_cursor`` back as ``cursor`` for the next page (keyset paging, stable under inserts)."""
    ctx = _ctx(request)
    try:
        after = views.decode_cursor(cursor) if cursor else None
    except views.CursorError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    closed = None if status is None else status == "closed"
    keys = await queries.trade_keys(ctx.pool, closed, signal, after, limit + 1)
    page, more = keys[:limit], len(keys) > limit
    built = build_trades(await queries.fills(ctx.pool, [k.trade_id for k in page]))
    by_id = {t.trade_id: t for t in built}
    items = [views.trade_summary(by_id[k.trade_id]) for k in page if k.trade_id in by_id]
    next_cursor = views.encode_cursor(page[-1].opened_at, page[-1].trade_id) if more else None
    return {"count": len(items), "trades": items, "next_cursor": next_cursor}


@router.get("/api/v2/trades/{trade_id}", summary="One trade with its legs and fills")
async def trade(
    request: Request, trade_id: Annotated[uuid.UUID, Path(description="The trade's id")]
) -> dict[str, Any]:
    """A trade from its fills; 404 when the ledger has no fill of it."""
    fills = await queries.fills(_ctx(request).pool, [trade_id])
    if not fills:
        raise HTTPException(status_code=404, detail=f"no fills booked for trade {trade_id}")
    return views.trade_detail(build_trade(fills))
