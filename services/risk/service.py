"""The risk gate: turns signals into decisions and order commands, durably and once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from libs.common.clock import IST, Clock
from libs.common.db import Connection, Outbox
from libs.common.logging import get_logger
from libs.common.messages import (
    AnyMessage,
    DecisionOutcome,
    Instrument,
    Leg,
    Purpose,
    RiskDecisionMade,
    Side,
    SignalAction,
    SignalReceived,
    SubmitOrder,
    TradingState,
    TradingStateChanged,
    derived_id,
)
from libs.common.topics import ORDER_COMMANDS, RISK_DECISIONS
from libs.market.calendar import CalendarRangeError
from libs.market.lots import LotSizeUnknownError
from services.risk.checks import GateView, run_checks
from services.risk.construction import (
    LegPlan,
    TradeSettings,
    plan_entry,
    plan_exit,
    reference_level,
    slices,
)

log = get_logger(__name__)

# Serialises decisions so that limits count every trade already committed to.
_DECISION_LOCK = 7_319_001


@dataclass
class GateState:
    """Trading state as last seen on the control topic."""

    state: TradingState = TradingState.ACTIVE
    kill_switch: bool = False
    changed_by: str = "default"
    reason: str = "no control record yet"

    def apply(self, event: TradingStateChanged) -> None:
        """Adopt a control record."""
        self.state = event.state
        self.kill_switch = event.kill_switch
        self.changed_by = event.changed_by
        self.reason = event.reason


@dataclass
class Decision:
    """A decision plus the commands it issues."""

    outcome: DecisionOutcome
    reasons: tuple[str, ...] = ()
    trade_id: Any = None
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


class RiskService:
    """Decides each signal inside one database transaction and stages its outputs."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer[bytes, bytes],
        clock: Clock,
        gate: GateState,
        trade: TradeSettings,
        max_lots_per_trade: int,
        max_open_trades: int,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._clock = clock
        self._gate = gate
        self._trade = trade
        self._max_lots = max_lots_per_trade
        self._max_open = max_open_trades
        self.outbox = Outbox("risk")

    async def handle(self, message: AnyMessage, _record: object = None) -> None:
        """Handle one record from the signals topic."""
        if isinstance(message, SignalReceived):
            await self.on_signal(message)

    async def on_signal(self, signal: SignalReceived) -> Decision:
        """Decide a signal, stage the decision and commands, then publish them."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _DECISION_LOCK)
            if signal.action is SignalAction.ENTRY:
                decision = await self._entry(conn, signal)
            else:
                decision = await self._exit(conn, signal)
            event = RiskDecisionMade(
                ts_event=self._clock.now(),
                signal_id=signal.signal_id,
                trade_id=decision.trade_id,
                action=signal.action,
                outcome=decision.outcome,
                reasons=decision.reasons,
            )
            await self.outbox.add(conn, RISK_DECISIONS, str(signal.signal_id), event)
            for command in decision.commands:
                await self.outbox.add(conn, ORDER_COMMANDS, str(command.trade_id), command)
        log.info(
            "signal_decided",
            signal_id=str(signal.signal_id),
            signal=signal.signal,
            action=signal.action,
            outcome=decision.outcome,
            reasons=list(decision.reasons),
            orders=len(decision.commands),
        )
        await self.outbox.relay(self._pool, self._producer)
        return decision

    def _view(self, signal: SignalReceived, open_trades: int) -> GateView:
        return GateView(
            state=self._gate.state,
            kill_switch=self._gate.kill_switch,
            action=signal.action,
            lots=self._trade.lots,
            max_lots_per_trade=self._max_lots,
            open_trades=open_trades,
            max_open_trades=self._max_open,
        )

    @staticmethod
    def latch_key(signal: SignalReceived) -> str:
        """One entry per signal, symbol and trading week."""
        return f"{signal.signal}|{signal.symbol}|{signal.trading_week}"

    async def _entry(self, conn: Connection, signal: SignalReceived) -> Decision:
        key = self.latch_key(signal)
        trade_id = derived_id("trade", key)
        existing = await conn.fetchval("SELECT status FROM risk.trades WHERE latch_key = $1", key)
        if existing is not None:
            return Decision(
                DecisionOutcome.DUPLICATE,
                (f"{signal.signal} already entered in {signal.trading_week}",),
                trade_id,
            )
        open_trades = await conn.fetchval("SELECT count(*) FROM risk.trades WHERE status = 'open'")
        reasons = run_checks(self._view(signal, int(open_trades)))
        if reasons:
            return Decision(DecisionOutcome.DENIED, reasons)
        today = self._clock.now().astimezone(IST).date()
        try:
            legs = plan_entry(signal, today, self._trade)
        except (CalendarRangeError, LotSizeUnknownError, ValueError) as exc:
            return Decision(DecisionOutcome.DENIED, (f"cannot construct the trade: {exc}",))
        await conn.execute(
            "INSERT INTO risk.trades (trade_id, latch_key, signal_id, signal, trading_week, "
            "status, lots, legs) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
            trade_id,
            key,
            signal.signal_id,
            signal.signal.value,
            signal.trading_week,
            self._trade.lots,
            _legs_to_json(legs),
        )
        commands = self._commands(signal, trade_id, Purpose.ENTRY, legs, today)
        return Decision(DecisionOutcome.APPROVED, (), trade_id, commands)

    async def _exit(self, conn: Connection, signal: SignalReceived) -> Decision:
        key = self.latch_key(signal)
        row = await conn.fetchrow(
            "SELECT trade_id, status, legs FROM risk.trades WHERE latch_key = $1 FOR UPDATE", key
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
        reasons = run_checks(self._view(signal, 0))
        if reasons:
            return Decision(DecisionOutcome.DENIED, reasons, trade_id)
        await conn.execute(
            "UPDATE risk.trades SET status = 'exiting', exit_signal_id = $2, "
            "exit_requested_at = $3 WHERE trade_id = $1",
            trade_id,
            signal.signal_id,
            self._clock.now(),
        )
        today = self._clock.now().astimezone(IST).date()
        legs = plan_exit(_legs_from_json(row["legs"]))
        commands = self._commands(signal, trade_id, Purpose.EXIT, legs, today)
        return Decision(DecisionOutcome.APPROVED, (), trade_id, commands)

    def _commands(
        self,
        signal: SignalReceived,
        trade_id: Any,
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
                        ts_event=self._clock.now(),
                        message_id=derived_id("command", client_order_id),
                        client_order_id=client_order_id,
                        trade_id=trade_id,
                        signal_id=signal.signal_id,
                        signal=signal.signal,
                        purpose=purpose,
                        leg=plan.leg,
                        sequence=len(out),
                        instrument=plan.instrument,
                        side=plan.side,
                        quantity=quantity,
                        lot_size=plan.lot_size,
                        underlying_price=reference_level(signal),
                    )
                )
        return out
