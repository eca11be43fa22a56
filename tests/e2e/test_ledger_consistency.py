"""The ledger's books agree with themselves after real trades through the whole stack: legs with
fills, realised P&L recomputed from fills with trades, legs and positions, charges, the compacted
positions topic, and an audit chain that verifies and holds every one of those facts."""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.common.messages import PositionSnapshot, decode
from libs.common.topics import POSITIONS
from services.ledger import audit_store
from tests.e2e.conftest import entry_alert, fills_for_signal
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

ZERO = Decimal(0)


@dataclass(frozen=True)
class Opened:
    signal: str
    entry: dict[str, Any]
    signal_id: str
    trade_id: uuid.UUID


async def _open(
    http: httpx.AsyncClient, ingest_url: str, pool: asyncpg.Pool, signal: str
) -> Opened:
    alert = entry_alert(signal)
    response = await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=alert)
    assert response.status_code == 202, response.text
    signal_id = response.json()["signal_id"]
    await eventually(lambda: fills_for_signal(pool, signal_id), lambda n: n == 2, 10, "entry")
    trade_id = await pool.fetchval(
        "SELECT trade_id FROM ledger.risk_decisions WHERE signal_id = $1::uuid "
        "AND outcome = 'approved'",
        signal_id,
    )
    return Opened(signal, alert, signal_id, trade_id)


async def _close(http: httpx.AsyncClient, ingest_url: str, opened: Opened, word: str) -> str:
    response = await http.post(
        f"{ingest_url}/api/v2/webhook/tradingview", json={**opened.entry, "action": word}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["signal_id"])


async def _status(pool: asyncpg.Pool, trade_id: uuid.UUID) -> str | None:
    value = await pool.fetchval("SELECT status FROM ledger.trades WHERE trade_id = $1", trade_id)
    return str(value) if value is not None else None


def _signed(side: str, quantity: int) -> int:
    return quantity if side == "BUY" else -quantity


def _cash(side: str, quantity: int, price: Decimal) -> Decimal:
    """Money received (sell) or paid (buy), before charges."""
    return price * quantity * (1 if side == "SELL" else -1)


async def _assert_trade_agrees_with_its_fills(
    pool: asyncpg.Pool, trade_id: uuid.UUID, closed: bool
) -> asyncpg.Record:
    trade = await pool.fetchrow("SELECT * FROM ledger.trades WHERE trade_id = $1", trade_id)
    legs = await pool.fetch("SELECT * FROM ledger.trade_legs WHERE trade_id = $1", trade_id)
    fills = await pool.fetch(
        "SELECT * FROM ledger.fills WHERE trade_id = $1 ORDER BY filled_at, fill_id", trade_id
    )
    assert trade is not None
    assert trade["status"] == ("closed" if closed else "open")
    assert trade["fills"] == len(fills)
    by_leg: dict[tuple[str, str], list[asyncpg.Record]] = defaultdict(list)
    for f in fills:
        by_leg[(f["leg"].upper(), f["instrument_key"])].append(f)
    assert {(g["leg"], g["instrument_key"]) for g in legs} == set(by_leg)
    assert {g["leg"] for g in legs} == {"MAIN", "HEDGE"}

    for g in legs:
        mine = by_leg[(g["leg"], g["instrument_key"])]
        entries = [f for f in mine if f["purpose"] == "entry"]
        exits = [f for f in mine if f["purpose"] == "exit"]
        assert g["quantity"] == sum(f["quantity"] for f in entries)
        assert g["exit_quantity"] == sum(f["quantity"] for f in exits)
        assert g["net_quantity"] == sum(_signed(f["side"], f["quantity"]) for f in mine)
        assert g["charges"] == sum((f["charges"] for f in mine), ZERO)
        assert g["average_entry_price"] == (
            sum((f["price"] * f["quantity"] for f in entries), ZERO) / g["quantity"]
        )
        assert g["entry_side"] == entries[0]["side"]
        if closed:
            assert g["net_quantity"] == 0
            assert g["realized_pnl"] == sum(
                (_cash(f["side"], f["quantity"], f["price"]) for f in mine), ZERO
            )
            assert g["average_exit_price"] == (
                sum((f["price"] * f["quantity"] for f in exits), ZERO) / g["exit_quantity"]
            )
        else:
            assert g["realized_pnl"] == 0
            assert g["average_exit_price"] is None

    realized = sum((g["realized_pnl"] for g in legs), ZERO)
    charges = sum((f["charges"] for f in fills), ZERO)
    assert trade["realized_pnl"] == realized
    assert trade["charges"] == charges == sum((g["charges"] for g in legs), ZERO)
    assert trade["net_pnl"] == realized - charges
    if closed:
        assert trade["closed_at"] == max(f["filled_at"] for f in fills)
        # The positions projection keeps one average cost per contract across trades: its
        # per-fill realised P&L adds up to the trade's figure when no other trade touched them.
        shared = await pool.fetchval(
            "SELECT count(*) FROM ledger.fills WHERE trade_id <> $1 "
            "AND instrument_key = ANY($2::text[])",
            trade_id,
            list({f["instrument_key"] for f in fills}),
        )
        if shared == 0:
            assert sum((f["realized_pnl"] for f in fills), ZERO) == realized
    return trade


async def _assert_positions_agree_with_fills(pool: asyncpg.Pool, keys: set[str]) -> None:
    for key in keys:
        position = await pool.fetchrow(
            "SELECT * FROM ledger.positions WHERE instrument_key = $1", key
        )
        fills = await pool.fetch("SELECT * FROM ledger.fills WHERE instrument_key = $1", key)
        assert position is not None
        assert position["net_quantity"] == sum(_signed(f["side"], f["quantity"]) for f in fills)
        assert position["charges"] == sum((f["charges"] for f in fills), ZERO)
        assert position["realized_pnl"] == sum((f["realized_pnl"] for f in fills), ZERO)
        if position["net_quantity"] == 0:
            assert position["realized_pnl"] == sum(
                (_cash(f["side"], f["quantity"], f["price"]) for f in fills), ZERO
            )
        # Trades that share the contract (same strike and expiry) split the position between
        # their legs: the legs' open quantities add up to it, and once every one of them is flat
        # their realised P&L adds up to the position's.
        legs = await pool.fetch(
            "SELECT net_quantity, realized_pnl FROM ledger.trade_legs WHERE instrument_key = $1",
            key,
        )
        assert sum(g["net_quantity"] for g in legs) == position["net_quantity"]
        if all(g["net_quantity"] == 0 for g in legs):
            assert sum((g["realized_pnl"] for g in legs), ZERO) == position["realized_pnl"]


async def _latest_snapshots(keys: set[str]) -> dict[str, PositionSnapshot]:
    """The newest snapshot per instrument on the compacted positions topic."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    assert bootstrap, "KAFKA_BOOTSTRAP_SERVERS is not set"
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(POSITIONS.name, p) for p in range(POSITIONS.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        latest: dict[str, PositionSnapshot] = {}

        async def drained() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    message = decode(record.value or b"")
                    if isinstance(message, PositionSnapshot) and message.instrument.key in keys:
                        latest[message.instrument.key] = message
            return all([await consumer.position(tp) >= ends[tp] for tp in tps])

        await eventually(drained, bool, 15, "positions topic read to its end")
        return latest
    finally:
        await consumer.stop()


async def test_books_agree_after_entries_exit_and_stop_loss(
    http: httpx.AsyncClient, ingest_url: str, ledger_db: asyncpg.Pool
) -> None:
    pool = ledger_db
    exited = await _open(http, ingest_url, pool, "S1")
    stopped = await _open(http, ingest_url, pool, "S3")
    held = await _open(http, ingest_url, pool, "S2")

    exit_id = await _close(http, ingest_url, exited, "Exit")
    stop_id = await _close(http, ingest_url, stopped, "Stoploss")
    for trade_id in (exited.trade_id, stopped.trade_id):

        async def status(trade_id: uuid.UUID = trade_id) -> str | None:
            return await _status(pool, trade_id)

        await eventually(status, lambda s: s == "closed", 15, f"trade {trade_id} closed")
    assert await _status(pool, held.trade_id) == "open"

    trades = {
        o.trade_id: await _assert_trade_agrees_with_its_fills(pool, o.trade_id, closed)
        for o, closed in ((exited, True), (stopped, True), (held, False))
    }
    assert trades[exited.trade_id]["direction"] == "bullish"
    assert trades[stopped.trade_id]["direction"] == "bearish"
    assert trades[exited.trade_id]["option_type"] == "PE"
    assert trades[stopped.trade_id]["option_type"] == "CE"

    ids = [o.trade_id for o in (exited, stopped, held)]
    keys = {
        r["instrument_key"]
        for r in await pool.fetch(
            "SELECT DISTINCT instrument_key FROM ledger.fills WHERE trade_id = ANY($1)", ids
        )
    }
    await _assert_positions_agree_with_fills(pool, keys)

    snapshots = await _latest_snapshots(keys)
    positions = {
        r["instrument_key"]: r["net_quantity"]
        for r in await pool.fetch(
            "SELECT instrument_key, net_quantity FROM ledger.positions "
            "WHERE instrument_key = ANY($1)",
            list(keys),
        )
    }
    assert {k: s.net_quantity for k, s in snapshots.items()} == positions

    async with pool.acquire() as conn:
        chain = await audit_store.verify(conn)
    assert chain.broken is None, chain.broken
    await _assert_audited(pool, ids, [exited, stopped, held], [exit_id, stop_id], trades)


async def _assert_audited(
    pool: asyncpg.Pool,
    ids: list[uuid.UUID],
    opened: list[Opened],
    exit_signal_ids: list[str],
    trades: dict[uuid.UUID, asyncpg.Record],
) -> None:
    fill_ids = {
        r["fill_id"]
        for r in await pool.fetch("SELECT fill_id FROM ledger.fills WHERE trade_id = ANY($1)", ids)
    }
    audited_fills = {
        r["fill_id"]
        for r in await pool.fetch(
            "SELECT payload->>'fill_id' AS fill_id FROM ledger.audit_log WHERE kind = 'fill' "
            "AND payload->>'trade_id' = ANY($1)",
            [str(i) for i in ids],
        )
    }
    assert audited_fills == fill_ids
    assert len(fill_ids) == 10  # two legs in and out for two trades, two legs in for one

    signal_ids = [o.signal_id for o in opened] + exit_signal_ids
    audited_signals = {
        r["sid"]
        for r in await pool.fetch(
            "SELECT payload->>'signal_id' AS sid FROM ledger.audit_log WHERE kind = 'signal' "
            "AND payload->>'signal_id' = ANY($1)",
            signal_ids,
        )
    }
    assert audited_signals == set(signal_ids)

    decided = await pool.fetchval(
        "SELECT count(DISTINCT payload->>'signal_id') FROM ledger.audit_log "
        "WHERE kind = 'decision' AND payload->>'signal_id' = ANY($1)",
        signal_ids,
    )
    assert decided == len(signal_ids)

    closed = await pool.fetch(
        "SELECT ref, payload::text AS payload FROM ledger.audit_log WHERE kind = 'trade_closed' "
        "AND ref = ANY($1)",
        [str(i) for i in ids],
    )
    assert len(closed) == 2
    for row in closed:
        payload = json.loads(row["payload"])
        assert Decimal(payload["net_pnl"]) == trades[uuid.UUID(row["ref"])]["net_pnl"]
