"""The day's figures for the post-market summary, read from the ledger's tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from libs.notify.summary import DayFigures

# Fills and trades of one IST day; a trade counts as closed when its exit fills are that day and
# every one of its legs is flat.
_FILLS = """
SELECT count(*) AS fills,
       count(DISTINCT trade_id) AS trades,
       coalesce(sum(realized_pnl), 0) AS realized,
       coalesce(sum(charges), 0) AS charges
FROM ledger.fills
WHERE (filled_at AT TIME ZONE 'Asia/Kolkata')::date = $1
"""
_CLOSED = """
SELECT count(*) FROM (
  SELECT trade_id FROM (
    SELECT trade_id, instrument_key,
           sum(CASE side WHEN 'BUY' THEN quantity ELSE -quantity END) AS net
    FROM ledger.fills
    WHERE trade_id IN (
      SELECT trade_id FROM ledger.fills
      WHERE purpose = 'exit' AND (filled_at AT TIME ZONE 'Asia/Kolkata')::date = $1)
    GROUP BY trade_id, instrument_key) legs
  GROUP BY trade_id
  HAVING bool_and(net = 0)
) closed
"""
_SNAPSHOT = """
SELECT realized, unrealized, charges, net, open_positions, taken_at
FROM ledger.pnl_snapshots WHERE trading_day = $1 ORDER BY taken_at DESC LIMIT 1
"""
_OPEN = "SELECT count(*) FROM ledger.positions WHERE net_quantity <> 0"


async def day_figures(pool: asyncpg.Pool, day: date) -> DayFigures:
    """The day's P&L (its last snapshot, else its fills), trades, fills and charges."""
    async with pool.acquire() as conn:
        fills = await conn.fetchrow(_FILLS, day)
        closed = await conn.fetchval(_CLOSED, day)
        snap = await conn.fetchrow(_SNAPSHOT, day)
        open_now = await conn.fetchval(_OPEN)
    if fills is None:
        raise RuntimeError("aggregate query returned no row")
    if snap is not None:
        realized, unrealized = Decimal(snap["realized"]), Decimal(snap["unrealized"])
        charges, net = Decimal(snap["charges"]), Decimal(snap["net"])
        open_positions, marked_at = int(snap["open_positions"]), snap["taken_at"]
    else:
        realized, unrealized = Decimal(fills["realized"]), Decimal(0)
        charges = Decimal(fills["charges"])
        net, open_positions, marked_at = realized - charges, int(open_now or 0), None
    return DayFigures(
        trading_day=day,
        realized=realized,
        unrealized=unrealized,
        charges=charges,
        net=net,
        open_positions=open_positions,
        trades=int(fills["trades"]),
        trades_closed=int(closed or 0),
        fills=int(fills["fills"]),
        marked_at=marked_at,
    )
