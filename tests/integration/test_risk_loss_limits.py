"""Daily loss limits end to end on real Kafka and PostgreSQL with the paper broker:
risk, executor and ledger run as apps; marks come from hourly bars."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient

from libs.common.clock import SystemClock
from libs.common.kafka import make_producer, publish
from libs.common.messages import (
    BarClosed,
    ControlKey,
    ControlSet,
    Instrument,
    SignalName,
)
from libs.common.topics import (
    CONTROL,
    FILLS,
    MARKET_BARS,
    MARKS,
    ORDER_COMMANDS,
    ORDER_EVENTS,
    RISK_DECISIONS,
    SIGNALS,
    Topic,
)
from services.executor.adapters.paper import model_value
from services.executor.app import create_app as create_executor
from services.executor.settings import ExecutorSettings
from services.ledger.app import create_app as create_ledger
from services.ledger.settings import LedgerSettings
from services.risk.app import create_app as create_risk
from services.risk.settings import RiskSettings
from tests.factories import make_signal
from tests.integration.kafka_tools import start_groups_at_end
from tests.waiting import eventually

pytestmark = pytest.mark.integration
HALT, PANIC = Decimal(1500), Decimal(4000)
PREFIX = f"loss-test-{uuid.uuid4().hex[:8]}"
GROUPS: dict[str, tuple[Topic, ...]] = {
    f"{PREFIX}-risk": (SIGNALS, MARKET_BARS, ORDER_EVENTS),
    f"{PREFIX}-executor": (ORDER_COMMANDS, MARKET_BARS),
    f"{PREFIX}-ledger": (
        SIGNALS,
        RISK_DECISIONS,
        ORDER_COMMANDS,
        ORDER_EVENTS,
        FILLS,
        CONTROL,
        MARKS,
    ),
}


@contextlib.contextmanager
def running(database: str, bootstrap: str) -> Iterator[dict[str, TestClient]]:
    common: dict[str, Any] = {
        "database_url": database,
        "kafka_bootstrap_servers": bootstrap,
        "consumer_group_prefix": PREFIX,
    }
    risk = RiskSettings.model_validate(
        {
            **common,
            "market_hours": "ignore",
            "max_daily_loss": HALT,
            "panic_loss": PANIC,
            "max_margin": 10**12,
            "max_open_trades": 10**6,
        }
    )
    with (
        TestClient(create_ledger(LedgerSettings.model_validate(common))) as ledger,
        TestClient(create_executor(ExecutorSettings.model_validate(common))) as executor,
        TestClient(create_risk(risk)) as risk_app,
    ):
        yield {"risk": risk_app, "executor": executor, "ledger": ledger}


def _net_loss(close: Decimal, legs: list[asyncpg.Record], charges: Decimal) -> Decimal:
    """The loss the paper book shows when the index closes at ``close``."""
    pnl = Decimal(0)
    for leg in legs:
        instrument = Instrument.model_validate(
            {
                "symbol": "NIFTY",
                "expiry": leg["expiry"],
                "strike": leg["strike"],
                "right": leg["option_right"],
            }
        )
        mark = model_value(instrument, close, SystemClock(), 0.14)
        pnl += (mark - leg["average_price"]) * leg["net_quantity"]
    return -(pnl - charges)


async def test_daily_loss_when_limit_crossed_halts_entries_and_panic_flattens_everything(
    fresh_database: str, kafka_bootstrap: str
) -> None:
    await start_groups_at_end(kafka_bootstrap, GROUPS)
    producer = make_producer(kafka_bootstrap, "loss-test")
    await producer.start()
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=2)
    assert pool is not None
    week = f"loss-week-{uuid.uuid4().hex[:8]}"

    async def open_legs() -> list[asyncpg.Record]:
        return list(await pool.fetch("SELECT * FROM ledger.positions WHERE net_quantity <> 0"))

    async def state(apps: dict[str, TestClient]) -> str:
        return str(apps["risk"].get("/healthz").json()["trading_state"])

    async def bar(close: Decimal) -> None:
        now = datetime.now(UTC)
        await publish(
            producer,
            MARKET_BARS,
            BarClosed(
                ts_event=now,
                start=now,
                open=close,
                high=close,
                low=close,
                close=close,
                source="test",
            ),
            key="NIFTY",
        )

    try:
        with running(fresh_database, kafka_bootstrap) as apps:
            entry = make_signal(
                signal=SignalName.S1,
                signal_id=uuid.uuid4(),
                message_id=uuid.uuid4(),
                trading_week=week,
                price=Decimal(24000),
            )
            await publish(producer, SIGNALS, entry, key="NIFTY")
            legs = await eventually(open_legs, lambda rows: len(rows) == 2, 30, "entry legs")
            charges = Decimal(await pool.fetchval("SELECT sum(charges) FROM ledger.fills"))
            closes = [Decimal(24000 - 10 * n) for n in range(300)]
            halt_close = next(
                c
                for c in closes
                if HALT * Decimal("1.1") < _net_loss(c, legs, charges) < PANIC * Decimal("0.9")
            )
            panic_close = next(
                c for c in closes if _net_loss(c, legs, charges) > PANIC * Decimal("1.1")
            )

            await bar(halt_close)

            await eventually(lambda: state(apps), lambda s: s == "REDUCING", 30, "loss halt")
            late = make_signal(
                signal=SignalName.S2,
                signal_id=uuid.uuid4(),
                message_id=uuid.uuid4(),
                trading_week=week,
                price=Decimal(24000),
            )
            await publish(producer, SIGNALS, late, key="NIFTY")

            async def late_decision() -> asyncpg.Record | None:
                return await pool.fetchrow(
                    "SELECT outcome, reasons FROM ledger.risk_decisions WHERE signal_id = $1",
                    late.signal_id,
                )

            decision = await eventually(late_decision, lambda r: r is not None, 30, "denial")
            assert decision is not None
            assert decision["outcome"] == "denied"
            assert "daily loss limit reached" in decision["reasons"][0]
            assert len(await open_legs()) == 2

            await bar(panic_close)

            await eventually(open_legs, lambda rows: rows == [], 30, "every position flat")
            await eventually(lambda: state(apps), lambda s: s == "HALTED", 30, "emergency stop")
            facts = await pool.fetch(
                "SELECT key, engaged, changed_by FROM ledger.control_facts ORDER BY ts_event"
            )
            assert ("loss_halt", True, "risk:daily-loss") in [tuple(f) for f in facts]
            assert ("emergency_stop", True, "risk:daily-loss") in [tuple(f) for f in facts]
    finally:
        for key in (ControlKey.EMERGENCY_STOP, ControlKey.LOSS_HALT):
            await publish(
                producer,
                CONTROL,
                ControlSet(
                    ts_event=datetime.now(UTC),
                    key=key,
                    engaged=False,
                    changed_by="test",
                    reason="test cleanup",
                ),
                key=key.value,
            )
        await producer.stop()
        await pool.close()
