"""The risk gate: turns signals into decisions and order commands, durably and once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from decimal import Decimal

import asyncpg

from libs.common.clock import IST, Clock
from libs.common.control import ControlFacts, effective_state, state_reasons
from libs.common.db import Connection, Outbox
from libs.common.logging import get_logger
from libs.common.messages import (
    AnyMessage,
    BarClosed,
    DecisionOutcome,
    Instrument,
    Leg,
    OrderFilled,
    OrderRejected,
    PlaceManualOrder,
    Purpose,
    ResolvePending,
    RiskDecisionMade,
    Side,
    SignalAction,
    SignalName,
    SignalReceived,
    SquareOffAll,
    SubmitOrder,
    derived_id,
)
from libs.common.topics import ORDER_COMMANDS, RISK_DECISIONS
from libs.market.calendar import CalendarRangeError, is_trading_day
from libs.market.expiries import is_expiry_day
from libs.market.lots import LotSizeUnknownError, lot_size
from services.risk.checks import GateView, run_checks
from services.risk.circuit import CircuitKeeper
from services.risk.construction import (
    LegPlan,
    TradeSettings,
    plan_entry,
    plan_exit,
    reference_level,
    slices,
    stop_level,
)
from services.risk.settings import RiskSettings
from services.risk.squareoff import square_off_due

log = get_logger(__name__)
DecisionObserver = Callable[[DecisionOutcome, Sequence[str]], None]

# Serialises decisions so that limits count every trade already committed to.
_DECISION_LOCK = 7_319_001


@dataclass
class ControlHolder:
    """The control facts as last replayed from the control topic."""

    facts: ControlFacts = field(default_factory=ControlFacts)


@dataclass
class Decision:
    """A decision plus the commands it issues."""

    outcome: DecisionOutcome
    reasons: tuple[str, ...] = ()
    trade_id: uuid.UUID | None = None
    commands: list[SubmitOrder] = field(default_factory=list)


def _legs_to_json(legs: list[LegPlan]) -> str:
    return json.dumps(
        [
            {
                "leg": p.leg.value,
                "instrument": p.instrument.model_dump(mode="json"),
                "side": p.side.value,
                "quantity": p.quantity,
                "lot_size": p.lot_size,
            }
            for p in legs
        ]
    )


def _legs_from_json(raw: str) -> list[LegPlan]:
    return [
        LegPlan(
            Leg(item["leg"]),
            Instrument.model_validate(item["instrument"]),
            Side(item["side"]),
            int(item["quantity"]),
            int(item["lot_size"]),
        )
        for item in json.loads(raw)
    ]


def stop_breached(bullish: bool, stop: Decimal, close: Decimal) -> bool:
    """Strategy spec §4.3: bullish trades stop when close <= stop, bearish when close >= stop."""
    return close <= stop if bullish else close >= stop


class RiskService:
    """Decides each signal inside one database transaction and stages its outputs."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        outbox: Outbox,
        clock: Clock,
        control: ControlHolder,
        settings: RiskSettings,
        circuit: CircuitKeeper | None = None,
        on_decision: DecisionObserver | None = None,
    ) -> None:
        self._circuit = circuit
        self._on_decision = on_decision
        self.pool = pool
        self.outbox = outbox
        self.clock = clock
        self.control = control
        self._settings = settings
        self.last_close: Decimal | None = None
        self.trade_settings = TradeSettings(
            lots=settings.lots,
            hedge_enabled=settings.hedge_enabled,
            hedge_offset_points=settings.hedge_offset_points,
            min_trading_days_to_expiry=settings.min_trading_days_to_expiry,
        )

    # -- dispatch ---------------------------------------------------------------------------

    async def handle(self, message: AnyMessage, _record: object = None) -> None:
        """Handle one record of the signals or market-bars topic."""
        if isinstance(message, SignalReceived):
            await self.on_signal(message)
        elif isinstance(message, SquareOffAll):
            await self.square_off_all(message.requested_by, message.reason)
        elif isinstance(message, ResolvePending):
            await self.resolve_pending(message)
        elif isinstance(message, PlaceManualOrder):
            await self.on_manual(message)
        elif isinstance(message, BarClosed):
            await self.on_bar(message)
        elif isinstance(message, OrderRejected | OrderFilled):
            if isinstance(message, OrderRejected):
                await self.on_rejected(message)
            if self._circuit is not None:
                await self._circuit.on_order_event(message)

    async def on_rejected(self, message: OrderRejected) -> None:
        """A rejected main entry leaves no position to manage: the trade is closed out."""
        if "-entry-main-" not in message.client_order_id:
            return
        updated = await self.pool.execute(
            "UPDATE risk.trades SET status = 'exiting', exit_reason = $2, "
            "exit_requested_at = $3 WHERE trade_id = $1 AND status = 'open'",
            message.trade_id,
            f"entry failed: {message.reason}"[:500],
            self.clock.now(),
        )
        log.error(
            "entry_failed", trade_id=str(message.trade_id), reason=message.reason, updated=updated
        )

    # -- signals ----------------------------------------------------------------------------

    async def on_signal(self, signal: SignalReceived) -> Decision:
        """Decide a signal, stage the decision and commands, then wake the relay."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            if signal.action is SignalAction.ENTRY:
                decision = await self._entry(conn, signal, via_approval=False)
            else:
                decision = await self._exit(conn, signal)
            await self._stage(conn, signal, decision)
        self._log(signal, decision)
        self.outbox.wake()
        return decision

    async def on_manual(self, command: PlaceManualOrder) -> Decision:
        """An operator's order: the same checks as a signal, then one leg, freeze-split."""
        action = SignalAction.ENTRY if command.purpose is Purpose.ENTRY else SignalAction.EXIT
        trade_id = derived_id("manual", command.command_id)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            view = replace(await self.gate_view(conn, action), lots=command.lots)
            reasons = list(run_checks(view))
            try:
                lot = lot_size(command.instrument.expiry)
            except (LotSizeUnknownError, CalendarRangeError) as exc:
                reasons.append(f"cannot size the order: {exc}")
                lot = 0
            decision = Decision(DecisionOutcome.DENIED, tuple(reasons))
            if not reasons:
                plan = LegPlan(Leg.MAIN, command.instrument, command.side, command.lots * lot, lot)
                inserted = True
                if command.purpose is Purpose.ENTRY:
                    inserted = (
                        await conn.fetchval(
                            "INSERT INTO risk.trades (trade_id, latch_key, signal_id, signal, "
                            "trading_week, status, lots, legs, created_at) VALUES "
                            "($1, $2, $3, 'MANUAL', 'manual', 'open', $4, $5, $6) "
                            "ON CONFLICT (latch_key) DO NOTHING RETURNING true",
                            trade_id,
                            f"manual|{command.command_id}",
                            command.command_id,
                            command.lots,
                            _legs_to_json([plan]),
                            self.clock.now(),
                        )
                        is not None
                    )
                if inserted:
                    today = self.clock.now().astimezone(IST).date()
                    commands = self._commands(
                        command.command_id,
                        None,
                        command.underlying_price,
                        trade_id,
                        command.purpose,
                        [plan],
                        today,
                    )
                    decision = Decision(DecisionOutcome.APPROVED, (), trade_id, commands)
                else:
                    decision = Decision(DecisionOutcome.DUPLICATE, ("order already placed",))
            event = RiskDecisionMade(
                ts_event=self.clock.now(),
                signal_id=command.command_id,
                trade_id=decision.trade_id,
                action=action,
                outcome=decision.outcome,
                reasons=decision.reasons,
            )
            await self.outbox.add(conn, RISK_DECISIONS, str(command.command_id), event)
            for order in decision.commands:
                await self.outbox.add(conn, ORDER_COMMANDS, str(order.trade_id), order)
        if self._on_decision is not None:
            self._on_decision(decision.outcome, decision.reasons)
        log.warning(
            "manual_order_decided",
            command_id=str(command.command_id),
            requested_by=command.requested_by,
            outcome=decision.outcome,
            reasons=list(decision.reasons),
        )
        self.outbox.wake()
        return decision

    async def resolve_pending(self, command: ResolvePending) -> Decision | None:
        """Approve (through every check again) or reject a signal waiting for an operator."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            row = await conn.fetchrow(
                "SELECT signal, expires_at FROM risk.pending_approvals WHERE signal_id = $1 "
                "AND resolved_at IS NULL FOR UPDATE",
                command.signal_id,
            )
            if row is None:
                log.info("pending_not_found", signal_id=str(command.signal_id))
                return None
            signal = SignalReceived.model_validate_json(row["signal"])
            now = self.clock.now()
            if row["expires_at"] <= now:
                resolution, decision = (
                    "expired",
                    Decision(DecisionOutcome.DENIED, ("approval window expired",)),
                )
            elif not command.approve:
                resolution, decision = (
                    "rejected",
                    Decision(DecisionOutcome.DENIED, (f"rejected by {command.requested_by}",)),
                )
            else:
                resolution = "approved"
                decision = await self._entry(conn, signal, via_approval=True)
            await conn.execute(
                "UPDATE risk.pending_approvals SET resolved_at = $2, resolution = $3, "
                "resolved_by = $4 WHERE signal_id = $1",
                command.signal_id,
                now,
                resolution,
                command.requested_by,
            )
            await self._stage(conn, signal, decision)
        self._log(signal, decision)
        self.outbox.wake()
        return decision

    async def _stage(self, conn: Connection, signal: SignalReceived, decision: Decision) -> None:
        event = RiskDecisionMade(
            ts_event=self.clock.now(),
            signal_id=signal.signal_id,
            trade_id=decision.trade_id,
            action=signal.action,
            outcome=decision.outcome,
            reasons=decision.reasons,
        )
        await self.outbox.add(conn, RISK_DECISIONS, str(signal.signal_id), event)
        for command in decision.commands:
            await self.outbox.add(conn, ORDER_COMMANDS, str(command.trade_id), command)

    def _log(self, signal: SignalReceived, decision: Decision) -> None:
        if self._on_decision is not None:
            self._on_decision(decision.outcome, decision.reasons)
        log.info(
            "signal_decided",
            signal_id=str(signal.signal_id),
            signal=signal.signal,
            action=signal.action,
            outcome=decision.outcome,
            reasons=list(decision.reasons),
            orders=len(decision.commands),
        )

    async def gate_view(self, conn: Connection, action: SignalAction) -> GateView:
        """Gather what the checks need; entries not yet filled count toward the limits."""
        facts = self.control.facts
        now_ist = self.clock.now().astimezone(IST)
        try:
            trading_day = is_trading_day(now_ist.date())
            expiry_day = trading_day and is_expiry_day(now_ist.date())
        except CalendarRangeError:
            trading_day, expiry_day = False, False
        row = await conn.fetchrow(
            "SELECT count(*) AS trades, coalesce(sum(lots), 0) AS lots FROM risk.trades "
            "WHERE status = 'open'"
        )
        open_trades = int(row["trades"]) if row else 0
        open_lots = int(row["lots"]) if row else 0
        s = self._settings
        return GateView(
            state=effective_state(facts),
            state_reasons=state_reasons(facts),
            action=action,
            now_ist=now_ist,
            trading_day=trading_day,
            expiry_day=expiry_day,
            enforce_market_hours=s.market_hours == "enforce",
            entry_cutoff=s.entry_cutoff,
            expiry_day_entry_cutoff=s.expiry_day_entry_cutoff,
            lots=self.trade_settings.lots,
            max_lots_per_trade=_limit(facts, "max_lots_per_trade", s.max_lots_per_trade),
            open_trades=open_trades,
            max_open_trades=_limit(facts, "max_open_trades", s.max_open_trades),
            margin_in_use=s.margin_per_lot * open_lots,
            margin_per_lot=s.margin_per_lot,
            max_margin=Decimal(facts.limits.get("max_margin", s.max_margin)),
        )

    @staticmethod
    def latch_key(signal: SignalReceived) -> str:
        """One entry per signal, symbol and trading week."""
        return f"{signal.signal}|{signal.symbol}|{signal.trading_week}"

    async def _entry(
        self, conn: Connection, signal: SignalReceived, via_approval: bool
    ) -> Decision:
        key = self.latch_key(signal)
        trade_id = derived_id("trade", key)
        existing = await conn.fetchval("SELECT status FROM risk.trades WHERE latch_key = $1", key)
        if existing is not None:
            return Decision(
                DecisionOutcome.DUPLICATE,
                (f"{signal.signal} already entered in {signal.trading_week}",),
                trade_id,
            )
        reasons = run_checks(await self.gate_view(conn, SignalAction.ENTRY))
        if self._circuit is not None and (trial := self._circuit.entry_allowed()):
            reasons = (*reasons, trial)
        if reasons:
            return Decision(DecisionOutcome.DENIED, reasons)
        if not via_approval and not self.control.facts.automation:
            return await self._hold_for_approval(conn, signal)
        today = self.clock.now().astimezone(IST).date()
        try:
            legs = plan_entry(signal, today, self.trade_settings)
        except (CalendarRangeError, LotSizeUnknownError, ValueError) as exc:
            return Decision(DecisionOutcome.DENIED, (f"cannot construct the trade: {exc}",))
        await conn.execute(
            "INSERT INTO risk.trades (trade_id, latch_key, signal_id, signal, trading_week, "
            "status, lots, legs, stop_level, bullish, created_at) "
            "VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10)",
            trade_id,
            key,
            signal.signal_id,
            signal.signal.value,
            signal.trading_week,
            self.trade_settings.lots,
            _legs_to_json(legs),
            stop_level(signal),
            signal.signal.bullish,
            self.clock.now(),
        )
        if self._circuit is not None:
            self._circuit.entry_approved(trade_id)
        commands = self._commands(
            signal.signal_id,
            signal.signal,
            reference_level(signal),
            trade_id,
            Purpose.ENTRY,
            legs,
            today,
        )
        return Decision(DecisionOutcome.APPROVED, (), trade_id, commands)

    async def _hold_for_approval(self, conn: Connection, signal: SignalReceived) -> Decision:
        now = self.clock.now()
        inserted = await conn.fetchval(
            "INSERT INTO risk.pending_approvals (signal_id, signal, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (signal_id) DO NOTHING RETURNING signal_id",
            signal.signal_id,
            signal.model_dump_json(),
            now,
            now + timedelta(seconds=self._settings.approval_ttl_s),
        )
        if inserted is None:
            return Decision(DecisionOutcome.DUPLICATE, ("already waiting for approval",))
        return Decision(
            DecisionOutcome.PENDING,
            (
                f"automation is off: waiting for an operator until "
                f"{(now + timedelta(seconds=self._settings.approval_ttl_s)).isoformat()}",
            ),
        )

    async def _exit(self, conn: Connection, signal: SignalReceived) -> Decision:
        row = await conn.fetchrow(
            "SELECT trade_id, status, legs FROM risk.trades WHERE latch_key = $1 FOR UPDATE",
            self.latch_key(signal),
        )
        if row is None:
            return Decision(
                DecisionOutcome.DENIED,
                (f"no open {signal.signal} trade in {signal.trading_week} to exit",),
            )
        trade_id = row["trade_id"]
        if row["status"] == "exiting":
            return Decision(
                DecisionOutcome.DUPLICATE, ("exit already requested for this trade",), trade_id
            )
        reasons = run_checks(await self.gate_view(conn, SignalAction.EXIT))
        if reasons:
            return Decision(DecisionOutcome.DENIED, reasons, trade_id)
        commands = await self._close(
            conn,
            trade_id,
            row["legs"],
            signal.signal_id,
            "alert",
            signal.signal,
            signal.price or signal.stop_level,
        )
        return Decision(DecisionOutcome.APPROVED, (), trade_id, commands)

    async def _close(
        self,
        conn: Connection,
        trade_id: uuid.UUID,
        legs_json: str,
        cause_id: uuid.UUID,
        reason: str,
        signal: SignalName | None,
        underlying: Decimal | None = None,
    ) -> list[SubmitOrder]:
        await conn.execute(
            "UPDATE risk.trades SET status = 'exiting', exit_signal_id = $2, "
            "exit_requested_at = $3, exit_reason = $4 WHERE trade_id = $1",
            trade_id,
            cause_id,
            self.clock.now(),
            reason,
        )
        today = self.clock.now().astimezone(IST).date()
        legs = plan_exit(_legs_from_json(legs_json))
        return self._commands(cause_id, signal, underlying, trade_id, Purpose.EXIT, legs, today)

    # -- operator and server-side exits -------------------------------------------------------

    async def square_off_all(self, requested_by: str, reason: str) -> int:
        """Close every open trade, main legs first; return how many trades."""
        closed = 0
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            rows = await conn.fetch(
                "SELECT trade_id, legs, signal_id, signal FROM risk.trades WHERE status = 'open' "
                "ORDER BY created_at FOR UPDATE"
            )
            for row in rows:
                commands = await self._close(
                    conn,
                    row["trade_id"],
                    row["legs"],
                    row["signal_id"],
                    f"square-off: {reason}",
                    _signal_name(row["signal"]),
                )
                for command in commands:
                    await self.outbox.add(conn, ORDER_COMMANDS, str(command.trade_id), command)
                closed += 1
        log.warning("square_off_all", trades=closed, requested_by=requested_by, reason=reason)
        self.outbox.wake()
        return closed

    async def square_off_due_trades(self) -> int:
        """Close trades whose T+N or expiry-day square-off time has come; return how many."""
        now_ist = self.clock.now().astimezone(IST)
        try:
            if not is_trading_day(now_ist.date()) or now_ist.time() >= time(15, 30):
                return 0
        except CalendarRangeError:
            return 0
        closed = 0
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            rows = await conn.fetch(
                "SELECT trade_id, legs, signal_id, signal, created_at FROM risk.trades "
                "WHERE status = 'open' FOR UPDATE"
            )
            for row in rows:
                legs = _legs_from_json(row["legs"])
                reason = square_off_due(
                    row["created_at"].astimezone(IST).date(),
                    legs[0].instrument.expiry,
                    now_ist,
                    self._settings.square_off_after_days,
                    self._settings.square_off_time,
                )
                if reason is None:
                    continue
                commands = await self._close(
                    conn,
                    row["trade_id"],
                    row["legs"],
                    row["signal_id"],
                    reason,
                    _signal_name(row["signal"]),
                )
                for command in commands:
                    await self.outbox.add(conn, ORDER_COMMANDS, str(command.trade_id), command)
                closed += 1
                log.warning("time_square_off", trade_id=str(row["trade_id"]), reason=reason)
        if closed:
            self.outbox.wake()
        return closed

    async def run_square_off(self, every_s: float) -> None:
        """Check for time-based exits forever."""
        while True:
            await asyncio.sleep(every_s)
            await self.square_off_due_trades()

    async def on_bar(self, bar: BarClosed) -> int:
        """Exit trades whose stop the hourly close breached; return how many."""
        self.last_close = bar.close
        closed = 0
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            rows = await conn.fetch(
                "SELECT trade_id, legs, signal_id, signal, stop_level, bullish FROM risk.trades "
                "WHERE status = 'open' AND stop_level IS NOT NULL AND created_at < $1 FOR UPDATE",
                bar.ts_event if bar.source == "replay" else bar.start,
            )
            for row in rows:
                if not stop_breached(row["bullish"], row["stop_level"], bar.close):
                    continue
                reason = f"server-side stop: close {bar.close} vs stop {row['stop_level']}"
                commands = await self._close(
                    conn,
                    row["trade_id"],
                    row["legs"],
                    row["signal_id"],
                    reason,
                    _signal_name(row["signal"]),
                    bar.close,
                )
                for command in commands:
                    await self.outbox.add(conn, ORDER_COMMANDS, str(command.trade_id), command)
                closed += 1
                log.warning("server_side_stop", trade_id=str(row["trade_id"]), reason=reason)
        self.outbox.wake()
        return closed

    def _commands(
        self,
        cause_id: uuid.UUID,
        signal: SignalName | None,
        underlying: Decimal | None,
        trade_id: uuid.UUID,
        purpose: Purpose,
        legs: list[LegPlan],
        on: date,
    ) -> list[SubmitOrder]:
        out: list[SubmitOrder] = []
        for plan in legs:
            for index, quantity in enumerate(slices(plan, on)):
                client_order_id = f"{trade_id.hex[:16]}-{purpose.value}-{plan.leg.value}-{index}"
                out.append(
                    SubmitOrder(
                        ts_event=self.clock.now(),
                        message_id=derived_id("command", client_order_id),
                        client_order_id=client_order_id,
                        trade_id=trade_id,
                        signal_id=cause_id,
                        signal=signal,
                        purpose=purpose,
                        leg=plan.leg,
                        sequence=len(out),
                        instrument=plan.instrument,
                        side=plan.side,
                        quantity=quantity,
                        lot_size=plan.lot_size,
                        underlying_price=underlying or self.last_close or plan.instrument.strike,
                    )
                )
        return out


def _limit(facts: ControlFacts, name: str, default: int) -> int:
    value = facts.limits.get(name)
    return int(value) if value is not None else default


def _signal_name(value: str) -> SignalName | None:
    """The trade's signal; None for an operator's manual trade."""
    return None if value == "MANUAL" else SignalName(value)
