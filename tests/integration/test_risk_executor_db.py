"""Risk and executor on real PostgreSQL and Kafka: one trade per signal-week, one order per id."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from libs.common.clock import FixedClock
from libs.common.control import apply_control
from libs.common.db import Outbox
from libs.common.messages import (
    ControlKey,
    ControlSet,
    DecisionOutcome,
    Leg,
    Purpose,
    SignalAction,
    SignalName,
    SubmitOrder,
)
from services.executor.adapters.paper import PaperBroker, PaperFillModel
from services.executor.broker import BrokerResult, OrderStatus
from services.executor.service import ExecutorService, HaltFlag
from services.risk.service import ControlHolder, RiskService
from services.risk.settings import RiskSettings
from tests.factories import make_signal

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 25, 5, 0, tzinfo=UTC))


def _risk(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer[bytes, bytes],
    control: ControlHolder,
    max_open: int = 1000,
    **settings: object,
) -> RiskService:
    config = RiskSettings.model_validate(
        {"max_open_trades": max_open, "market_hours": "ignore", "max_margin": 10**12, **settings}
    )
    return RiskService(pool, Outbox("risk"), CLOCK, control, config)


def _week() -> str:
    return f"test-week-{uuid.uuid4().hex[:12]}"


async def test_risk_when_entry_repeated_concurrently_approves_once(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    risk = _risk(pool, producer, ControlHolder())
    week = _week()
    signals = [make_signal(signal=SignalName.S1, trading_week=week) for _ in range(10)]

    decisions = await asyncio.gather(*(risk.on_signal(s) for s in signals))

    outcomes = sorted(d.outcome for d in decisions)
    assert outcomes.count(DecisionOutcome.APPROVED) == 1
    assert outcomes.count(DecisionOutcome.DUPLICATE) == 9
    approved = next(d for d in decisions if d.outcome is DecisionOutcome.APPROVED)
    assert [(c.leg.value, c.side.value) for c in approved.commands] == [
        ("hedge", "BUY"),
        ("main", "SELL"),
    ]
    await risk.outbox.relay(pool, producer)
    assert await risk.outbox.backlog(pool) == 0


async def test_risk_when_signals_race_never_exceeds_max_open_trades(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    open_before = int(await pool.fetchval("SELECT count(*) FROM risk.trades WHERE status='open'"))
    risk = _risk(pool, producer, ControlHolder(), max_open=open_before + 3)
    signals = [make_signal(signal=SignalName.S2, trading_week=_week()) for _ in range(12)]

    decisions = await asyncio.gather(*(risk.on_signal(s) for s in signals))

    assert sum(d.outcome is DecisionOutcome.APPROVED for d in decisions) == 3
    denied = [d for d in decisions if d.outcome is DecisionOutcome.DENIED]
    assert len(denied) == 9
    assert all("limit" in d.reasons[0] for d in denied)


async def test_risk_when_kill_switch_on_denies_entry_and_exit(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    control = ControlHolder()
    risk = _risk(pool, producer, control)
    week = _week()
    entry = make_signal(
        signal=SignalName.S3, trading_week=week, option_type=None, strike=Decimal(25000)
    )
    assert (await risk.on_signal(entry)).outcome is DecisionOutcome.APPROVED

    control.facts = apply_control(
        control.facts,
        ControlSet(
            ts_event=CLOCK.now(),
            key=ControlKey.KILL_SWITCH,
            engaged=True,
            changed_by="test",
            reason="test",
        ),
    )
    exit_signal = make_signal(
        signal=SignalName.S3,
        trading_week=week,
        action=SignalAction.EXIT,
        option_type=None,
        strike=Decimal(25000),
    )
    other = make_signal(
        signal=SignalName.S5, trading_week=week, option_type=None, strike=Decimal(25000)
    )

    assert (await risk.on_signal(other)).outcome is DecisionOutcome.DENIED
    assert (await risk.on_signal(exit_signal)).outcome is DecisionOutcome.DENIED


async def test_executor_when_command_delivered_twice_places_one_order(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    risk = _risk(pool, producer, ControlHolder())
    decision = await risk.on_signal(make_signal(signal=SignalName.S4, trading_week=_week()))
    broker = PaperBroker(CLOCK, PaperFillModel(0.14, Decimal(1), Decimal("0.5"), Decimal(20)))
    executor = ExecutorService(pool, Outbox("executor"), broker, CLOCK, HaltFlag())

    for command in decision.commands + decision.commands:
        await executor.on_submit(command)

    ids = [c.client_order_id for c in decision.commands]
    rows = await pool.fetch(
        "SELECT status, filled_quantity FROM executor.orders WHERE client_order_id = ANY($1)", ids
    )
    assert [(r["status"], r["filled_quantity"]) for r in rows] == [("FILLED", 65), ("FILLED", 65)]
    staged = await pool.fetchval(
        "SELECT count(*) FROM executor.outbox WHERE key = $1", str(decision.trade_id)
    )
    # Per order: accepted, one fill, filled.
    assert staged == 6
    await executor.outbox.relay(pool, producer)
    assert await executor.outbox.backlog(pool) == 0


async def test_executor_when_intent_recorded_but_result_lost_reconciles_once(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    risk = _risk(pool, producer, ControlHolder())
    decision = await risk.on_signal(
        make_signal(
            signal=SignalName.S6, trading_week=_week(), option_type=None, strike=Decimal(25000)
        )
    )
    order = decision.commands[0]
    await pool.execute(
        "INSERT INTO executor.orders (client_order_id, trade_id, command, status) "
        "VALUES ($1, $2, $3, 'PENDING_SUBMIT')",
        order.client_order_id,
        order.trade_id,
        order.model_dump_json(),
    )
    broker = PaperBroker(CLOCK, PaperFillModel(0.14, Decimal(1), Decimal("0.5"), Decimal(20)))
    executor = ExecutorService(pool, Outbox("executor"), broker, CLOCK, HaltFlag())

    settled = await executor.reconcile_pending()
    await executor.on_submit(order)

    assert settled >= 1
    status = await pool.fetchval(
        "SELECT status FROM executor.orders WHERE client_order_id = $1", order.client_order_id
    )
    fills = await pool.fetchval(
        "SELECT count(*) FROM executor.outbox WHERE key = $1 AND headers->>'type' = 'FillReported'",
        str(order.trade_id),
    )
    assert status == "FILLED"
    assert fills == 1


class RejectingMain(PaperBroker):
    """A paper broker whose exchange refuses every main entry leg."""

    async def submit(self, order: SubmitOrder) -> BrokerResult:
        if order.leg is Leg.MAIN and order.purpose is Purpose.ENTRY:
            return BrokerResult(OrderStatus.REJECTED, None, reason="RMS: margin shortfall")
        return await super().submit(order)


class RejectingHedge(PaperBroker):
    """A paper broker whose exchange refuses every hedge entry leg."""

    async def submit(self, order: SubmitOrder) -> BrokerResult:
        if order.leg is Leg.HEDGE and order.purpose is Purpose.ENTRY:
            return BrokerResult(OrderStatus.REJECTED, None, reason="price band")
        return await super().submit(order)


async def test_executor_when_main_leg_rejected_unwinds_the_filled_hedge(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    risk = _risk(pool, producer, ControlHolder())
    decision = await risk.on_signal(make_signal(signal=SignalName.S7, trading_week=_week()))
    model = PaperFillModel(0.14, Decimal(1), Decimal("0.5"), Decimal(20))
    executor = ExecutorService(
        pool, Outbox("executor"), RejectingMain(CLOCK, model), CLOCK, HaltFlag()
    )

    for command in decision.commands:
        await executor.on_submit(command)

    rows = await pool.fetch(
        "SELECT client_order_id, status, filled_quantity, command->>'side' AS side "
        "FROM executor.orders WHERE trade_id = $1 ORDER BY created_at",
        decision.trade_id,
    )
    summary = [(r["client_order_id"].split("-", 1)[1], r["status"], r["side"]) for r in rows]
    assert summary == [
        ("entry-hedge-0", "FILLED", "BUY"),
        ("entry-main-0", "REJECTED", "SELL"),
        ("unwind-hedge-0", "FILLED", "SELL"),
    ]


async def test_executor_when_hedge_rejected_never_places_the_main_leg(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes]
) -> None:
    risk = _risk(pool, producer, ControlHolder())
    decision = await risk.on_signal(make_signal(signal=SignalName.S8, trading_week=_week()))
    model = PaperFillModel(0.14, Decimal(1), Decimal("0.5"), Decimal(20))
    broker = RejectingHedge(CLOCK, model)
    executor = ExecutorService(pool, Outbox("executor"), broker, CLOCK, HaltFlag())

    for command in decision.commands:
        await executor.on_submit(command)

    rows = await pool.fetch(
        "SELECT client_order_id, status FROM executor.orders WHERE trade_id = $1 "
        "ORDER BY created_at",
        decision.trade_id,
    )
    assert [(r["client_order_id"].split("-", 1)[1], r["status"]) for r in rows] == [
        ("entry-hedge-0", "REJECTED"),
        ("entry-main-0", "REJECTED"),
    ]
    held = await executor.held()
    assert not any(key.endswith(decision.commands[1].instrument.key) for key in held)
