"""Webhook in, paper position out, through every service of the running stack."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import WEBHOOK_SECRET, entry_alert, fills_for_signal
from tests.waiting import eventually

pytestmark = pytest.mark.e2e


async def test_health_when_stack_up_reports_ok(http: httpx.AsyncClient, monitor_url: str) -> None:
    response = await http.get(f"{monitor_url}/api/v2/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    for part in ("kafka", "postgres", "ingest", "risk", "executor", "ledger", "monitor"):
        assert body["components"][part]["status"] == "ok", body


async def test_readme_alert_when_posted_shows_paper_position_within_two_seconds(
    http: httpx.AsyncClient, ingest_url: str, monitor_url: str
) -> None:
    alert = {
        "secret": WEBHOOK_SECRET,
        "signal": "S1",
        "action": "sell",
        "symbol": "NIFTY",
        "price": "24250",
    }
    before = {
        p["instrument"]: p
        for p in (await http.get(f"{monitor_url}/api/v2/trading/positions")).json()["positions"]
    }
    started = time.monotonic()

    response = await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=alert)

    assert response.status_code == 202, response.text
    assert response.json()["signal_id"]

    async def changed() -> list[dict[str, object]]:
        body = (await http.get(f"{monitor_url}/api/v2/trading/positions")).json()
        return [p for p in body["positions"] if before.get(p["instrument"]) != p]

    moved = await eventually(changed, lambda rows: len(rows) >= 2, 2.0, "positions")
    assert time.monotonic() - started < 2.0
    strikes = {(p["strike"], p["option_type"]) for p in moved}
    assert (
        ("24250.00", "PE") in strikes
        or ("24200.00", "PE") in strikes
        or any(s[1] == "PE" for s in strikes)
    )


async def test_same_alert_twenty_times_sequentially_opens_one_trade(
    http: httpx.AsyncClient, ingest_url: str, ledger_db: asyncpg.Pool
) -> None:
    alert = entry_alert("S2")
    ids = set()
    for _ in range(20):
        response = await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=alert)
        assert response.status_code == 202
        ids.add(response.json()["signal_id"])
    assert len(ids) == 1
    signal_id = ids.pop()

    await eventually(lambda: fills_for_signal(ledger_db, signal_id), lambda n: n == 2, 5, "fills")
    await _assert_one_trade(ledger_db, signal_id)


async def test_same_alert_twenty_times_at_once_opens_one_trade(
    http: httpx.AsyncClient, ingest_url: str, ledger_db: asyncpg.Pool
) -> None:
    alert = entry_alert("S3")

    responses = await asyncio.gather(
        *(http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=alert) for _ in range(20))
    )

    assert all(r.status_code == 202 for r in responses)
    ids = {r.json()["signal_id"] for r in responses}
    assert len(ids) == 1
    signal_id = ids.pop()
    await eventually(lambda: fills_for_signal(ledger_db, signal_id), lambda n: n == 2, 5, "fills")
    await _assert_one_trade(ledger_db, signal_id)


async def _assert_one_trade(pool: asyncpg.Pool, signal_id: str) -> None:
    async def settled() -> tuple[int, int]:
        row = await pool.fetchrow(
            "SELECT (SELECT deliveries FROM ledger.signals WHERE signal_id = $1::uuid) AS seen, "
            "(SELECT count(*) FROM ledger.risk_decisions WHERE signal_id = $1::uuid) AS decided",
            signal_id,
        )
        assert row is not None
        return int(row["seen"] or 0), int(row["decided"] or 0)

    # Every delivery that reached Kafka has been decided by risk and booked by the ledger.
    await eventually(settled, lambda sd: sd[0] >= 1 and sd[0] == sd[1], 10, "decisions")
    approved = await pool.fetchval(
        "SELECT count(*) FROM ledger.risk_decisions WHERE signal_id = $1::uuid "
        "AND outcome = 'approved'",
        signal_id,
    )
    orders = await pool.fetchval(
        "SELECT count(*) FROM ledger.orders o JOIN ledger.risk_decisions d "
        "ON d.trade_id = o.trade_id WHERE d.signal_id = $1::uuid AND d.outcome = 'approved'",
        signal_id,
    )
    assert approved == 1
    assert orders == 2
    assert await fills_for_signal(pool, signal_id) == 2


async def test_exit_alert_when_trade_open_closes_both_legs(
    http: httpx.AsyncClient, ingest_url: str, ledger_db: asyncpg.Pool
) -> None:
    entry = entry_alert("S4")
    exit_alert = {**entry, "action": "Stoploss"}
    entry_id = (await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry)).json()[
        "signal_id"
    ]
    await eventually(lambda: fills_for_signal(ledger_db, entry_id), lambda n: n == 2, 5, "entry")

    for _ in range(3):
        response = await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=exit_alert)
        assert response.status_code == 202

    async def legs() -> list[asyncpg.Record]:
        return await ledger_db.fetch(
            "SELECT f.purpose, f.leg, f.side, f.quantity FROM ledger.fills f "
            "JOIN ledger.risk_decisions d ON d.trade_id = f.trade_id "
            "WHERE d.signal_id = $1::uuid AND d.outcome = 'approved' ORDER BY f.filled_at",
            entry_id,
        )

    rows = await eventually(legs, lambda r: len(r) >= 4, 5, "exit fills")
    exits = [(r["leg"], r["side"]) for r in rows if r["purpose"] == "exit"]
    assert exits == [("main", "BUY"), ("hedge", "SELL")]
