"""Operator safety controls through the running stack."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tests.e2e.conftest import entry_alert, fills_for_signal
from tests.waiting import eventually

pytestmark = pytest.mark.e2e
TOKEN = os.environ.get("OPERATOR_TOKEN", "local-dev-operator-token")
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Operator": "e2e"}


@pytest_asyncio.fixture
async def operator(http: httpx.AsyncClient, ingest_url: str) -> AsyncIterator[Any]:
    async def call(path: str, body: dict[str, Any]) -> httpx.Response:
        return await http.post(f"{ingest_url}{path}", json=body, headers=AUTH)

    yield call
    # Leave the stack as other tests expect it, whatever happened.
    await call("/api/v2/safety/kill-switch", {"engaged": False, "reason": "e2e cleanup"})
    await call("/api/v2/safety/emergency-stop", {"engaged": False, "reason": "e2e cleanup"})


async def _risk_state(http: httpx.AsyncClient) -> str:
    risk = os.environ.get("STRIKEFLOW_RISK_URL", "http://127.0.0.1:18002")
    return str((await http.get(f"{risk}/healthz")).json()["trading_state"])


async def _decision(pool: asyncpg.Pool, signal_id: str) -> tuple[str, list[str]] | None:
    row = await pool.fetchrow(
        "SELECT outcome, reasons FROM ledger.risk_decisions WHERE signal_id = $1::uuid "
        "ORDER BY decided_at DESC LIMIT 1",
        signal_id,
    )
    return (row["outcome"], list(row["reasons"])) if row else None


async def test_kill_switch_when_on_denies_entries_until_cleared(
    http: httpx.AsyncClient, ingest_url: str, operator: Any, ledger_db: asyncpg.Pool
) -> None:
    on = await operator("/api/v2/safety/kill-switch", {"reason": "e2e halt"})
    assert on.status_code == 200
    await eventually(lambda: _risk_state(http), lambda s: s == "HALTED", 5, "halted")

    halted_id = (
        await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S7"))
    ).json()["signal_id"]
    decision = await eventually(
        lambda: _decision(ledger_db, halted_id), lambda d: d is not None, 10, "decision"
    )
    assert decision is not None
    assert decision[0] == "denied"
    assert "kill switch is on" in decision[1][0]

    off = await operator("/api/v2/safety/kill-switch", {"engaged": False, "reason": "e2e clear"})
    assert off.status_code == 200
    await eventually(lambda: _risk_state(http), lambda s: s == "ACTIVE", 5, "active")
    active_id = (
        await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S7"))
    ).json()["signal_id"]
    await eventually(lambda: fills_for_signal(ledger_db, active_id), lambda n: n == 2, 10, "fill")


async def test_emergency_stop_squares_off_every_position_and_stays_halted(
    http: httpx.AsyncClient,
    ingest_url: str,
    monitor_url: str,
    operator: Any,
    ledger_db: asyncpg.Pool,
) -> None:
    ids = [
        (await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert(s))).json()[
            "signal_id"
        ]
        for s in ("S1", "S8")
    ]
    for signal_id in ids:
        await eventually(
            lambda sid=signal_id: fills_for_signal(ledger_db, sid), lambda n: n == 2, 10, "entry"
        )

    response = await operator("/api/v2/safety/emergency-stop", {"reason": "e2e panic"})

    assert response.status_code == 200

    async def open_positions() -> int:
        body = (await http.get(f"{monitor_url}/api/v2/trading/positions")).json()
        return int(body["count"])

    await eventually(open_positions, lambda n: n == 0, 20, "every position flat")
    assert await _risk_state(http) == "HALTED"
    late = (
        await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S2"))
    ).json()["signal_id"]
    decision = await eventually(
        lambda: _decision(ledger_db, late), lambda d: d is not None, 10, "decision"
    )
    assert decision is not None
    assert decision[0] == "denied"


async def test_safety_status_when_kill_switch_set_reports_it_with_who_and_why(
    http: httpx.AsyncClient, monitor_url: str, operator: Any
) -> None:
    await operator("/api/v2/safety/kill-switch", {"reason": "status check"})

    async def status() -> dict[str, Any]:
        return dict((await http.get(f"{monitor_url}/api/v2/safety/status")).json())

    body = await eventually(status, lambda b: b["kill_switch"] is True, 5, "status")
    assert body["trading_state"] == "HALTED"
    assert body["last_changes"]["kill_switch"]["changed_by"] == "e2e"
    assert body["last_changes"]["kill_switch"]["reason"] == "status check"
    # Each service reports the state it applied in its own heartbeat, on its own schedule.
    body = await eventually(
        status,
        lambda b: b["services"].get("risk") == b["services"].get("executor") == "HALTED",
        15,
        "risk and executor heartbeats say HALTED",
    )
    assert body["trading_state"] == "HALTED"


async def test_automation_off_holds_signal_until_operator_approves(
    http: httpx.AsyncClient,
    ingest_url: str,
    monitor_url: str,
    operator: Any,
    ledger_db: asyncpg.Pool,
) -> None:
    await operator("/api/v2/strategy/stop-automation", {"reason": "manual review"})
    try:

        async def risk_knows() -> bool:
            body = (await http.get(f"{monitor_url}/api/v2/safety/status")).json()
            return body["automation"] is False

        await eventually(risk_knows, bool, 5, "automation off")
        signal_id = (
            await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S3"))
        ).json()["signal_id"]

        async def pending() -> list[str]:
            body = (await http.get(f"{monitor_url}/api/v2/strategy/pending")).json()
            return [p["signal_id"] for p in body["pending"]]

        await eventually(pending, lambda ids: signal_id in ids, 10, "pending approval")
        assert await fills_for_signal(ledger_db, signal_id) == 0

        approved = await operator(
            f"/api/v2/strategy/pending/{signal_id}/approve", {"reason": "checked the chart"}
        )
        assert approved.status_code == 200
        await eventually(
            lambda: fills_for_signal(ledger_db, signal_id), lambda n: n == 2, 10, "fills"
        )
        assert signal_id not in await pending()
    finally:
        await operator("/api/v2/strategy/start-automation", {"reason": "review done"})


async def test_validate_order_answers_with_the_same_checks_and_writes_nothing(
    http: httpx.AsyncClient, operator: Any, ledger_db: asyncpg.Pool
) -> None:
    risk = os.environ.get("STRIKEFLOW_RISK_URL", "http://127.0.0.1:18002")
    order = {"signal": "S5", "price": 24100, "trading_week": "2099-W07"}
    trades_before = await ledger_db.fetchval("SELECT count(*) FROM risk.trades")

    fine = (await http.post(f"{risk}/api/v2/safety/validate-order", json=order)).json()
    await operator("/api/v2/safety/kill-switch", {"reason": "validate test"})
    await eventually(lambda: _risk_state(http), lambda s: s == "HALTED", 5, "halted")
    halted = (
        await http.post(
            f"{risk}/api/v2/safety/validate-order",
            json={**order, "limit_price": "300.03", "reference_price": "100"},
        )
    ).json()

    assert fine["would_accept"] is True, fine
    assert [leg["side"] for leg in fine["legs"]] == ["BUY", "SELL"]
    assert halted["would_accept"] is False
    joined = " ".join(halted["reasons"])
    assert "kill switch is on" in joined
    assert "tick" in joined
    assert await ledger_db.fetchval("SELECT count(*) FROM risk.trades") == trades_before


async def test_manual_order_goes_through_the_gate_and_fills(
    http: httpx.AsyncClient, operator: Any, ledger_db: asyncpg.Pool
) -> None:
    order = {
        "reason": "manual hedge",
        "strike": 22000,
        "option_type": "PE",
        "side": "BUY",
        "lots": 1,
        "purpose": "entry",
        "underlying_price": 24000,
    }

    placed = await operator("/api/v2/trading/place-order", order)

    assert placed.status_code == 200, placed.text
    command_id = placed.json()["command_id"]

    async def fills() -> int:
        value = await ledger_db.fetchval(
            "SELECT count(*) FROM ledger.fills f JOIN ledger.risk_decisions d "
            "ON d.trade_id = f.trade_id WHERE d.signal_id = $1::uuid",
            command_id,
        )
        return int(value or 0)

    await eventually(fills, lambda n: n == 1, 10, "manual fill")
    await operator("/api/v2/safety/kill-switch", {"reason": "manual order test"})
    await eventually(lambda: _risk_state(http), lambda s: s == "HALTED", 5, "halted")
    refused = (await operator("/api/v2/trading/place-order", order)).json()["command_id"]
    decision = await eventually(
        lambda: _decision(ledger_db, refused), lambda d: d is not None, 10, "denial"
    )
    assert decision is not None
    assert decision[0] == "denied"
