"""Order execution: intent recorded before the broker is called, result and events after."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Literal

import asyncpg

from libs.common.clock import Clock
from libs.common.control import ControlFacts, effective_state
from libs.common.db import Connection, Outbox
from libs.common.logging import get_logger
from libs.common.messages import (
    AnyMessage,
    BarClosed,
    BrokerStatusChanged,
    FillReported,
    Instrument,
    Leg,
    MarkUpdated,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    Purpose,
    Side,
    SubmitOrder,
    TradingState,
    derived_id,
)
from libs.common.topics import BROKER_STATUS, FILLS, MARKS, ORDER_EVENTS
from services.executor.broker import (
    Broker,
    BrokerResult,
    BrokerUnavailableError,
    OrderStatus,
    check_transition,
)

log = get_logger(__name__)


class HaltFlag:
    """The control facts as last replayed from the control topic."""

    def __init__(self) -> None:
        self.facts = ControlFacts()

    @property
    def halted(self) -> bool:
        """Whether the trading state is HALTED (entries are refused; exits still go out)."""
        return effective_state(self.facts) is TradingState.HALTED


class ExecutorService:
    """Executes order commands exactly once against the broker port."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        outbox: Outbox,
        broker: Broker,
        clock: Clock,
        halt: HaltFlag,
    ) -> None:
        self._pool = pool
        self._broker = broker
        self._clock = clock
        self._halt = halt
        self.outbox = outbox
        self.settle_misses = 2
        self.settle_delay_s = 2.0
        self.mode: Literal["paper", "live"] = "paper"
        self._session_valid: bool | None = None

    async def handle(self, message: AnyMessage, _record: object = None) -> None:
        """Handle one record of the order-command or market-bar topic."""
        if isinstance(message, SubmitOrder):
            await self.on_submit(message)
        elif isinstance(message, BarClosed):
            await self.publish_marks(message.close)

    async def held(self) -> dict[str, tuple[Instrument, int]]:
        """Net filled quantity per contract, from the executor's own order book."""
        rows = await self._pool.fetch(
            "SELECT command, filled_quantity FROM executor.orders WHERE filled_quantity > 0"
        )
        net: dict[str, tuple[Instrument, int]] = {}
        for row in rows:
            order = SubmitOrder.model_validate_json(row["command"])
            signed = row["filled_quantity"] * (1 if order.side is Side.BUY else -1)
            instrument, qty = net.get(order.instrument.key, (order.instrument, 0))
            net[order.instrument.key] = (instrument, qty + signed)
        return {k: v for k, v in net.items() if v[1] != 0}

    async def publish_marks(self, underlying: Decimal) -> int:
        """Mark every held contract at the index level; return how many marks were staged."""
        held = await self.held()
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            for key, (instrument, _qty) in sorted(held.items()):
                mark = await self._broker.mark(instrument, underlying)
                event = MarkUpdated(
                    ts_event=now,
                    instrument=instrument,
                    price=mark.price,
                    underlying=underlying,
                    price_source=mark.source,
                )
                await self.outbox.add(conn, MARKS, key, event)
        self.outbox.wake()
        return len(held)

    async def on_submit(self, order: SubmitOrder) -> None:
        """Record the intent, call the broker once, record what it said."""
        inserted = await self._pool.fetchval(
            "INSERT INTO executor.orders (client_order_id, trade_id, command, status) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (client_order_id) DO NOTHING "
            "RETURNING client_order_id",
            order.client_order_id,
            order.trade_id,
            order.model_dump_json(),
            OrderStatus.PENDING_SUBMIT.value,
        )
        if inserted is None:
            log.info("order_command_duplicate", client_order_id=order.client_order_id)
            return
        if self._halt.halted and order.purpose is Purpose.ENTRY:
            result = BrokerResult(
                OrderStatus.REJECTED, None, reason="trading is HALTED: entries refused"
            )
        elif (
            order.purpose is Purpose.ENTRY
            and order.leg is Leg.MAIN
            and (failed := await self._hedge_failure(order))
        ):
            result = BrokerResult(OrderStatus.REJECTED, None, reason=failed)
        else:
            result = await self._broker.submit(order)
        await self.record(order, result)
        if result.status is OrderStatus.UNKNOWN:
            result = await self.settle_unknown(order)
        await self.publish_broker_status()
        if (
            result.status is OrderStatus.REJECTED
            and order.purpose is Purpose.ENTRY
            and order.leg is Leg.MAIN
        ):
            await self.unwind_hedge(order, result.reason or "rejected")

    async def _hedge_failure(self, order: SubmitOrder) -> str | None:
        """Why the main leg must not go out: its hedge was not filled."""
        rows = await self._pool.fetch(
            "SELECT status FROM executor.orders WHERE trade_id = $1 "
            "AND client_order_id LIKE '%-entry-hedge-%'",
            order.trade_id,
        )
        statuses = {OrderStatus(r["status"]) for r in rows}
        if statuses and statuses != {OrderStatus.FILLED}:
            return f"hedge leg not filled ({', '.join(sorted(statuses))}): main leg not placed"
        return None

    async def unwind_hedge(self, main: SubmitOrder, why: str) -> int:
        """The main leg failed: close what the hedge bought, and say so loudly."""
        rows = await self._pool.fetch(
            "SELECT command, filled_quantity FROM executor.orders WHERE trade_id = $1 "
            "AND client_order_id LIKE '%-entry-hedge-%' AND filled_quantity > 0 "
            "ORDER BY client_order_id",
            main.trade_id,
        )
        placed = 0
        for n, row in enumerate(rows):
            hedge = SubmitOrder.model_validate_json(row["command"])
            cid = f"{main.trade_id.hex[:16]}-unwind-hedge-{n}"
            unwind = hedge.model_copy(
                update={
                    "message_id": derived_id("command", cid),
                    "client_order_id": cid,
                    "purpose": Purpose.EXIT,
                    "side": Side.SELL if hedge.side is Side.BUY else Side.BUY,
                    "quantity": row["filled_quantity"],
                    "ts_event": self._clock.now(),
                }
            )
            log.critical(
                "multi_leg_entry_failed_unwinding_hedge",
                trade_id=str(main.trade_id),
                main_order=main.client_order_id,
                reason=why,
                unwind_order=cid,
            )
            await self.on_submit(unwind)
            placed += 1
        return placed

    async def publish_broker_status(self, force: bool = False) -> None:
        """Publish the broker session's validity when it changes (or when forced)."""
        problem: str | None = getattr(self._broker, "session_problem", None)
        valid = problem is None
        if not force and valid == self._session_valid:
            return
        self._session_valid = valid
        event = BrokerStatusChanged(
            ts_event=self._clock.now(),
            mode=self.mode,
            session_valid=valid,
            detail="session valid" if valid else problem or "session invalid",
        )
        (log.info if valid else log.critical)("broker_status", valid=valid, detail=event.detail)
        async with self._pool.acquire() as conn, conn.transaction():
            await self.outbox.add(conn, BROKER_STATUS, "broker", event)
        self.outbox.wake()

    async def settle_unknown(self, order: SubmitOrder) -> BrokerResult:
        """Settle an order whose outcome is unknown by the broker's own book, never by re-sending.

        Found: adopt the broker's status. Absent in ``settle_misses`` lookups ``settle_delay_s``
        apart: the order never reached the broker, so it is rejected (and a multi-leg entry is
        unwound by the caller). A lookup that fails leaves the order UNKNOWN for the next start.
        """
        misses = 0
        while True:
            try:
                found = await self._broker.lookup(order)
            except BrokerUnavailableError as exc:
                log.error(
                    "unknown_order_unsettled",
                    client_order_id=order.client_order_id,
                    error=str(exc)[:300],
                )
                await self.publish_broker_status()
                return BrokerResult(OrderStatus.UNKNOWN, None, reason=str(exc)[:300])
            if found is not None and found.status is not OrderStatus.UNKNOWN:
                log.warning(
                    "unknown_order_settled",
                    client_order_id=order.client_order_id,
                    status=found.status,
                    broker_order_id=found.broker_order_id,
                )
                await self.record(order, found)
                return found
            misses += 1
            if found is None and getattr(self._broker, "resend_when_absent", False):
                # The paper book is these very tables: an unrecorded order never existed.
                placed = await self._broker.submit(order)
                await self.record(order, placed)
                return placed
            if misses >= self.settle_misses:
                absent = BrokerResult(
                    OrderStatus.REJECTED, None, reason="not found at the broker: never placed"
                )
                log.warning("unknown_order_absent", client_order_id=order.client_order_id)
                await self.record(order, absent)
                return absent
            await asyncio.sleep(self.settle_delay_s)  # the broker's list can lag its answer

    async def reconcile_pending(self) -> int:
        """Settle orders whose intent was recorded but whose result was not; return how many."""
        rows = await self._pool.fetch(
            "SELECT command FROM executor.orders WHERE status = ANY($1::text[]) "
            "ORDER BY created_at",
            [OrderStatus.PENDING_SUBMIT.value, OrderStatus.UNKNOWN.value],
        )
        for row in rows:
            order = SubmitOrder.model_validate_json(row["command"])
            await self.settle_unknown(order)
        return len(rows)

    async def record(self, order: SubmitOrder, result: BrokerResult) -> None:
        """Store the broker's answer and stage the events it implies, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval(
                "SELECT status FROM executor.orders WHERE client_order_id = $1 FOR UPDATE",
                order.client_order_id,
            )
            check_transition(OrderStatus(current), result.status)
            filled = sum(e.quantity for e in result.executions)
            average = (
                sum((e.price * e.quantity for e in result.executions), Decimal(0)) / filled
                if filled
                else None
            )
            await conn.execute(
                "UPDATE executor.orders SET status = $2, broker_order_id = $3, "
                "filled_quantity = $4, average_price = $5, updated_at = now() "
                "WHERE client_order_id = $1",
                order.client_order_id,
                result.status.value,
                result.broker_order_id,
                filled,
                average,
            )
            await self._stage_events(conn, order, result, filled, average)
        log.info(
            "order_recorded",
            client_order_id=order.client_order_id,
            status=result.status,
            broker_order_id=result.broker_order_id,
        )
        self.outbox.wake()

    async def _stage_events(
        self,
        conn: Connection,
        order: SubmitOrder,
        result: BrokerResult,
        filled: int,
        average: Decimal | None,
    ) -> None:
        now = self._clock.now()
        key = str(order.trade_id)
        base = {
            "ts_event": now,
            "client_order_id": order.client_order_id,
            "trade_id": order.trade_id,
            "broker_order_id": result.broker_order_id,
        }
        cid = order.client_order_id
        if result.status is OrderStatus.REJECTED:
            event = OrderRejected(
                message_id=derived_id("rejected", cid), reason=result.reason or "", **base
            )
            await self.outbox.add(conn, ORDER_EVENTS, key, event)
            return
        if result.status in (OrderStatus.ACCEPTED, OrderStatus.FILLED):
            accepted = OrderAccepted(message_id=derived_id("accepted", cid), **base)
            await self.outbox.add(conn, ORDER_EVENTS, key, accepted)
        for execution in result.executions:
            fill = FillReported(
                message_id=derived_id("fill", execution.execution_id),
                ts_event=now,
                fill_id=execution.execution_id,
                client_order_id=cid,
                trade_id=order.trade_id,
                signal_id=order.signal_id,
                signal=order.signal,
                purpose=order.purpose,
                leg=order.leg,
                instrument=order.instrument,
                side=order.side,
                quantity=execution.quantity,
                price=execution.price,
                charges=execution.charges,
                price_source=execution.price_source,
            )
            await self.outbox.add(conn, FILLS, key, fill)
        if result.status is OrderStatus.FILLED and average is not None:
            done = OrderFilled(
                message_id=derived_id("filled", cid),
                filled_quantity=filled,
                average_price=average,
                **base,
            )
            await self.outbox.add(conn, ORDER_EVENTS, key, done)
