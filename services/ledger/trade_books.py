"""Trades and their legs in PostgreSQL, refolded from the fills in the booking transaction."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.db import Connection
from libs.common.messages import FillReported
from services.ledger.trades import LegBook, LegFill, TradeResult, book_leg, direction, trade_result


@dataclass(frozen=True)
class TradeChange:
    """A trade's totals after a fill, and whether that fill closed it."""

    result: TradeResult
    just_closed: bool


async def book_trade_fill(conn: Connection, m: FillReported, signal: str) -> TradeChange:
    """Update the fill's leg and its trade; call once per newly booked fill.

    A lock per trade, held to the commit, makes a concurrent booking of another fill of the same
    trade wait and then read this one, so no refold misses a fill.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", str(m.trade_id))
    leg = m.leg.value.upper()
    fills = await conn.fetch(
        "SELECT side, purpose, quantity, price, charges FROM ledger.fills "
        "WHERE trade_id = $1 AND leg = $2 AND instrument_key = $3 ORDER BY filled_at, fill_id",
        m.trade_id,
        m.leg.value,
        m.instrument.key,
    )
    book = book_leg(
        LegFill(f["side"], f["purpose"], f["quantity"], f["price"], f["charges"]) for f in fills
    )
    before = await conn.fetchrow(
        "SELECT status FROM ledger.trades WHERE trade_id = $1 FOR UPDATE", m.trade_id
    )
    if before is None:
        await _open_trade(conn, m, signal)
    elif m.purpose.value == "entry":
        await _name_trade(conn, m)
    await _upsert_leg(conn, m, leg, book, fills[0]["side"])
    legs = await conn.fetch(
        "SELECT net_quantity, quantity, average_entry_price, exit_quantity, average_exit_price, "
        "realized_pnl, charges FROM ledger.trade_legs WHERE trade_id = $1",
        m.trade_id,
    )
    result = trade_result(
        LegBook(
            net_quantity=r["net_quantity"],
            entry_quantity=r["quantity"],
            average_entry_price=r["average_entry_price"],
            exit_quantity=r["exit_quantity"],
            average_exit_price=r["average_exit_price"],
            realized_pnl=r["realized_pnl"],
            charges=r["charges"],
        )
        for r in legs
    )
    was_closed = before is not None and before["status"] == "closed"
    await conn.execute(
        "UPDATE ledger.trades SET status = $2, realized_pnl = $4, charges = $5, net_pnl = $6, "
        "closed_at = CASE WHEN $3 THEN (SELECT max(filled_at) FROM ledger.fills "
        "  WHERE trade_id = $1) END, "
        "fills = fills + 1, updated_at = greatest(updated_at, $7), "
        "opened_at = least(opened_at, $7) WHERE trade_id = $1",
        m.trade_id,
        "closed" if result.closed else "open",
        result.closed,
        result.realized_pnl,
        result.charges,
        result.net_pnl,
        m.ts_event,
    )
    return TradeChange(result, just_closed=result.closed and not was_closed)


async def _open_trade(conn: Connection, m: FillReported, signal: str) -> None:
    # The first fill is usually the hedge; the main leg's order, when booked, names the trade.
    main = await conn.fetchrow(
        "SELECT option_right, side FROM ledger.orders "
        "WHERE trade_id = $1 AND leg = 'main' AND purpose = 'entry' LIMIT 1",
        m.trade_id,
    )
    if main is not None:
        right, side = main["option_right"], main["side"]
    else:
        right, side = m.instrument.right.value, m.side.value
        if m.leg.value == "hedge":  # the hedge is bought on the same side of the market
            side = "SELL" if side == "BUY" else "BUY"
    await conn.execute(
        "INSERT INTO ledger.trades (trade_id, signal_id, signal, symbol, option_type, direction, "
        "expiry, status, opened_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8,$8)",
        m.trade_id,
        m.signal_id,
        signal,
        m.instrument.symbol,
        right,
        direction(right, side),
        m.instrument.expiry,
        m.ts_event,
    )


async def _name_trade(conn: Connection, m: FillReported) -> None:
    """An entry fill names the trade's signal; the main leg's entry its right and direction."""
    if m.leg.value != "main":
        await conn.execute(
            "UPDATE ledger.trades SET signal_id = $2 WHERE trade_id = $1", m.trade_id, m.signal_id
        )
        return
    right = m.instrument.right.value
    await conn.execute(
        "UPDATE ledger.trades SET signal_id = $2, option_type = $3, direction = $4 "
        "WHERE trade_id = $1",
        m.trade_id,
        m.signal_id,
        right,
        direction(right, m.side.value),
    )


async def _upsert_leg(
    conn: Connection, m: FillReported, leg: str, book: LegBook, entry_side: str
) -> None:
    await conn.execute(
        "INSERT INTO ledger.trade_legs (trade_id, leg, instrument_key, option_type, strike, "
        "expiry, entry_side, quantity, net_quantity, average_entry_price, exit_quantity, "
        "average_exit_price, realized_pnl, charges, updated_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) "
        "ON CONFLICT (trade_id, leg, instrument_key) DO UPDATE SET "
        "quantity = EXCLUDED.quantity, net_quantity = EXCLUDED.net_quantity, "
        "average_entry_price = EXCLUDED.average_entry_price, "
        "exit_quantity = EXCLUDED.exit_quantity, "
        "average_exit_price = EXCLUDED.average_exit_price, "
        "realized_pnl = EXCLUDED.realized_pnl, charges = EXCLUDED.charges, "
        "updated_at = greatest(ledger.trade_legs.updated_at, EXCLUDED.updated_at)",
        m.trade_id,
        leg,
        m.instrument.key,
        m.instrument.right.value,
        m.instrument.strike,
        m.instrument.expiry,
        entry_side,
        book.entry_quantity,
        book.net_quantity,
        book.average_entry_price,
        book.exit_quantity,
        book.average_exit_price,
        book.realized_pnl,
        book.charges,
        m.ts_event,
    )
