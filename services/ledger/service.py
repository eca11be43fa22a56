"""The ledger: every fact written once, positions projected from fills."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from libs.common.clock import IST, Clock, SystemClock
from libs.common.db import Connection
from libs.common.kafka import publish
from libs.common.logging import get_logger
from libs.common.messages import (
    AnyMessage,
    BrokerStatusChanged,
    ControlSet,
    FillReported,
    Instrument,
    MarkUpdated,
    OptionRight,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    PlaceManualOrder,
    PnlSnapshot,
    PositionSnapshot,
    ResolvePending,
    RiskDecisionMade,
    Side,
    SignalReceived,
    SquareOffAll,
    SubmitOrder,
    TradeClosed,
    TradingStateChanged,
)
from libs.common.topics import PNL, POSITIONS
from services.ledger import audit_store
from services.ledger.metrics import LedgerMetrics
from services.ledger.positions import Position, apply_fill
from services.ledger.trade_books import book_trade_fill

log = get_logger(__name__)
CONSUMER = "ledger"
MANUAL = "MANUAL"  # the signal column of an operator's manual order

# Order statuses are ranked SUBMITTED < ACCEPTED < REJECTED < FILLED in the SQL below, so that
# a late event never moves an order backwards.
_EVENT_STATUS = {
    "OrderAccepted": "ACCEPTED",
    "OrderRejected": "REJECTED",
    "OrderFilled": "FILLED",
}

# The audit log's kind for each booked message type.
_AUDIT_KIND = {
    "SignalReceived": "signal",
    "RiskDecisionMade": "decision",
    "SubmitOrder": "order_command",
    "OrderAccepted": "order_event",
    "OrderRejected": "order_event",
    "OrderFilled": "order_event",
    "FillReported": "fill",
    "TradingStateChanged": "control",
    "ControlSet": "control",
    "MarkUpdated": "mark",
    "BrokerStatusChanged": "broker_status",
    "SquareOffAll": "operator_command",
    "PlaceManualOrder": "operator_command",
    "ResolvePending": "operator_command",
}


class LedgerService:
    """Writes each message in one transaction, idempotent by message id."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer[bytes, bytes] | None = None,
        clock: Clock | None = None,
        metrics: LedgerMetrics | None = None,
    ) -> None:
        self._metrics = metrics or LedgerMetrics(CollectorRegistry())
        self._pool = pool
        self._producer = producer
        self._clock = clock or SystemClock()

    async def handle(self, message: AnyMessage, _record: object = None) -> None:
        """Book one message unless it was booked before; audit it in the same transaction."""
        snapshot: PositionSnapshot | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(
                "INSERT INTO ledger.processed_messages (consumer, message_id) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING message_id",
                CONSUMER,
                message.message_id,
            )
            if first is None:
                return
            booking = await _book(conn, message)
            kind = _AUDIT_KIND.get(message.type)
            if booking.booked and kind is not None:
                await audit_store.append(
                    conn, kind, str(message.message_id), message.model_dump(mode="json")
                )
            closed = booking.closed
            if closed is not None:
                await audit_store.append(
                    conn, "trade_closed", str(closed.trade_id), closed.model_dump(mode="json")
                )
            if booking.booked and isinstance(message, FillReported | MarkUpdated):
                snapshot = await _position_snapshot(conn, message)
        if booking.booked and isinstance(message, FillReported):
            self._metrics.fill_booked(message.purpose)
        if closed is not None:
            self._metrics.trade_closed(closed.net_pnl)
            log.info("trade_closed", trade_id=str(closed.trade_id), net_pnl=str(closed.net_pnl))
            if self._producer is not None:
                await publish(self._producer, PNL, closed, key=str(closed.trade_id))
        if snapshot is not None and self._producer is not None:
            await publish(self._producer, POSITIONS, snapshot, key=snapshot.instrument.key)
        if isinstance(message, FillReported | MarkUpdated):
            await self.publish_pnl()

    async def publish_positions(self) -> int:
        """Publish every instrument's position (on start, in case a crash lost the last ones)."""
        if self._producer is None:
            return 0
        now = self._clock.now()
        rows = await self._pool.fetch("SELECT * FROM ledger.positions ORDER BY instrument_key")
        for row in rows:
            snapshot = _snapshot(row, now)
            await publish(self._producer, POSITIONS, snapshot, key=snapshot.instrument.key)
        log.info("positions_published", count=len(rows))
        return len(rows)

    async def pnl_snapshot(self) -> PnlSnapshot:
        """Today's (IST) P&L: realised today, open positions at their marks, today's charges."""
        now = self._clock.now()
        today = now.astimezone(IST).date()
        fills = await self._pool.fetchrow(
            "SELECT coalesce(sum(realized_pnl), 0) AS realized, coalesce(sum(charges), 0) AS "
            "charges FROM ledger.fills WHERE (filled_at AT TIME ZONE 'Asia/Kolkata')::date = $1",
            today,
        )
        open_ = await self._pool.fetchrow(
            "SELECT coalesce(sum((coalesce(mark_price, average_price) - average_price) "
            "* net_quantity), 0) AS unrealized, count(*) AS n, "
            "count(*) FILTER (WHERE mark_price IS NULL) AS unmarked "
            "FROM ledger.positions WHERE net_quantity <> 0"
        )
        if fills is None or open_ is None:
            raise RuntimeError("aggregate queries returned no row")
        realized, charges = Decimal(fills["realized"]), Decimal(fills["charges"])
        unrealized = Decimal(open_["unrealized"])
        self._metrics.positions(int(open_["n"]), int(open_["unmarked"]))
        return PnlSnapshot(
            ts_event=now,
            trading_day=today,
            realized=realized,
            unrealized=unrealized,
            charges=charges,
            net=realized + unrealized - charges,
            open_positions=int(open_["n"]),
            marks_missing=int(open_["unmarked"]),
        )

    async def publish_pnl(self) -> PnlSnapshot:
        """Record and publish the current daily P&L snapshot."""
        snapshot = await self.pnl_snapshot()
        await self._pool.execute(
            "INSERT INTO ledger.pnl_snapshots (message_id, trading_day, realized, unrealized, "
            "charges, net, open_positions, taken_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            snapshot.message_id,
            snapshot.trading_day,
            snapshot.realized,
            snapshot.unrealized,
            snapshot.charges,
            snapshot.net,
            snapshot.open_positions,
            snapshot.ts_event,
        )
        if self._producer is not None:
            await publish(self._producer, PNL, snapshot, key="account")
        return snapshot


@dataclass(frozen=True)
class Booking:
    """What booking one message did: whether it wrote anything, and a trade it closed."""

    booked: bool
    closed: TradeClosed | None = None


async def _book(conn: Connection, message: AnyMessage) -> Booking:
    """Write the message's rows; not booked when it changed nothing (a fill booked before)."""
    if isinstance(message, SignalReceived):
        await _signal(conn, message)
    elif isinstance(message, RiskDecisionMade):
        await _decision(conn, message)
    elif isinstance(message, SubmitOrder):
        await _order(conn, message)
    elif isinstance(message, OrderAccepted | OrderRejected | OrderFilled):
        await _order_event(conn, message)
    elif isinstance(message, FillReported):
        return await _fill(conn, message)
    elif isinstance(message, TradingStateChanged):
        await _control(conn, message)
    elif isinstance(message, ControlSet):
        await _control_fact(conn, message)
    elif isinstance(message, MarkUpdated):
        return Booking(await _mark(conn, message))
    elif isinstance(message, SquareOffAll | PlaceManualOrder | ResolvePending):
        await _operator_command(conn, message)
    elif isinstance(message, BrokerStatusChanged):
        await _broker_status(conn, message)
    else:
        return Booking(booked=False)
    return Booking(booked=True)


async def _signal(conn: Connection, m: SignalReceived) -> None:
    await conn.execute(
        "INSERT INTO ledger.signals (signal_id, message_id, dedup_key, signal, action, symbol, "
        "option_type, strike, stop_level, price, bar_time, alert_id, trading_week, "
        "payload_style, source_ip, received_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) "
        "ON CONFLICT (signal_id) DO UPDATE SET deliveries = ledger.signals.deliveries + 1",
        m.signal_id,
        m.message_id,
        m.dedup_key,
        m.signal.value,
        m.action.value,
        m.symbol,
        m.option_type.value if m.option_type else None,
        m.strike,
        m.stop_level,
        m.price,
        m.bar_time,
        m.alert_id,
        m.trading_week,
        m.payload_style,
        m.source_ip,
        m.ts_event,
    )


async def _decision(conn: Connection, m: RiskDecisionMade) -> None:
    await conn.execute(
        "INSERT INTO ledger.risk_decisions (message_id, signal_id, trade_id, action, outcome, "
        "reasons, decided_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        m.message_id,
        m.signal_id,
        m.trade_id,
        m.action.value,
        m.outcome.value,
        list(m.reasons),
        m.ts_event,
    )


async def _order(conn: Connection, m: SubmitOrder) -> None:
    await conn.execute(
        "INSERT INTO ledger.orders (client_order_id, trade_id, signal_id, signal, purpose, leg, "
        "instrument_key, symbol, expiry, strike, option_right, side, quantity, status, "
        "created_at, updated_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
        " coalesce((SELECT e.status FROM (SELECT CASE event_type WHEN 'OrderAccepted' THEN "
        "  'ACCEPTED' WHEN 'OrderRejected' THEN 'REJECTED' ELSE 'FILLED' END AS status "
        "  FROM ledger.order_events WHERE client_order_id = $1) e "
        "  ORDER BY array_position(ARRAY['SUBMITTED','ACCEPTED','REJECTED','FILLED'], e.status)"
        "  DESC LIMIT 1), 'SUBMITTED'),"
        " $14, $14) ON CONFLICT (client_order_id) DO NOTHING",
        m.client_order_id,
        m.trade_id,
        m.signal_id,
        m.signal.value if m.signal else MANUAL,
        m.purpose.value,
        m.leg.value,
        m.instrument.key,
        m.instrument.symbol,
        m.instrument.expiry,
        m.instrument.strike,
        m.instrument.right.value,
        m.side.value,
        m.quantity,
        m.ts_event,
    )


async def _order_event(conn: Connection, m: OrderEvent) -> None:
    kind = getattr(m, "type", "")
    await conn.execute(
        "INSERT INTO ledger.order_events (message_id, client_order_id, event_type, payload, "
        "ts_event) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
        m.message_id,
        m.client_order_id,
        kind,
        m.model_dump_json(),
        m.ts_event,
    )
    status = _EVENT_STATUS[kind]
    await conn.execute(
        "UPDATE ledger.orders SET status = $2, broker_order_id = coalesce($3, broker_order_id), "
        "average_price = coalesce($4, average_price), reason = coalesce($5, reason), "
        "updated_at = $6 WHERE client_order_id = $1 AND "
        "array_position(ARRAY['SUBMITTED','ACCEPTED','REJECTED','FILLED'], status) < "
        "array_position(ARRAY['SUBMITTED','ACCEPTED','REJECTED','FILLED'], $2::text)",
        m.client_order_id,
        status,
        m.broker_order_id,
        m.average_price if isinstance(m, OrderFilled) else None,
        m.reason if isinstance(m, OrderRejected) else None,
        m.ts_event,
    )


async def _fill(conn: Connection, m: FillReported) -> Booking:
    inserted = await conn.fetchval(
        "INSERT INTO ledger.fills (fill_id, message_id, client_order_id, trade_id, signal, "
        "purpose, leg, instrument_key, side, quantity, price, charges, price_source, filled_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) "
        "ON CONFLICT (fill_id) DO NOTHING RETURNING fill_id",
        m.fill_id,
        m.message_id,
        m.client_order_id,
        m.trade_id,
        m.signal.value if m.signal else MANUAL,
        m.purpose.value,
        m.leg.value,
        m.instrument.key,
        m.side.value,
        m.quantity,
        m.price,
        m.charges,
        m.price_source,
        m.ts_event,
    )
    if inserted is None:
        return Booking(booked=False)
    # The position row may not exist yet, so FOR UPDATE alone cannot serialise two first fills
    # of one instrument; this lock, held to the commit, does.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))", m.instrument.key)
    row = await conn.fetchrow(
        "SELECT net_quantity, average_price, realized_pnl FROM ledger.positions "
        "WHERE instrument_key = $1 FOR UPDATE",
        m.instrument.key,
    )
    before = (
        Position(row["net_quantity"], row["average_price"], row["realized_pnl"])
        if row
        else Position()
    )
    signed = m.quantity if m.side is Side.BUY else -m.quantity
    after = apply_fill(before, signed, m.price)
    await conn.execute(
        "UPDATE ledger.fills SET realized_pnl = $2 WHERE fill_id = $1",
        m.fill_id,
        after.realized_pnl - before.realized_pnl,
    )
    await conn.execute(
        "INSERT INTO ledger.positions (instrument_key, symbol, expiry, strike, option_right, "
        "net_quantity, average_price, realized_pnl, charges, opened_at, updated_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) ON CONFLICT (instrument_key) DO UPDATE SET "
        "net_quantity = EXCLUDED.net_quantity, average_price = EXCLUDED.average_price, "
        "realized_pnl = EXCLUDED.realized_pnl, "
        "charges = ledger.positions.charges + EXCLUDED.charges, updated_at = EXCLUDED.updated_at",
        m.instrument.key,
        m.instrument.symbol,
        m.instrument.expiry,
        m.instrument.strike,
        m.instrument.right.value,
        after.net_quantity,
        after.average_price,
        after.realized_pnl,
        m.charges,
        m.ts_event,
    )
    log.info(
        "position_updated",
        instrument=m.instrument.key,
        net_quantity=after.net_quantity,
        trade_id=str(m.trade_id),
    )
    signal = m.signal.value if m.signal else MANUAL
    change = await book_trade_fill(conn, m, signal)
    if not change.just_closed:
        return Booking(booked=True)
    closed = TradeClosed(
        ts_event=m.ts_event,
        trade_id=m.trade_id,
        signal=m.signal,
        net_pnl=change.result.net_pnl,
        charges=change.result.charges,
    )
    return Booking(booked=True, closed=closed)


async def _position_snapshot(conn: Connection, m: FillReported | MarkUpdated) -> PositionSnapshot:
    row = await conn.fetchrow(
        "SELECT * FROM ledger.positions WHERE instrument_key = $1", m.instrument.key
    )
    if row is None:
        raise RuntimeError(f"no position row for {m.instrument.key} after booking it")
    return _snapshot(row, m.ts_event)


def _snapshot(row: asyncpg.Record, at: datetime) -> PositionSnapshot:
    return PositionSnapshot(
        ts_event=at,
        instrument=Instrument(
            symbol=row["symbol"],
            expiry=row["expiry"],
            strike=row["strike"],
            right=OptionRight(row["option_right"]),
        ),
        net_quantity=row["net_quantity"],
        average_price=Decimal(row["average_price"]),
        realized_pnl=Decimal(row["realized_pnl"]),
        charges=Decimal(row["charges"]),
        mark_price=row["mark_price"],
    )


async def _control(conn: Connection, m: TradingStateChanged) -> None:
    await conn.execute(
        "INSERT INTO ledger.control_events (message_id, state, kill_switch, changed_by, reason, "
        "ts_event) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
        m.message_id,
        m.state.value,
        m.kill_switch,
        m.changed_by,
        m.reason,
        m.ts_event,
    )


async def _control_fact(conn: Connection, m: ControlSet) -> None:
    await conn.execute(
        "INSERT INTO ledger.control_facts (message_id, key, engaged, state, fact_values, "
        "changed_by, reason, ts_event) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
        m.message_id,
        m.key.value,
        m.engaged,
        m.state.value if m.state else None,
        json.dumps(m.values),
        m.changed_by,
        m.reason,
        m.ts_event,
    )


async def _operator_command(
    conn: Connection, m: SquareOffAll | PlaceManualOrder | ResolvePending
) -> None:
    ref = m.signal_id if isinstance(m, ResolvePending) else m.command_id
    await conn.execute(
        "INSERT INTO ledger.operator_commands (message_id, command, ref, requested_by, reason, "
        "payload, ts_event) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        m.message_id,
        m.type,
        str(ref),
        m.requested_by,
        m.reason,
        m.model_dump_json(),
        m.ts_event,
    )


async def _broker_status(conn: Connection, m: BrokerStatusChanged) -> None:
    await conn.execute(
        "INSERT INTO ledger.broker_status (message_id, mode, session_valid, detail, ts_event) "
        "VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
        m.message_id,
        m.mode,
        m.session_valid,
        m.detail,
        m.ts_event,
    )


async def _mark(conn: Connection, m: MarkUpdated) -> bool:
    status = await conn.execute(
        "UPDATE ledger.positions SET mark_price = $2, mark_source = $3, marked_at = $4 "
        "WHERE instrument_key = $1 AND (marked_at IS NULL OR marked_at <= $4)",
        m.instrument.key,
        m.price,
        m.price_source,
        m.ts_event,
    )
    return str(status) != "UPDATE 0"
