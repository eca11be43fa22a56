"""SQL of the monitor's read API: ledger facts in, analytics inputs out (no figures here)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from libs.analytics.risk import DayPnl, OpenPosition
from libs.analytics.trades import Fill, SignalLevel

# Per trade: when it opened (first fill), its last fill, and whether every leg is flat.
_TRADES = """
WITH legs AS (
    SELECT trade_id, instrument_key,
           sum(CASE side WHEN 'BUY' THEN quantity ELSE -quantity END) AS net
    FROM ledger.fills GROUP BY trade_id, instrument_key
), trades AS (
    SELECT f.trade_id, min(f.signal) AS signal, min(f.filled_at) AS opened_at,
           max(f.filled_at) AS last_fill_at
    FROM ledger.fills f GROUP BY f.trade_id
)
SELECT t.trade_id, t.signal, t.opened_at, t.last_fill_at, s.closed
FROM trades t
JOIN (SELECT trade_id, bool_and(net = 0) AS closed FROM legs GROUP BY trade_id) s
  USING (trade_id)
"""


@dataclass(frozen=True)
class TradeKey:
    """A trade's place in the newest-first listing."""

    trade_id: uuid.UUID
    signal: str
    opened_at: datetime
    closed: bool


async def trade_keys(
    pool: asyncpg.Pool,
    closed: bool | None,
    signal: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[TradeKey]:
    """Trades newest first (by first fill, then id), strictly after the keyset ``after``."""
    rows = await pool.fetch(
        _TRADES + "WHERE ($1::boolean IS NULL OR s.closed = $1) "
        "AND ($2::text IS NULL OR t.signal = $2) "
        "AND ($3::timestamptz IS NULL OR (t.opened_at, t.trade_id) < ($3, $4::uuid)) "
        "ORDER BY t.opened_at DESC, t.trade_id DESC LIMIT $5",
        closed,
        signal,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [TradeKey(r["trade_id"], r["signal"], r["opened_at"], r["closed"]) for r in rows]


async def closed_trade_ids(pool: asyncpg.Pool, since: datetime | None) -> list[uuid.UUID]:
    """Trades whose every leg is flat and whose last fill is at or after ``since``."""
    rows = await pool.fetch(
        _TRADES + "WHERE s.closed AND ($1::timestamptz IS NULL OR t.last_fill_at >= $1) "
        "ORDER BY t.last_fill_at, t.trade_id",
        since,
    )
    return [r["trade_id"] for r in rows]


async def fills(pool: asyncpg.Pool, trade_ids: list[uuid.UUID]) -> list[Fill]:
    """Every fill of the given trades, with the cause (signal id) of its order."""
    rows = await pool.fetch(
        "SELECT f.fill_id, f.trade_id, f.signal, f.purpose, f.leg, f.instrument_key, f.side, "
        "f.quantity, f.price, f.charges, f.filled_at, o.signal_id "
        "FROM ledger.fills f LEFT JOIN ledger.orders o USING (client_order_id) "
        "WHERE f.trade_id = ANY($1::uuid[]) ORDER BY f.filled_at, f.fill_id",
        trade_ids,
    )
    return [
        Fill(
            fill_id=r["fill_id"],
            trade_id=r["trade_id"],
            signal=r["signal"],
            purpose=r["purpose"],
            leg=r["leg"],
            instrument_key=r["instrument_key"],
            side=r["side"],
            quantity=r["quantity"],
            price=r["price"],
            charges=r["charges"],
            filled_at=r["filled_at"],
            signal_id=r["signal_id"],
        )
        for r in rows
    ]


async def signal_levels(
    pool: asyncpg.Pool, signal_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SignalLevel]:
    """The index price each signal carried."""
    rows = await pool.fetch(
        "SELECT signal_id, action, price FROM ledger.signals WHERE signal_id = ANY($1::uuid[])",
        signal_ids,
    )
    return {r["signal_id"]: SignalLevel(r["signal_id"], r["action"], r["price"]) for r in rows}


async def open_positions(pool: asyncpg.Pool) -> list[OpenPosition]:
    """Contracts with a non-zero net quantity."""
    rows = await pool.fetch(
        "SELECT instrument_key, net_quantity, average_price, mark_price, marked_at "
        "FROM ledger.positions WHERE net_quantity <> 0 ORDER BY instrument_key"
    )
    return [
        OpenPosition(
            instrument_key=r["instrument_key"],
            net_quantity=r["net_quantity"],
            average_price=r["average_price"],
            mark_price=r["mark_price"],
            marked_at=r["marked_at"],
        )
        for r in rows
    ]


async def open_trade_lots(pool: asyncpg.Pool) -> list[int]:
    """Lots of each trade the risk gate counts as open (the count its limits compare)."""
    rows = await pool.fetch("SELECT lots FROM risk.trades WHERE status = 'open'")
    return [int(r["lots"]) for r in rows]


async def day_snapshots(pool: asyncpg.Pool, trading_day: date) -> list[DayPnl]:
    """The ledger's P&L snapshots of one IST trading day, oldest first."""
    rows = await pool.fetch(
        "SELECT realized, unrealized, charges, net, taken_at FROM ledger.pnl_snapshots "
        "WHERE trading_day = $1 ORDER BY taken_at, message_id",
        trading_day,
    )
    return [
        DayPnl(r["realized"], r["unrealized"], r["charges"], r["net"], r["taken_at"]) for r in rows
    ]


async def active_signals(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Approved entry signals whose trade is not closed: ``open`` (a leg is held) or
    ``opening`` (no fill yet and not every order rejected)."""
    rows = await pool.fetch(
        "WITH legs AS (SELECT trade_id, instrument_key, "
        "  sum(CASE side WHEN 'BUY' THEN quantity ELSE -quantity END) AS net "
        "  FROM ledger.fills GROUP BY trade_id, instrument_key), "
        "st AS (SELECT trade_id, bool_and(net = 0) AS closed FROM legs GROUP BY trade_id), "
        "ord AS (SELECT trade_id, bool_and(status = 'REJECTED') AS rejected "
        "  FROM ledger.orders GROUP BY trade_id) "
        "SELECT s.signal_id, s.signal, s.trading_week, s.option_type, s.strike, s.stop_level, "
        "s.price, s.received_at, d.trade_id, d.decided_at, "
        "CASE WHEN st.closed IS NULL THEN 'opening' ELSE 'open' END AS trade_state "
        "FROM ledger.signals s "
        "JOIN ledger.risk_decisions d ON d.signal_id = s.signal_id "
        "  AND d.outcome = 'approved' AND d.trade_id IS NOT NULL "
        "LEFT JOIN st ON st.trade_id = d.trade_id "
        "LEFT JOIN ord ON ord.trade_id = d.trade_id "
        "WHERE s.action = 'entry' AND NOT coalesce(st.closed, false) "
        "AND NOT coalesce(ord.rejected, false) "
        "ORDER BY s.received_at, s.signal_id"
    )
    return [dict(r) for r in rows]


async def pending_approvals(pool: asyncpg.Pool, now: datetime) -> list[dict[str, Any]]:
    """Signals waiting for an operator: neither resolved nor expired, oldest first."""
    rows = await pool.fetch(
        "SELECT signal_id, signal, created_at, expires_at FROM risk.pending_approvals "
        "WHERE resolved_at IS NULL AND expires_at > $1 ORDER BY created_at",
        now,
    )
    out = []
    for row in rows:
        signal = json.loads(row["signal"])
        out.append(
            {
                "signal_id": row["signal_id"],
                "signal": signal["signal"],
                "trading_week": signal["trading_week"],
                "option_type": signal.get("option_type"),
                "strike": signal.get("strike"),
                "stop_level": signal.get("stop_level"),
                "price": signal.get("price"),
                "received_at": signal["ts_event"],
                "expires_at": row["expires_at"],
            }
        )
    return out
