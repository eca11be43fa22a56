"""PostgreSQL reads behind the dashboard: positions, today's P&L, approvals, recent activity."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

_PAISA = Decimal("0.01")
PNL_POINTS = 2000
RECENT = 25


def position_row(row: asyncpg.Record) -> dict[str, Any]:
    """A position with its live P&L: realised so far plus the open quantity at its mark."""
    net = int(row["net_quantity"])
    average = Decimal(row["average_price"])
    mark = row["mark_price"]
    unrealized = (Decimal(mark) - average) * net if mark is not None else Decimal(0)
    realized = Decimal(row["realized_pnl"])
    return {
        "instrument": row["instrument_key"],
        "symbol": row["symbol"],
        "expiry": row["expiry"].isoformat(),
        "strike": str(row["strike"]),
        "option_type": row["option_right"],
        "net_quantity": net,
        "side": "long" if net > 0 else "short" if net else "flat",
        "average_price": str(average.quantize(_PAISA)),
        "mark_price": None if mark is None else str(Decimal(mark).quantize(_PAISA)),
        "mark_source": row["mark_source"],
        "unrealized_pnl": str(unrealized.quantize(_PAISA)),
        "realized_pnl": str(realized.quantize(_PAISA)),
        "charges": str(row["charges"]),
        "updated_at": row["updated_at"].isoformat(),
    }


class DashboardStore:
    """Queries on the monitor's pool; every method is one read."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def positions(self) -> list[dict[str, Any]]:
        """Open positions, oldest first."""
        rows = await self._pool.fetch(
            "SELECT instrument_key, symbol, expiry, strike, option_right, net_quantity, "
            "average_price, mark_price, mark_source, realized_pnl, charges, updated_at "
            "FROM ledger.positions WHERE net_quantity <> 0 ORDER BY opened_at, instrument_key"
        )
        return [position_row(r) for r in rows]

    async def pnl_series(self, trading_day: date) -> list[dict[str, Any]]:
        """Today's P&L snapshots, oldest first (the latest ``PNL_POINTS``)."""
        rows = await self._pool.fetch(
            "SELECT * FROM (SELECT taken_at, realized, unrealized, charges, net, open_positions "
            "FROM ledger.pnl_snapshots WHERE trading_day = $1 ORDER BY taken_at DESC LIMIT $2) "
            "AS latest ORDER BY taken_at",
            trading_day,
            PNL_POINTS,
        )
        return [
            {
                "trading_day": trading_day.isoformat(),
                "at": r["taken_at"].isoformat(),
                "realized": str(r["realized"]),
                "unrealized": str(r["unrealized"]),
                "charges": str(r["charges"]),
                "net": str(r["net"]),
                "open_positions": r["open_positions"],
            }
            for r in rows
        ]

    async def pending(self, now: datetime) -> list[dict[str, Any]]:
        """Signals waiting for an operator, oldest first."""
        rows = await self._pool.fetch(
            "SELECT signal_id, signal, created_at, expires_at FROM risk.pending_approvals "
            "WHERE resolved_at IS NULL AND expires_at > $1 ORDER BY created_at",
            now,
        )
        items = []
        for row in rows:
            signal = json.loads(row["signal"])
            items.append(
                {
                    "signal_id": str(row["signal_id"]),
                    "signal": signal.get("signal"),
                    "action": signal.get("action"),
                    "trading_week": signal.get("trading_week"),
                    "strike": signal.get("strike"),
                    "option_type": signal.get("option_type"),
                    "price": signal.get("price"),
                    "received_at": signal.get("ts_event"),
                    "expires_at": row["expires_at"].isoformat(),
                }
            )
        return items

    async def recent_signals(self) -> list[dict[str, Any]]:
        """The latest signals, newest first."""
        rows = await self._pool.fetch(
            "SELECT signal_id, signal, action, symbol, option_type, strike, stop_level, price, "
            "trading_week, received_at FROM ledger.signals ORDER BY received_at DESC LIMIT $1",
            RECENT,
        )
        return [
            {
                "signal_id": str(r["signal_id"]),
                "signal": r["signal"],
                "action": r["action"],
                "symbol": r["symbol"],
                "option_type": r["option_type"],
                "strike": None if r["strike"] is None else str(r["strike"]),
                "stop_level": None if r["stop_level"] is None else str(r["stop_level"]),
                "price": None if r["price"] is None else str(r["price"]),
                "trading_week": r["trading_week"],
                "at": r["received_at"].isoformat(),
            }
            for r in rows
        ]

    async def recent_decisions(self) -> list[dict[str, Any]]:
        """The latest risk decisions with their signal's name, newest first."""
        rows = await self._pool.fetch(
            "SELECT d.signal_id, d.trade_id, d.action, d.outcome, d.reasons, d.decided_at, "
            "s.signal FROM ledger.risk_decisions d LEFT JOIN ledger.signals s "
            "ON s.signal_id = d.signal_id ORDER BY d.decided_at DESC LIMIT $1",
            RECENT,
        )
        return [
            {
                "signal_id": str(r["signal_id"]),
                "signal": r["signal"],
                "trade_id": None if r["trade_id"] is None else str(r["trade_id"]),
                "action": r["action"],
                "outcome": r["outcome"],
                "reasons": list(r["reasons"]),
                "at": r["decided_at"].isoformat(),
            }
            for r in rows
        ]
