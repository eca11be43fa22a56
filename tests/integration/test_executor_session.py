"""The live Breeze session: an expired session stops entries within a second of detection, a
pasted session resumes trading only after reconciliation, and a position the executor does not
know about halts trading at start-up. Real SDK, simulator, Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from libs.common.clock import IST
from libs.common.kafka import publish
from libs.common.messages import (
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    DecisionOutcome,
    RiskDecisionMade,
    SignalName,
)
from libs.common.topics import (
    BROKER_STATUS,
    CONTROL,
    MARKET_BARS,
    ORDER_COMMANDS,
    ORDER_EVENTS,
    SIGNALS,
)
from services.executor.app import create_app as create_executor
from services.risk.app import create_app as create_risk
from services.risk.settings import RiskSettings
from tests.integration import test_breeze_sim_sdk as sim_sdk
from tests.integration.kafka_tools import (
    end_offsets,
    read_from,
    risk_decision_for,
    start_groups_at_end,
)
from tests.integration.test_executor_live_sim import live_settings
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("control_cleared_after")]
TOKEN = "session-test-operator-token"
guard, sim, control, api_session, expiry = (
    sim_sdk.guard,
    sim_sdk.sim,
    sim_sdk.control,
    sim_sdk.api_session,
    sim_sdk.expiry,
)


def _week() -> str:
    year, week, _ = datetime.now(IST).date().isocalendar()
    return f"{year}-W{week:02d}-{uuid.uuid4().hex[:6]}"


async def _decision(
    producer: AIOKafkaProducer[bytes, bytes], bootstrap: str, name: SignalName
) -> RiskDecisionMade:
    return await risk_decision_for(producer, bootstrap, name, _week(), "risk decision")


async def _groups_at_end(bootstrap: str, prefix: str) -> None:
    await start_groups_at_end(
        bootstrap,
        {
            f"{prefix}-executor": (ORDER_COMMANDS, MARKET_BARS),
            f"{prefix}-risk": (SIGNALS, MARKET_BARS, ORDER_EVENTS),
        },
    )


async def test_expired_session_stops_entries_within_a_second_and_a_paste_resumes_them(
    sim: Any,
    control: httpx.Client,
    api_session: str,
    expiry: date,
    fresh_database: str,
    kafka_bootstrap: str,
    producer: AIOKafkaProducer[bytes, bytes],
    broker_ready_after: None,
) -> None:
    prefix = f"session-{uuid.uuid4().hex[:8]}"
    await _groups_at_end(kafka_bootstrap, prefix)
    executor_settings = live_settings(
        sim.url,
        api_session,
        fresh_database,
        kafka_bootstrap,
        prefix,
        session_probe_interval_s=0.2,
        operator_token=TOKEN,
    )
    risk_settings = RiskSettings.model_validate(
        {
            "database_url": fresh_database,
            "kafka_bootstrap_servers": kafka_bootstrap,
            "consumer_group_prefix": prefix,
            "market_hours": "ignore",
            "max_margin": 10**12,
            "max_open_trades": 10**6,
        }
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with (
        TestClient(create_executor(executor_settings)) as executor,
        TestClient(create_risk(risk_settings)) as risk,
    ):
        state = executor.get("/api/v2/broker/session").json()
        assert state["session_valid"] is True
        assert state["reconciled"] is True
        assert state["seconds_to_expiry"] > 0
        assert api_session not in executor.get("/api/v2/broker/session").text

        # Other tests' losing trades on the shared pnl topic may have opened the breaker on
        # replay: an operator reset starts this test from a closed breaker.
        await publish(
            producer,
            CONTROL,
            ControlSet(
                ts_event=datetime.now(UTC),
                key=ControlKey.CIRCUIT,
                values={"state": "closed", "reason": ""},
                changed_by="integration",
                reason="session test starts closed",
            ),
            key=ControlKey.CIRCUIT.value,
        )

        async def risk_state() -> str:
            return str(risk.get("/healthz").json()["trading_state"])

        await eventually(risk_state, lambda s: s == "ACTIVE", 20, "risk active")
        status_from = await end_offsets(kafka_bootstrap, BROKER_STATUS.name, 1)
        control_from = await end_offsets(kafka_bootstrap, CONTROL.name, 1)
        control.post("/sessions/expire").raise_for_status()  # noqa: ASYNC212

        async def invalid() -> list[BrokerStatusChanged]:
            found = await read_from(kafka_bootstrap, BROKER_STATUS.name, status_from, 10, 300)
            return [m for m in found if isinstance(m, BrokerStatusChanged) and not m.session_valid]

        [detected] = await eventually(invalid, lambda s: len(s) >= 1, 20, "session invalid")

        async def breaker_opened() -> list[ControlSet]:
            found = await read_from(kafka_bootstrap, CONTROL.name, control_from, 10, 300)
            return [
                m
                for m in found
                if isinstance(m, ControlSet)
                and m.key is ControlKey.CIRCUIT
                and m.values.get("state") == "open"
            ]

        [opened] = await eventually(breaker_opened, lambda s: len(s) >= 1, 20, "entries stopped")
        reaction = (opened.ts_event - detected.ts_event).total_seconds()
        assert reaction < 1.0, f"entries stopped {reaction:.3f}s after detection"
        denied = await _decision(producer, kafka_bootstrap, SignalName.S5)
        assert denied.outcome is DecisionOutcome.DENIED
        assert any("broker" in r for r in denied.reasons), denied.reasons

        # The paste route: token first, then the value's shape, then the broker's word.
        assert executor.post("/api/v2/broker/session", json={"api_session": "1"}).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token-at-all"}
        reply = executor.post("/api/v2/broker/session", json={"api_session": "1"}, headers=wrong)
        assert reply.status_code == 403
        reply = executor.post("/api/v2/broker/session", json={"api_session": "x1"}, headers=auth)
        assert reply.status_code == 422
        assert "digits" in reply.text
        reply = executor.post(
            "/api/v2/broker/session", json={"api_session": "99999999"}, headers=auth
        )
        assert reply.status_code == 422
        assert "refused" in reply.text
        assert executor.get("/api/v2/broker/session").json()["session_valid"] is False

        fresh = control.post("/sessions", json={}).json()["api_session"]  # noqa: ASYNC212
        status_from = await end_offsets(kafka_bootstrap, BROKER_STATUS.name, 1)
        reply = executor.post("/api/v2/broker/session", json={"api_session": fresh}, headers=auth)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["session_valid"] is True
        assert body["reconciled"] is True
        assert body["trading_resumes"] is True
        assert fresh not in reply.text

        async def valid_again() -> list[BrokerStatusChanged]:
            found = await read_from(kafka_bootstrap, BROKER_STATUS.name, status_from, 10, 300)
            return [m for m in found if isinstance(m, BrokerStatusChanged) and m.session_valid]

        [ready] = await eventually(valid_again, lambda s: len(s) >= 1, 20, "session valid")
        assert ready.reconciled is True
        assert ready.expires_at is not None

        async def risk_admits() -> RiskDecisionMade:
            return await _decision(producer, kafka_bootstrap, SignalName.S6)

        approved = await eventually(
            risk_admits, lambda d: d.outcome is DecisionOutcome.APPROVED, 30, "entries resume"
        )
        assert approved.outcome is DecisionOutcome.APPROVED

        async def orders_at_broker() -> list[dict[str, Any]]:
            return list(sim_sdk.book(control)["orders"])

        placed = await eventually(orders_at_broker, lambda o: len(o) == 2, 30, "hedge and main")
        assert {o["action"].lower() for o in placed} == {"buy", "sell"}


async def test_start_when_broker_holds_an_unknown_position_turns_the_kill_switch_on(
    sim: Any,
    control: httpx.Client,
    api_session: str,
    expiry: date,
    fresh_database: str,
    kafka_bootstrap: str,
    broker_ready_after: None,
) -> None:
    prefix = f"mismatch-{uuid.uuid4().hex[:8]}"
    await _groups_at_end(kafka_bootstrap, prefix)
    sim_sdk.set_quote(control, expiry, ltp="120", best_bid_price="119.5", best_offer_price="120.5")
    outside = sim_sdk.create_breeze_client(sim_sdk.APP_KEY, sim.url)
    outside.generate_session(api_secret=sim_sdk.SECRET, session_token=api_session)
    placed = sim_sdk.place(outside, expiry, action="buy", quantity="65", price="121")
    assert placed["Status"] == 200, placed
    control_from = await end_offsets(kafka_bootstrap, CONTROL.name, 1)
    settings = live_settings(
        sim.url, api_session, fresh_database, kafka_bootstrap, prefix, operator_token=TOKEN
    )
    with TestClient(create_executor(settings)) as executor:
        state = executor.get("/api/v2/broker/session").json()

        async def halted() -> list[ControlSet]:
            found = await read_from(kafka_bootstrap, CONTROL.name, control_from, 10, 300)
            return [
                m
                for m in found
                if isinstance(m, ControlSet)
                and m.key is ControlKey.KILL_SWITCH
                and m.engaged
                and m.changed_by == "executor:reconciliation"
            ]

        [fact] = await eventually(halted, lambda s: len(s) == 1, 20, "kill switch on")
    mismatches = state["last_reconciliation"]["mismatches"]
    [(key, counts)] = mismatches.items()
    assert key.endswith("-25000-CE")
    assert counts == {"executor": 0, "broker": 65}
    assert key in fact.reason
