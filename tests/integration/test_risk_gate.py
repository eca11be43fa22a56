"""The risk gate on real Kafka and PostgreSQL: limits under races, the order-rate budget,
the kill switch across restarts, stop-loss alerts and server-side stops."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi.testclient import TestClient

from libs.common.clock import IST, FixedClock
from libs.common.db import Outbox
from libs.common.kafka import publish
from libs.common.messages import (
    BarClosed,
    ControlKey,
    ControlSet,
    DecisionOutcome,
    Leg,
    RiskDecisionMade,
    Side,
    SignalAction,
    SignalName,
)
from libs.common.topics import CONTROL, ORDER_COMMANDS
from services.executor.app import create_app as create_executor
from services.executor.settings import ExecutorSettings
from services.risk.app import build_outbox
from services.risk.app import create_app as create_risk
from services.risk.service import ControlHolder, RiskService
from services.risk.settings import RiskSettings
from tests.factories import make_signal
from tests.integration.kafka_tools import end_offsets, risk_decision_for
from tests.waiting import eventually

pytestmark = pytest.mark.integration
CLOCK = FixedClock(datetime(2026, 11, 25, 5, 0, tzinfo=UTC))


def _settings(**values: object) -> RiskSettings:
    defaults = {"market_hours": "ignore", "max_open_trades": 10**6, "max_margin": 10**12}
    return RiskSettings.model_validate({**defaults, **values})


def _week() -> str:
    return f"test-week-{uuid.uuid4().hex[:12]}"


async def _open_trades(pool: asyncpg.Pool) -> tuple[int, int]:
    row = await pool.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(lots), 0) AS lots FROM risk.trades "
        "WHERE status = 'open'"
    )
    assert row is not None
    return int(row["n"]), int(row["lots"])


async def test_two_hundred_simultaneous_entries_never_exceed_open_trades_or_margin(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute("UPDATE risk.trades SET status = 'exiting' WHERE status = 'open'")
    settings = _settings(
        max_open_trades=15, lots=2, margin_per_lot=Decimal(50000), max_margin=Decimal(1200000)
    )
    risk = RiskService(pool, Outbox("risk"), CLOCK, ControlHolder(), settings)
    signals = [make_signal(signal=SignalName.S7, trading_week=_week()) for _ in range(200)]

    decisions = await asyncio.gather(*(risk.on_signal(s) for s in signals))

    approved = [d for d in decisions if d.outcome is DecisionOutcome.APPROVED]
    # The margin limit binds first: 1,200,000 / (2 lots x 50,000) = 12 trades.
    assert len(approved) == 12
    assert await _open_trades(pool) == (12, 24)
    assert all(d.outcome is DecisionOutcome.DENIED for d in decisions if d not in approved)


async def test_burst_of_orders_never_exceeds_the_budget_in_any_second(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes], kafka_bootstrap: str
) -> None:
    budget = 10
    settings = _settings(order_rate_per_s=budget, max_open_trades=1000, max_margin=10**12)
    outbox = build_outbox(settings)
    risk = RiskService(pool, outbox, CLOCK, ControlHolder(), settings)
    await outbox.relay(pool, producer)
    before = await end_offsets(kafka_bootstrap, ORDER_COMMANDS.name, ORDER_COMMANDS.partitions)
    signals = [make_signal(signal=SignalName.S1, trading_week=_week()) for _ in range(50)]
    for signal in signals:  # 50 entries x 2 legs = 100 order commands staged at once
        await risk.on_signal(signal)

    await outbox.relay(pool, producer)

    stamps = await _timestamps(kafka_bootstrap, ORDER_COMMANDS.name, before, 100)
    assert len(stamps) == 100
    worst = max(sum(1 for t in stamps if s <= t < s + 1000) for s in stamps)
    assert worst <= budget
    assert (max(stamps) - min(stamps)) / 1000 >= 100 / budget - 1.5


async def _timestamps(bootstrap: str, topic: str, start: dict[int, int], count: int) -> list[int]:
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in start]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start[tp.partition])
        out: list[int] = []
        for _ in range(100):
            batch = await consumer.getmany(timeout_ms=200)
            out.extend(r.timestamp for records in batch.values() for r in records)
            if len(out) >= count:
                break
        return sorted(out)
    finally:
        await consumer.stop()


async def test_stoploss_alert_closes_its_trade_main_first_and_never_opens_one(
    pool: asyncpg.Pool,
) -> None:
    risk = RiskService(pool, Outbox("risk"), CLOCK, ControlHolder(), _settings(max_margin=10**12))
    week = _week()
    orphan = make_signal(signal=SignalName.S2, trading_week=week, action=SignalAction.EXIT)
    entry = make_signal(signal=SignalName.S1, trading_week=week, stop_level=Decimal("23950"))
    stoploss = make_signal(signal=SignalName.S1, trading_week=week, action=SignalAction.EXIT)

    orphan_decision = await risk.on_signal(orphan)
    await risk.on_signal(entry)
    first = await risk.on_signal(stoploss)
    second = await risk.on_signal(stoploss)

    assert orphan_decision.outcome is DecisionOutcome.DENIED
    assert orphan_decision.commands == []
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM risk.trades WHERE latch_key = $1", f"S2|NIFTY|{week}"
        )
        == 0
    )
    assert first.outcome is DecisionOutcome.APPROVED
    assert [(c.leg, c.side) for c in first.commands] == [
        (Leg.MAIN, Side.BUY),
        (Leg.HEDGE, Side.SELL),
    ]
    assert second.outcome is DecisionOutcome.DUPLICATE
    assert second.commands == []


async def test_server_side_stop_when_hourly_close_breaches_closes_trade_once(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute("UPDATE risk.trades SET status = 'exiting' WHERE status = 'open'")
    risk = RiskService(pool, Outbox("risk"), CLOCK, ControlHolder(), _settings(max_margin=10**12))
    week = _week()
    bullish = make_signal(signal=SignalName.S4, trading_week=week, stop_level=Decimal("24000"))
    bearish = make_signal(signal=SignalName.S8, trading_week=week, stop_level=Decimal("24500"))
    await risk.on_signal(bullish)
    await risk.on_signal(bearish)
    start = CLOCK.now() + timedelta(hours=1)

    def bar(close: str) -> BarClosed:
        level = Decimal(close)
        return BarClosed(
            ts_event=start,
            start=start,
            open=level,
            high=level,
            low=level,
            close=level,
            source="test",
        )

    above = await risk.on_bar(bar("24000.05"))
    at_stop = await risk.on_bar(bar("24000"))
    again = await risk.on_bar(bar("23900"))
    exit_signal = await risk.on_signal(
        make_signal(signal=SignalName.S4, trading_week=week, action=SignalAction.EXIT)
    )

    assert (above, at_stop, again) == (0, 1, 0)
    statuses = dict(
        await pool.fetch("SELECT signal, status FROM risk.trades WHERE trading_week = $1", week)
    )
    assert statuses == {"S4": "exiting", "S8": "open"}
    assert exit_signal.outcome is DecisionOutcome.DUPLICATE


async def test_kill_switch_when_risk_and_executor_restart_stays_halted_until_cleared(
    migrated_database: str,
    kafka_bootstrap: str,
    producer: AIOKafkaProducer[bytes, bytes],
) -> None:
    common = {"database_url": migrated_database, "kafka_bootstrap_servers": kafka_bootstrap}
    risk_settings = RiskSettings.model_validate(
        {**common, "market_hours": "ignore", "max_margin": 10**12, "max_open_trades": 10**6}
    )
    executor_settings = ExecutorSettings.model_validate(common)

    async def switch(engaged: bool) -> None:
        await publish(
            producer,
            CONTROL,
            ControlSet(
                ts_event=datetime.now(UTC),
                key=ControlKey.KILL_SWITCH,
                engaged=engaged,
                changed_by="integration",
                reason="restart test",
            ),
            key=ControlKey.KILL_SWITCH.value,
        )

    await switch(True)
    for _ in range(2):  # start, stop, start again: the state comes back from the topic
        with (
            TestClient(create_risk(risk_settings)) as risk,
            TestClient(create_executor(executor_settings)) as executor,
        ):
            assert risk.get("/healthz").json()["trading_state"] == "HALTED"
            assert executor.get("/healthz").json()["trading_state"] == "HALTED"

    with TestClient(create_risk(risk_settings)) as risk:
        denied = await _decide(producer, kafka_bootstrap, SignalName.S5)
        await switch(False)

        async def active() -> str:
            return str(risk.get("/healthz").json()["trading_state"])

        await eventually(active, lambda s: s == "ACTIVE", 10, "kill switch cleared")
        approved = await _decide(producer, kafka_bootstrap, SignalName.S6)

    assert denied.outcome is DecisionOutcome.DENIED
    assert "kill switch is on" in denied.reasons[0]
    assert approved.outcome is DecisionOutcome.APPROVED


async def _decide(
    producer: AIOKafkaProducer[bytes, bytes], bootstrap: str, name: SignalName
) -> RiskDecisionMade:
    return await risk_decision_for(producer, bootstrap, name, _week(), "decision")


async def test_time_square_off_when_t_plus_two_at_1515_closes_open_trades(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute("UPDATE risk.trades SET status = 'exiting' WHERE status = 'open'")
    clock = FixedClock(datetime(2026, 11, 25, 10, 30, tzinfo=IST))
    risk = RiskService(pool, Outbox("risk"), clock, ControlHolder(), _settings())
    decision = await risk.on_signal(make_signal(signal=SignalName.S3, trading_week=_week()))
    assert decision.outcome is DecisionOutcome.APPROVED

    clock.set(datetime(2026, 11, 27, 15, 14, tzinfo=IST))
    early = await risk.square_off_due_trades()
    clock.set(datetime(2026, 11, 27, 15, 15, tzinfo=IST))
    due = await risk.square_off_due_trades()
    again = await risk.square_off_due_trades()

    assert (early, due, again) == (0, 1, 0)
    reason = await pool.fetchval(
        "SELECT exit_reason FROM risk.trades WHERE trade_id = $1", decision.trade_id
    )
    assert reason == "T+2 square-off at 15:15 IST"
