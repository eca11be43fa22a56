"""Order execution: intent recorded before the broker is called, result and events after."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import asyncpg
from prometheus_client import CollectorRegistry

from libs.common.clock import Clock
from libs.common.control import ControlFacts, effective_state
from libs.common.db import Connection, Outbox
from libs.common.logging import get_logger
from libs.common.messages import (
    AlertKind,
    AlertSeverity,
    AnyMessage,
    BarClosed,
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    FillReported,
    Instrument,
    Leg,
    MarkUpdated,
    OperatorAlert,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    Purpose,
    Side,
    SubmitOrder,
    TradingState,
    derived_id,
)
from libs.common.topics import ALERTS, BROKER_STATUS, CONTROL, FILLS, MARKS, ORDER_EVENTS
from services.executor.broker import (
    AmbiguousOrderError,
    Broker,
    BrokerResult,
    BrokerUnavailableError,
    OrderStatus,
    check_transition,
)
from services.executor.metrics import ExecutorMetrics

log = get_logger(__name__)
RECONCILIATION_ACTOR = "executor:reconciliation"
TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.REJECTED})


@dataclass
class Reconciliation:
    """What the last reconciliation with the broker found."""

    settled: int = 0
    refreshed: int = 0
    unsettled: int = 0
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)
    at: datetime | None = None

    @property
    def clean(self) -> bool:
        """Every order is settled and the positions agree."""
        return self.unsettled == 0 and not self.mismatches


def _rejection_kind(reason: str) -> str:
    """The metrics kind of a broker refusal (a call the guard kept back was never sent)."""
    lowered = reason.lower()
    if "call budget" in lowered and "today" in lowered:
        return "quota_exhausted"
    if "call budget" in lowered or "limit exceed" in lowered:
        return "rate_limited"
    if "breaker" in lowered:
        return "unavailable"
    return "rejected"


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
        metrics: ExecutorMetrics | None = None,
    ) -> None:
        self._metrics = metrics or ExecutorMetrics(CollectorRegistry())
        self._pool = pool
        self._broker = broker
        self._clock = clock
        self._halt = halt
        self.outbox = outbox
        self.settle_misses = 2
        self.settle_delay_s = 2.0
        self.order_timeout_s = 30.0
        self.poll_interval_s = 1.0
        self.mode: Literal["paper", "live"] = "paper"
        self.expires_at: Callable[[], datetime | None] = lambda: None
        self.reconciled = False
        self.last_reconciliation = Reconciliation()
        self._published: tuple[bool, str] | None = None
        self._lock = asyncio.Lock()

    @property
    def broker(self) -> Broker:
        """The broker port this service drives."""
        return self._broker

    async def handle(self, message: AnyMessage, _record: object = None) -> None:
        """Handle one record of the order-command or market-bar topic."""
        if isinstance(message, SubmitOrder):
            async with self._lock:
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
                try:
                    mark = await self._broker.mark(instrument, underlying)
                except BrokerUnavailableError as exc:
                    log.warning("mark_unavailable", instrument=key, error=str(exc)[:200])
                    continue
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
        order, refusal = await self._checked(order)
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
        if refusal is None and order.purpose is Purpose.ENTRY and order.leg is Leg.MAIN:
            refusal = await self._hedge_failure(order)
        if refusal is None and order.purpose is Purpose.EXIT and order.leg is Leg.HEDGE:
            refusal = await self._main_still_short(order)
        if refusal is not None:
            result = BrokerResult(OrderStatus.REJECTED, None, reason=refusal)
        else:
            started = time.perf_counter()
            result = await self._broker.submit(order)
            self._metrics.broker_latency.labels("submit").observe(time.perf_counter() - started)
            if result.status is OrderStatus.UNKNOWN:
                kind = "session" if self._broker.session_problem else "timeout"
                self._metrics.broker_error(kind)
            elif result.status is OrderStatus.REJECTED:
                self._metrics.broker_error(_rejection_kind(result.reason or ""))
        await self.record(order, result)
        if result.status is OrderStatus.UNKNOWN:
            result = await self.settle_unknown(order)
        await self.report_session_problem()
        await self.after_final(order, result)

    async def _checked(self, order: SubmitOrder) -> tuple[SubmitOrder, str | None]:
        """The order as it may go out, or why it must not.

        Entries are refused while trading is HALTED or the broker session is unusable. An exit
        never sells or buys more than the executor holds, so it can never open a position.
        """
        if order.purpose is Purpose.ENTRY:
            if self._halt.halted:
                return order, "trading is HALTED: entries refused"
            problem = self._broker.session_problem
            if problem is not None:
                return order, f"broker session invalid: entry refused ({problem})"[:300]
            return order, None
        held = (await self.held()).get(order.instrument.key)
        net = held[1] if held else 0
        closable = max(net, 0) if order.side is Side.SELL else max(-net, 0)
        if closable == 0:
            return order, f"nothing held in {order.instrument.key} to close"
        if order.quantity > closable:
            log.warning(
                "exit_capped_to_holding",
                client_order_id=order.client_order_id,
                asked=order.quantity,
                held=closable,
            )
            return order.model_copy(update={"quantity": closable}), None
        return order, None

    async def after_final(self, order: SubmitOrder, result: BrokerResult) -> None:
        """A main entry leg that ended without a fill unwinds its hedge; so does a hedge that
        filled only after its main leg had been refused."""
        if order.purpose is not Purpose.ENTRY:
            return
        if result.status is OrderStatus.REJECTED and order.leg is Leg.MAIN:
            await self.unwind_hedge(order, result.reason or "rejected")
        elif result.status is OrderStatus.FILLED and order.leg is Leg.HEDGE:
            main = await self._pool.fetchrow(
                "SELECT command FROM executor.orders WHERE trade_id = $1 AND status = $2 "
                "AND client_order_id LIKE '%-entry-main-%'",
                order.trade_id,
                OrderStatus.REJECTED.value,
            )
            if main is not None:
                refused = SubmitOrder.model_validate_json(main["command"])
                await self.unwind_hedge(refused, "hedge filled after the main leg was refused")

    async def _hedge_failure(self, order: SubmitOrder) -> str | None:
        """Why the main leg must not go out: its hedge is not wholly filled.

        A hedge still open at the broker is followed until it fills or ``order_timeout_s``
        passes, then cancelled. A partly filled hedge is not enough cover: the main leg stays
        out and the caller unwinds what the hedge bought.
        """
        await self._settle_open(order.trade_id, "-entry-hedge-")
        rows = await self._pool.fetch(
            "SELECT command, status, filled_quantity FROM executor.orders WHERE trade_id = $1 "
            "AND client_order_id LIKE '%-entry-hedge-%'",
            order.trade_id,
        )
        statuses = {OrderStatus(r["status"]) for r in rows}
        if statuses and statuses != {OrderStatus.FILLED}:
            return f"hedge leg not filled ({', '.join(sorted(statuses))}): main leg not placed"
        for row in rows:
            asked = SubmitOrder.model_validate_json(row["command"]).quantity
            if row["filled_quantity"] < asked:
                return f"hedge leg filled {row['filled_quantity']} of {asked}: main leg not placed"
        return None

    async def _main_still_short(self, order: SubmitOrder) -> str | None:
        """Why a hedge must not be closed: its trade's main leg is still short at the broker.

        Closing the hedge first would leave a naked short option. The main leg's close is
        followed to a final state first; if the main is still held, the hedge stays and the
        operator is told.
        """
        await self._settle_open(order.trade_id, "-exit-main-")
        rows = await self._pool.fetch(
            "SELECT command, filled_quantity FROM executor.orders WHERE trade_id = $1 "
            "AND client_order_id LIKE '%-main-%' AND filled_quantity > 0",
            order.trade_id,
        )
        net: dict[str, int] = {}
        for row in rows:
            leg = SubmitOrder.model_validate_json(row["command"])
            filled = int(row["filled_quantity"])
            signed = filled if leg.side is Side.BUY else -filled
            net[leg.instrument.key] = net.get(leg.instrument.key, 0) + signed
        for key, quantity in sorted(net.items()):
            if quantity < 0:
                why = f"main leg {key} still short {-quantity}: hedge kept"
                await self.raise_alert(
                    AlertKind.OTHER,
                    AlertSeverity.CRITICAL,
                    f"Exit of trade {order.trade_id} incomplete: {why}. Close the main leg, "
                    "then the hedge.",
                    once_per=order.client_order_id,
                    trade_id=str(order.trade_id),
                )
                return why
        return None

    async def _settle_open(self, trade_id: object, pattern: str) -> None:
        """Follow this trade's open orders matching ``pattern`` to a final state."""
        deadline = asyncio.get_running_loop().time() + self.order_timeout_s
        while True:
            rows = await self._pool.fetch(
                "SELECT command, broker_order_id FROM executor.orders WHERE trade_id = $1 "
                "AND client_order_id LIKE $2 AND status = $3",
                trade_id,
                f"%{pattern}%",
                OrderStatus.ACCEPTED.value,
            )
            if not rows:
                return
            expired = asyncio.get_running_loop().time() >= deadline
            for row in rows:
                open_order = SubmitOrder.model_validate_json(row["command"])
                await self._refresh(open_order, row["broker_order_id"], cancel=expired)
            if expired:
                return
            await asyncio.sleep(self.poll_interval_s)

    async def _refresh(self, order: SubmitOrder, broker_order_id: str, cancel: bool) -> None:
        """Read (or cancel, then read) an open order and record any change."""
        if cancel:
            log.warning(
                "open_order_timed_out_cancelling",
                client_order_id=order.client_order_id,
                broker_order_id=broker_order_id,
            )
            found = await self._broker.cancel(order, broker_order_id)
        else:
            found = await self._broker.status(order, broker_order_id)
        if found is not None and found.status is not OrderStatus.ACCEPTED:
            await self.record(order, found)

    async def unwind_hedge(self, main: SubmitOrder, why: str) -> int:
        """The main leg failed: close what the hedge bought, and say so loudly."""
        rows = await self._pool.fetch(
            "SELECT command, filled_quantity FROM executor.orders WHERE trade_id = $1 "
            "AND client_order_id LIKE '%-entry-hedge-%' AND filled_quantity > 0 "
            "ORDER BY client_order_id",
            main.trade_id,
        )
        placed = 0
        for row in rows:
            hedge = SubmitOrder.model_validate_json(row["command"])
            cid = (
                f"{main.trade_id.hex[:16]}-unwind-hedge-{hedge.client_order_id.rsplit('-', 1)[-1]}"
            )
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
            status = await self._pool.fetchval(
                "SELECT status FROM executor.orders WHERE client_order_id = $1", cid
            )
            await self.raise_alert(
                AlertKind.HEDGE_UNWOUND,
                AlertSeverity.CRITICAL,
                f"Main leg of trade {main.trade_id} failed ({why}); "
                f"its hedge is being unwound (unwind order {status}).",
                once_per=cid,
                trade_id=str(main.trade_id),
                main_order=main.client_order_id,
                unwind_order=cid,
                unwind_status=str(status),
            )
            placed += 1
        return placed

    async def raise_alert(
        self,
        kind: AlertKind,
        severity: AlertSeverity,
        text: str,
        once_per: str | None = None,
        **details: str,
    ) -> None:
        """Tell the operator, through the outbox (the notifier delivers it).

        ``once_per`` makes the alert's id stable, so raising it again never notifies twice.
        """
        alert = OperatorAlert(
            message_id=derived_id("alert", f"{kind}:{once_per}") if once_per else uuid.uuid4(),
            ts_event=self._clock.now(),
            kind=kind,
            severity=severity,
            raised_by="executor",
            text=text[:1000],
            details={k: v[:500] for k, v in details.items()},
        )
        async with self._pool.acquire() as conn, conn.transaction():
            await self.outbox.add(conn, ALERTS, "executor", alert)
        self.outbox.wake()

    async def report_session_problem(self) -> None:
        """Say at once that the broker session broke (a good status comes from reconcile)."""
        if self._broker.session_problem is not None:
            await self.publish_broker_status()

    async def publish_broker_status(self, force: bool = False) -> None:
        """Publish whether the broker may take entries, when that changes (or when forced).

        Valid means the session is good *and* the executor's book was reconciled with the
        broker since the session was last lost; until then risk admits no entry.
        """
        problem = self._broker.session_problem
        if problem is not None:
            self.reconciled = False
        valid = problem is None and self.reconciled
        if valid:
            detail = "session valid, reconciled"
        elif problem is not None:
            detail = problem
        else:
            detail = "reconciling with the broker"
        expires = self.expires_at()
        self._metrics.session(
            self.mode,
            problem is None,
            (expires - self._clock.now()).total_seconds() if expires else None,
        )
        if not force and self._published is not None and self._published[0] == valid:
            return
        self._published = (valid, detail)
        event = BrokerStatusChanged(
            ts_event=self._clock.now(),
            mode=self.mode,
            session_valid=valid,
            detail=detail[:500],
            expires_at=self.expires_at(),
            reconciled=self.reconciled,
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
            owned = await self._pool.fetch(
                "SELECT broker_order_id FROM executor.orders "
                "WHERE broker_order_id IS NOT NULL AND client_order_id <> $1 "
                "AND created_at > now() - interval '2 days'",
                order.client_order_id,
            )
            try:
                found = await self._broker.lookup(order, {r["broker_order_id"] for r in owned})
            except AmbiguousOrderError as exc:
                log.critical(
                    "unknown_order_ambiguous",
                    client_order_id=order.client_order_id,
                    candidates=exc.order_ids,
                )
                await self.raise_alert(
                    AlertKind.OTHER,
                    AlertSeverity.CRITICAL,
                    f"Order {order.client_order_id} is unknown and {len(exc.order_ids)} broker "
                    "orders match it: an operator must decide which one is ours.",
                    once_per=order.client_order_id,
                    candidates=", ".join(exc.order_ids),
                )
                return BrokerResult(OrderStatus.UNKNOWN, None, reason=str(exc)[:300])
            except BrokerUnavailableError as exc:
                log.error(
                    "unknown_order_unsettled",
                    client_order_id=order.client_order_id,
                    error=str(exc)[:300],
                )
                await self.report_session_problem()
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

    async def adopt(self, client_order_id: str, broker_order_id: str) -> BrokerResult:
        """An operator names the broker order that is an unknown intent's; record what it is."""
        async with self._lock:
            row = await self._pool.fetchrow(
                "SELECT command, status FROM executor.orders WHERE client_order_id = $1",
                client_order_id,
            )
            if row is None:
                raise LookupError(f"no order {client_order_id}")
            if OrderStatus(row["status"]) not in (OrderStatus.UNKNOWN, OrderStatus.PENDING_SUBMIT):
                raise ValueError(f"order {client_order_id} is {row['status']}, not unknown")
            owner = await self._pool.fetchval(
                "SELECT client_order_id FROM executor.orders WHERE broker_order_id = $1",
                broker_order_id,
            )
            if owner is not None:
                raise ValueError(f"broker order {broker_order_id} already belongs to {owner}")
            order = SubmitOrder.model_validate_json(row["command"])
            found = await self._broker.status(order, broker_order_id)
            if found is None or found.status is OrderStatus.UNKNOWN:
                raise BrokerUnavailableError(f"broker order {broker_order_id} cannot be read")
            log.warning(
                "unknown_order_adopted",
                client_order_id=client_order_id,
                broker_order_id=broker_order_id,
                status=found.status,
            )
            await self.record(order, found)
            await self.after_final(order, found)
            return found

    async def reconcile_pending(self) -> int:
        """Settle orders whose intent was recorded but whose result was not; return how many."""
        rows = await self._pool.fetch(
            "SELECT command FROM executor.orders WHERE status = ANY($1::text[]) "
            "ORDER BY created_at",
            [OrderStatus.PENDING_SUBMIT.value, OrderStatus.UNKNOWN.value],
        )
        for row in rows:
            order = SubmitOrder.model_validate_json(row["command"])
            result = await self.settle_unknown(order)
            await self.after_final(order, result)
        return len(rows)

    async def _unsettled(self) -> int:
        """Orders whose intent is recorded but whose outcome is not known yet."""
        count = await self._pool.fetchval(
            "SELECT count(*) FROM executor.orders WHERE status = ANY($1::text[])",
            [OrderStatus.PENDING_SUBMIT.value, OrderStatus.UNKNOWN.value],
        )
        return int(count)

    async def refresh_open(self, cancel_older_than: timedelta | None = None) -> int:
        """Read every order open at the broker; cancel those older than the limit."""
        rows = await self._pool.fetch(
            "SELECT command, broker_order_id, created_at FROM executor.orders "
            "WHERE status = $1 ORDER BY created_at",
            OrderStatus.ACCEPTED.value,
        )
        now = self._clock.now()
        for row in rows:
            order = SubmitOrder.model_validate_json(row["command"])
            stale = cancel_older_than is not None and now - row["created_at"] > cancel_older_than
            await self._refresh(order, row["broker_order_id"], cancel=stale)
            status = await self._pool.fetchval(
                "SELECT status FROM executor.orders WHERE client_order_id = $1",
                order.client_order_id,
            )
            if status == OrderStatus.REJECTED.value:
                await self.after_final(order, BrokerResult(OrderStatus.REJECTED, None))
        return len(rows)

    async def reconcile(self) -> Reconciliation:
        """Bring the executor's book in line with the broker's before taking commands.

        Unsettled orders are settled from the broker's order list, open orders re-read, and the
        net positions compared contract by contract. A mismatch turns the kill switch on (entries
        stop; exits still go out) and says so loudly: an operator must look before trading on.
        """
        async with self._lock:
            report = Reconciliation(at=self._clock.now())
            report.settled = await self.reconcile_pending()
            report.refreshed = await self.refresh_open()
            report.unsettled = await self._unsettled()
            try:
                at_broker = await self._broker.positions()
            except BrokerUnavailableError as exc:
                log.error("positions_unavailable", error=str(exc)[:300])
                report.unsettled += 1
                at_broker = None
            if at_broker is not None:
                ours = {key: qty for key, (_i, qty) in (await self.held()).items()}
                for key in sorted(set(ours) | set(at_broker)):
                    if ours.get(key, 0) != at_broker.get(key, 0):
                        report.mismatches[key] = (ours.get(key, 0), at_broker.get(key, 0))
            if report.mismatches:
                await self._halt_for_mismatch(report.mismatches)
            self.reconciled = report.unsettled == 0 and self._broker.session_problem is None
            self.last_reconciliation = report
            log.warning(
                "reconciled_with_broker",
                settled=report.settled,
                refreshed=report.refreshed,
                unsettled=report.unsettled,
                mismatches=len(report.mismatches),
                reconciled=self.reconciled,
            )
        await self.publish_broker_status(force=True)
        return report

    async def _halt_for_mismatch(self, mismatches: dict[str, tuple[int, int]]) -> None:
        detail = "; ".join(f"{k}: ours {a}, broker {b}" for k, (a, b) in mismatches.items())
        log.critical("reconciliation_mismatch_halting", mismatches=detail[:1000])
        fact = ControlSet(
            ts_event=self._clock.now(),
            key=ControlKey.KILL_SWITCH,
            engaged=True,
            values={"source": "reconciliation"},
            changed_by=RECONCILIATION_ACTOR,
            reason=f"positions differ from the broker's: {detail}"[:500],
        )
        alert = OperatorAlert(
            ts_event=self._clock.now(),
            kind=AlertKind.RECONCILIATION_MISMATCH,
            severity=AlertSeverity.CRITICAL,
            raised_by="executor",
            text=f"Positions differ from the broker's; kill switch turned on. {detail}"[:1000],
            details={k: f"ours {a}, broker {b}" for k, (a, b) in mismatches.items()},
        )
        async with self._pool.acquire() as conn, conn.transaction():
            await self.outbox.add(conn, CONTROL, ControlKey.KILL_SWITCH.value, fact)
            await self.outbox.add(conn, ALERTS, "executor", alert)
        self.outbox.wake()

    async def supervise_once(self) -> None:
        """One round of the live session watch: probe, reconcile when needed, settle and follow
        orders.

        A session error seen on a call is confirmed by the probe while the session value has
        not expired (the gateway has answered "Invalid User Details" transiently): a good probe
        makes it usable again, after a fresh reconciliation.
        """
        expires = self.expires_at()
        unexpired = expires is not None and self._clock.now() < expires
        if self._broker.session_problem is None or unexpired:
            verdict = await self._broker.probe()
            if verdict == "invalid":
                log.critical("broker_session_invalid", detail=self._broker.session_problem)
        if self._broker.session_problem is not None:
            await self.publish_broker_status()
            return
        if not self.reconciled:
            await self.reconcile()
            return
        async with self._lock:
            unsettled = await self._unsettled()
            if unsettled:
                await self.reconcile_pending()
            await self.refresh_open(timedelta(seconds=self.order_timeout_s))

    async def record(self, order: SubmitOrder, result: BrokerResult) -> None:
        """Store the broker's answer and stage the events it implies, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval(
                "SELECT status FROM executor.orders WHERE client_order_id = $1 FOR UPDATE",
                order.client_order_id,
            )
            if OrderStatus(current) is result.status and result.status in TERMINAL:
                log.info("order_already_final", client_order_id=order.client_order_id)
                return
            if OrderStatus(current) is result.status is OrderStatus.ACCEPTED:
                return
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
        self._metrics.order_recorded(result.status, order.purpose)
        for execution in result.executions:
            self._metrics.fill(order.purpose, order.leg, execution.quantity)
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
