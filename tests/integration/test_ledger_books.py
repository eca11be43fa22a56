"""The ledger's books on real PostgreSQL (and Kafka for position snapshots): trades and legs,
the hash-chained audit log, the brief's views, the audit route and the backfill of 0006."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from yoyo import get_backend, read_migrations

from libs.common.clock import FixedClock
from libs.common.messages import (
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    DecisionOutcome,
    FillReported,
    Instrument,
    Leg,
    Message,
    OptionRight,
    PositionSnapshot,
    Purpose,
    ResolvePending,
    Side,
    SignalAction,
    SignalName,
    SquareOffAll,
    TradingState,
)
from libs.common.migrate import MIGRATIONS_DIR, apply_migrations, yoyo_url
from libs.common.topics import POSITIONS
from services.ledger import audit_store
from services.ledger.service import LedgerService
from services.monitor.audit_api import router as audit_router
from tests.factories import (
    T0,
    make_fill,
    make_order,
    make_order_filled,
    make_order_rejected,
    make_risk_decision,
    make_signal,
    make_state_change,
)
from tests.integration.kafka_tools import end_offsets, read_from

pytestmark = pytest.mark.integration

MAIN_ENTRY, MAIN_EXIT = Decimal("101.35"), Decimal("90.00")
HEDGE_ENTRY, HEDGE_EXIT = Decimal("20.50"), Decimal("12.25")
QTY = 65
# main: (101.35 - 90.00) * 65 = 737.75; hedge: (12.25 - 20.50) * 65 = -536.25
REALISED = Decimal("201.50")


@dataclass(frozen=True)
class ScriptedTrade:
    """The facts of one hedged S1 trade, entry and exit, with ids no other test uses."""

    trade_id: uuid.UUID
    main: Instrument
    hedge: Instrument
    entry: list[Message]
    exit: list[Message]
    charges: Decimal

    @property
    def fills(self) -> list[FillReported]:
        return [m for m in (*self.entry, *self.exit) if isinstance(m, FillReported)]


def scripted_trade(
    charges: tuple[str, str, str, str] = ("5.10", "31.42", "28.05", "4.90"),
) -> ScriptedTrade:
    """Hedge bought and main sold on entry; main bought back and hedge sold on exit."""
    trade_id = uuid.uuid4()
    expiry = date(2031, 1, 7) + timedelta(weeks=random.randrange(0, 52 * 40))
    strike = Decimal(20000 + 50 * random.randrange(0, 100))
    main = Instrument(symbol="NIFTY", expiry=expiry, strike=strike, right=OptionRight.PE)
    hedge = Instrument(symbol="NIFTY", expiry=expiry, strike=strike - 200, right=OptionRight.PE)
    week = f"{expiry.isocalendar().year}-W{expiry.isocalendar().week:02d}"
    entry_signal = make_signal(dedup_key=f"S1|NIFTY|{week}|entry|{trade_id}", trading_week=week)
    exit_signal = make_signal(
        dedup_key=f"S1|NIFTY|{week}|exit|{trade_id}",
        action=SignalAction.EXIT,
        trading_week=week,
        ts_event=T0 + timedelta(hours=2),
    )
    c = [Decimal(x) for x in charges]

    def leg(
        purpose: Purpose,
        lg: Leg,
        inst: Instrument,
        side: Side,
        price: Decimal,
        fee: Decimal,
        h: int,
    ) -> list[Message]:
        signal = entry_signal if purpose is Purpose.ENTRY else exit_signal
        cid = f"{trade_id}-{purpose.value}-{lg.value}-0"
        at = T0 + timedelta(hours=h)
        common: dict[str, Any] = {"client_order_id": cid, "trade_id": trade_id, "ts_event": at}
        return [
            make_order(
                **common,
                signal_id=signal.signal_id,
                purpose=purpose,
                leg=lg,
                instrument=inst,
                side=side,
                quantity=QTY,
            ),
            make_order_filled(**common, average_price=price, filled_quantity=QTY),
            make_fill(
                **common,
                fill_id=f"fill-{cid}",
                signal_id=signal.signal_id,
                purpose=purpose,
                leg=lg,
                instrument=inst,
                side=side,
                quantity=QTY,
                price=price,
                charges=fee,
            ),
        ]

    decision = make_risk_decision(signal_id=entry_signal.signal_id, trade_id=trade_id)
    exit_decision = make_risk_decision(
        signal_id=exit_signal.signal_id, trade_id=trade_id, action=SignalAction.EXIT
    )
    entry = [
        entry_signal,
        decision,
        *leg(Purpose.ENTRY, Leg.HEDGE, hedge, Side.BUY, HEDGE_ENTRY, c[0], 0),
        *leg(Purpose.ENTRY, Leg.MAIN, main, Side.SELL, MAIN_ENTRY, c[1], 0),
    ]
    exit_ = [
        exit_signal,
        exit_decision,
        *leg(Purpose.EXIT, Leg.MAIN, main, Side.BUY, MAIN_EXIT, c[2], 2),
        *leg(Purpose.EXIT, Leg.HEDGE, hedge, Side.SELL, HEDGE_EXIT, c[3], 2),
    ]
    return ScriptedTrade(trade_id, main, hedge, entry, exit_, sum(c, Decimal(0)))


async def book(ledger: LedgerService, messages: list[Message]) -> None:
    for message in messages:
        await ledger.handle(message)  # type: ignore[arg-type]


async def _trade(pool: asyncpg.Pool, trade_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM ledger.trades WHERE trade_id = $1", trade_id)


async def _legs(pool: asyncpg.Pool, trade_id: uuid.UUID) -> dict[str, asyncpg.Record]:
    rows = await pool.fetch("SELECT * FROM ledger.trade_legs WHERE trade_id = $1", trade_id)
    return {r["leg"]: r for r in rows}


# ---- trades and legs ------------------------------------------------------------------------


async def test_trade_when_hedged_entry_filled_is_open_with_both_legs(pool: asyncpg.Pool) -> None:
    script = scripted_trade()

    await book(LedgerService(pool), script.entry)

    trade = await _trade(pool, script.trade_id)
    legs = await _legs(pool, script.trade_id)
    assert trade is not None
    assert (trade["status"], trade["closed_at"], trade["signal"]) == ("open", None, "S1")
    assert (trade["option_type"], trade["direction"], trade["fills"]) == ("PE", "bullish", 2)
    assert set(legs) == {"MAIN", "HEDGE"}
    assert legs["MAIN"]["net_quantity"] == -QTY
    assert legs["MAIN"]["entry_side"] == "SELL"
    assert legs["MAIN"]["average_entry_price"] == MAIN_ENTRY
    assert legs["HEDGE"]["net_quantity"] == QTY
    assert legs["HEDGE"]["average_exit_price"] is None
    assert trade["realized_pnl"] == 0


async def test_trade_when_every_leg_closed_has_realised_charges_and_net(
    pool: asyncpg.Pool,
) -> None:
    script = scripted_trade()

    await book(LedgerService(pool), [*script.entry, *script.exit])

    trade = await _trade(pool, script.trade_id)
    legs = await _legs(pool, script.trade_id)
    assert trade is not None
    assert trade["status"] == "closed"
    assert trade["closed_at"] == T0 + timedelta(hours=2)
    assert trade["realized_pnl"] == REALISED
    assert trade["charges"] == script.charges
    assert trade["net_pnl"] == REALISED - script.charges
    assert legs["MAIN"]["realized_pnl"] == Decimal("737.75")
    assert legs["MAIN"]["average_exit_price"] == MAIN_EXIT
    assert legs["MAIN"]["exit_quantity"] == QTY
    assert legs["HEDGE"]["realized_pnl"] == Decimal("-536.25")
    assert legs["MAIN"]["charges"] + legs["HEDGE"]["charges"] == script.charges
    closed = await pool.fetch(
        "SELECT payload FROM ledger.audit_log WHERE kind = 'trade_closed' AND ref = $1",
        str(script.trade_id),
    )
    assert len(closed) == 1
    assert Decimal(json.loads(closed[0]["payload"])["net_pnl"]) == REALISED - script.charges


@pytest.mark.parametrize("right", [OptionRight.PE, OptionRight.CE])
async def test_trade_when_only_the_hedge_fill_is_known_takes_direction_from_it(
    pool: asyncpg.Pool, right: OptionRight
) -> None:
    script = scripted_trade()
    hedge_fill = next(f for f in script.fills if f.leg is Leg.HEDGE)
    hedge = script.hedge.model_copy(update={"right": right})

    await LedgerService(pool).handle(hedge_fill.model_copy(update={"instrument": hedge}))

    trade = await _trade(pool, script.trade_id)
    assert trade is not None
    # a bought put hedges a sold put (bullish); a bought call hedges a sold call (bearish)
    expected = "bullish" if right is OptionRight.PE else "bearish"
    assert (trade["option_type"], trade["direction"]) == (right.value, expected)


async def test_trade_when_its_fills_are_booked_concurrently_counts_every_fill(
    pool: asyncpg.Pool,
) -> None:
    script = scripted_trade()
    ledger = LedgerService(pool)
    entries = [f for f in script.fills if f.purpose is Purpose.ENTRY]
    exits = [f for f in script.fills if f.purpose is Purpose.EXIT]

    await asyncio.gather(*(ledger.handle(f) for f in entries))
    await asyncio.gather(*(ledger.handle(f) for f in exits))

    trade = await _trade(pool, script.trade_id)
    closed = await pool.fetchval(
        "SELECT count(*) FROM ledger.audit_log WHERE kind = 'trade_closed' AND ref = $1",
        str(script.trade_id),
    )
    assert trade is not None
    assert (trade["status"], trade["fills"], trade["realized_pnl"]) == ("closed", 4, REALISED)
    assert closed == 1


async def test_position_when_first_fills_of_an_instrument_are_booked_at_once_adds_them_all(
    pool: asyncpg.Pool,
) -> None:
    instrument = scripted_trade().main
    fills = [
        make_fill(
            fill_id=f"f-{uuid.uuid4().hex}",
            trade_id=uuid.uuid4(),
            instrument=instrument,
            side=Side.SELL,
            quantity=QTY,
        )
        for _ in range(6)
    ]

    await asyncio.gather(*(LedgerService(pool).handle(f) for f in fills))

    net = await pool.fetchval(
        "SELECT net_quantity FROM ledger.positions WHERE instrument_key = $1", instrument.key
    )
    assert net == -6 * QTY


async def _books(pool: asyncpg.Pool, script: ScriptedTrade) -> list[object]:
    keys = [script.main.key, script.hedge.key]
    return [
        await pool.fetch("SELECT * FROM ledger.trades WHERE trade_id = $1", script.trade_id),
        await pool.fetch(
            "SELECT * FROM ledger.trade_legs WHERE trade_id = $1 ORDER BY leg", script.trade_id
        ),
        await pool.fetch(
            "SELECT * FROM ledger.positions WHERE instrument_key = ANY($1) ORDER BY 1", keys
        ),
        await pool.fetch(
            "SELECT * FROM ledger.fills WHERE trade_id = $1 ORDER BY fill_id", script.trade_id
        ),
        await pool.fetchval("SELECT count(*) FROM ledger.audit_log"),
    ]


async def test_trade_when_fills_replayed_or_redelivered_changes_nothing(
    pool: asyncpg.Pool,
) -> None:
    script = scripted_trade()
    ledger = LedgerService(pool)
    await book(ledger, [*script.entry, *script.exit])
    before = await _books(pool, script)

    await book(ledger, [*script.entry, *script.exit])  # the same messages again
    # the same fills under new message ids (a producer retry after a lost acknowledgement)
    await book(ledger, [f.model_copy(update={"message_id": uuid.uuid4()}) for f in script.fills])

    assert await _books(pool, script) == before


# ---- audit log ------------------------------------------------------------------------------


async def test_audit_when_trade_booked_has_one_entry_per_fact_in_order(pool: asyncpg.Pool) -> None:
    script = scripted_trade()
    state = make_state_change(ts_event=T0)
    control = ControlSet(
        ts_event=T0, key=ControlKey.KILL_SWITCH, engaged=True, changed_by="ops", reason="test"
    )
    messages: list[Message] = [*script.entry, *script.exit, state, control]

    await book(LedgerService(pool), messages)

    refs = [str(m.message_id) for m in messages]
    rows = await pool.fetch(
        "SELECT seq, kind, ref, payload::text AS payload FROM ledger.audit_log "
        "WHERE ref = ANY($1) ORDER BY seq",
        refs,
    )
    assert [r["ref"] for r in rows] == refs
    kinds = [r["kind"] for r in rows]
    assert kinds[:8] == ["signal", "decision"] + ["order_command", "order_event", "fill"] * 2
    assert kinds[-2:] == ["control", "control"]
    assert json.loads(rows[0]["payload"])["signal_id"] == str(script.entry[0].signal_id)  # type: ignore[attr-defined]
    async with pool.acquire() as conn:
        verified = await audit_store.verify(conn)
    assert verified.broken is None
    assert verified.checked >= len(messages)


async def test_audit_when_appended_concurrently_is_gapless_and_verifies(
    pool: asyncpg.Pool,
) -> None:
    ledger = LedgerService(pool)
    signals = [make_signal(dedup_key=f"S2|NIFTY|2031-W01|entry|{uuid.uuid4()}") for _ in range(40)]

    await asyncio.gather(*(ledger.handle(s) for s in signals))

    async with pool.acquire() as conn:
        verified = await audit_store.verify(conn)
        top = await conn.fetchval("SELECT max(seq) FROM ledger.audit_log")
        count = await conn.fetchval("SELECT count(*) FROM ledger.audit_log")
    assert verified.broken is None
    assert top == count == verified.checked


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger.audit_log SET ref = 'x' WHERE seq = (SELECT max(seq) FROM ledger.audit_log)",
        "DELETE FROM ledger.audit_log WHERE seq = (SELECT max(seq) FROM ledger.audit_log)",
        "TRUNCATE ledger.audit_log",
    ],
)
async def test_audit_log_refuses_update_delete_and_truncate(
    pool: asyncpg.Pool, statement: str
) -> None:
    await LedgerService(pool).handle(make_state_change(ts_event=T0))

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement)


async def _cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, output.decode()


async def test_audit_verify_command_passes_then_names_the_first_tampered_seq(
    fresh_database: str,
) -> None:
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=2)
    assert pool is not None
    try:
        script = scripted_trade()
        await book(LedgerService(pool), [*script.entry, *script.exit])
        total = await pool.fetchval("SELECT count(*) FROM ledger.audit_log")

        code, output = await _cli("audit", "verify", "--database-url", fresh_database)
        assert code == 0, output
        assert f"audit chain verified: {total} entries" in output

        # Only the owner can get past the triggers; the chain still shows the edit.
        await pool.execute("ALTER TABLE ledger.audit_log DISABLE TRIGGER audit_log_no_update")
        await pool.execute(
            "UPDATE ledger.audit_log SET payload = jsonb_set(payload, '{price}', '\"1.00\"') "
            "WHERE seq = 5"
        )
        code, output = await _cli("audit", "verify", "--database-url", fresh_database)
    finally:
        await pool.close()
    assert code == 1
    assert "broken at seq 5" in output


@pytest.mark.parametrize(
    ("fact", "restricts"),
    [
        ({"key": ControlKey.KILL_SWITCH, "engaged": True}, True),
        ({"key": ControlKey.KILL_SWITCH, "engaged": False}, False),
        ({"key": ControlKey.AUTOMATION, "engaged": False}, True),
        ({"key": ControlKey.AUTOMATION, "engaged": True}, False),
        ({"key": ControlKey.MANUAL_STATE, "state": TradingState.REDUCING}, True),
        ({"key": ControlKey.MANUAL_STATE, "state": TradingState.ACTIVE}, False),
        ({"key": ControlKey.CIRCUIT, "values": {"state": "open"}}, True),
        ({"key": ControlKey.CIRCUIT, "values": {"state": "closed"}}, False),
        ({"key": ControlKey.LIMITS, "values": {"max_lots": "4"}}, False),
    ],
)
async def test_state_change_restricts_only_when_the_fact_limits_trading(
    pool: asyncpg.Pool, fact: dict[str, Any], restricts: bool
) -> None:
    message = ControlSet(ts_event=T0, changed_by="ops", reason="state view", **fact)

    await LedgerService(pool).handle(message)

    row = await pool.fetchrow(
        "SELECT restricts FROM ledger.state_changes WHERE message_id = $1", message.message_id
    )
    alert = await pool.fetchval(
        'SELECT severity FROM ledger."Alerts" WHERE ref = $1', str(message.message_id)
    )
    assert row is not None
    assert row["restricts"] is restricts
    assert alert == ("critical" if restricts else "info")


async def test_operator_commands_are_booked_and_audited_once(pool: asyncpg.Pool) -> None:
    commands: list[Message] = [
        SquareOffAll(ts_event=T0, command_id=uuid.uuid4(), requested_by="ops", reason="drill"),
        ResolvePending(
            ts_event=T0, signal_id=uuid.uuid4(), approve=False, requested_by="ops", reason="no"
        ),
    ]
    ledger = LedgerService(pool)

    await book(ledger, commands)
    await book(ledger, commands)

    ids = [m.message_id for m in commands]
    rows = await pool.fetch(
        "SELECT command, requested_by FROM ledger.operator_commands WHERE message_id = ANY($1) "
        "ORDER BY command DESC",
        ids,
    )
    audited = await pool.fetch(
        "SELECT kind FROM ledger.audit_log WHERE ref = ANY($1)", [str(i) for i in ids]
    )
    assert [(r["command"], r["requested_by"]) for r in rows] == [
        ("SquareOffAll", "ops"),
        ("ResolvePending", "ops"),
    ]
    assert [r["kind"] for r in audited] == ["operator_command", "operator_command"]


# ---- audit route ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def audit_client(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(audit_router)
    app.state.ctx = SimpleNamespace(pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://monitor") as client:
        yield client


async def test_audit_route_pages_by_seq_and_filters_by_kind(
    pool: asyncpg.Pool, audit_client: httpx.AsyncClient
) -> None:
    start = int(await pool.fetchval("SELECT coalesce(max(seq), 0) FROM ledger.audit_log"))
    script = scripted_trade()
    await book(LedgerService(pool), [*script.entry, *script.exit])

    first = await audit_client.get("/api/v2/audit", params={"after_seq": start, "limit": 5})
    second = await audit_client.get(
        "/api/v2/audit", params={"after_seq": first.json()["next_after_seq"], "limit": 500}
    )
    fills = await audit_client.get(
        "/api/v2/audit", params={"after_seq": start, "kind": "fill", "limit": 500}
    )

    assert first.status_code == second.status_code == fills.status_code == 200
    page1, page2 = first.json()["entries"], second.json()["entries"]
    assert [e["seq"] for e in page1] == list(range(start + 1, start + 6))
    assert page2[0]["seq"] == start + 6
    assert page2[0]["prev_hash"] == page1[-1]["hash"]
    assert {e["kind"] for e in fills.json()["entries"]} == {"fill"}
    assert {e["payload"]["fill_id"] for e in fills.json()["entries"]} == {
        f.fill_id for f in script.fills
    }


@pytest.mark.parametrize(
    "params",
    [{"limit": "501"}, {"limit": "0"}, {"after_seq": "-1"}, {"after_seq": "x"}, {"kind": "nope"}],
)
async def test_audit_route_when_params_bad_answers_422_naming_the_param(
    audit_client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await audit_client.get("/api/v2/audit", params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


# ---- position snapshots ---------------------------------------------------------------------


async def test_positions_topic_gets_net_position_per_instrument_and_zero_when_flat(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes], kafka_bootstrap: str
) -> None:
    script = scripted_trade()
    ledger = LedgerService(pool, producer)
    start = await end_offsets(kafka_bootstrap, POSITIONS.name, POSITIONS.partitions)

    await book(ledger, script.entry)
    await book(ledger, script.exit)

    mine = {script.main.key, script.hedge.key}
    seen = [
        m
        for m in await read_from(kafka_bootstrap, POSITIONS.name, start, count=4)
        if isinstance(m, PositionSnapshot) and m.instrument.key in mine
    ]
    assert [(m.instrument.key, m.net_quantity) for m in seen] == [
        (script.hedge.key, QTY),
        (script.main.key, -QTY),
        (script.main.key, 0),
        (script.hedge.key, 0),
    ]
    assert seen[2].realized_pnl == Decimal("737.75")
    assert seen[2].average_price == 0


# ---- views ----------------------------------------------------------------------------------


async def test_brief_views_show_positions_alerts_logs_signals_and_risk_metrics(
    fresh_database: str,
) -> None:
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=2)
    assert pool is not None
    try:
        await _check_views(pool)
    finally:
        await pool.close()


async def _check_views(pool: asyncpg.Pool) -> None:
    ledger = LedgerService(pool, clock=FixedClock(T0 + timedelta(hours=3)))
    closed, held = scripted_trade(), scripted_trade()
    denied_signal = make_signal(dedup_key="S3|NIFTY|2031-W02|entry", signal=SignalName.S3)
    denied = make_risk_decision(
        signal_id=denied_signal.signal_id,
        trade_id=None,
        outcome=DecisionOutcome.DENIED,
        reasons=("kill switch engaged",),
    )
    cid = f"{uuid.uuid4()}-entry-main-0"
    rejected = [make_order(client_order_id=cid), make_order_rejected(client_order_id=cid)]
    halt = ControlSet(
        ts_event=T0,
        key=ControlKey.MANUAL_STATE,
        state=TradingState.HALTED,
        changed_by="ops",
        reason="broker outage",
    )
    broker_down = BrokerStatusChanged(
        ts_event=T0 + timedelta(minutes=5),
        mode="live",
        session_valid=False,
        detail="session expired",
    )
    await book(
        ledger,
        [
            *closed.entry,
            *closed.exit,
            *held.entry,
            denied_signal,
            denied,
            *rejected,
            halt,
            broker_down,
        ],
    )

    live = await pool.fetch('SELECT * FROM ledger."LivePositions" ORDER BY instrument_key')
    assert {(r["instrument_key"], r["net_quantity"]) for r in live} == {
        (held.main.key, -QTY),
        (held.hedge.key, QTY),
    }
    assert all(r["signals"] == ["S1"] for r in live)

    alerts = await pool.fetch('SELECT category, ref, detail, severity FROM ledger."Alerts"')
    by_category = {r["category"]: r for r in alerts}
    assert by_category["signal_denied"]["detail"] == "kill switch engaged"
    assert by_category["order_rejected"]["ref"] == cid
    assert by_category["state_manual_state"]["severity"] == "critical"
    assert "broker outage" in by_category["state_manual_state"]["detail"]

    logs = await pool.fetch(
        'SELECT event FROM ledger."TradingLogs" WHERE trade_id = $1 ORDER BY logged_at, event',
        closed.trade_id,
    )
    events = [r["event"] for r in logs]
    assert events.count("fill") == 4
    assert events.count("order_submitted") == 4
    assert events.count("order_filled") == 4
    assert events.count("decision_approved") == 2
    assert events[-1] == "trade_closed"

    signals = await pool.fetch('SELECT signal_id, outcome, trade_id FROM ledger."WebhookSignals"')
    outcomes = {r["signal_id"]: (r["outcome"], r["trade_id"]) for r in signals}
    assert outcomes[denied_signal.signal_id] == ("denied", None)
    assert outcomes[closed.entry[0].signal_id] == ("approved", closed.trade_id)  # type: ignore[attr-defined]
    assert len(outcomes) == 4  # two of the closed trade, one of the held, the denied one

    metrics = await pool.fetch('SELECT * FROM ledger."RiskMetrics"')
    assert len(metrics) == 1
    day = metrics[0]
    assert day["trading_day"] == date(2026, 11, 25)
    assert (day["trades_opened"], day["trades_closed"], day["fills"]) == (2, 1, 6)
    assert day["realized_pnl"] == REALISED
    assert day["charges"] == closed.charges + Decimal("5.10") + Decimal("31.42")
    assert day["signals_denied"] == 1
    assert day["open_positions"] == 2

    assert by_category["state_broker_session"]["severity"] == "critical"
    assert "session expired" in by_category["state_broker_session"]["detail"]

    changes = await pool.fetch(
        "SELECT key, engaged, state, restricts FROM ledger.state_changes ORDER BY changed_at"
    )
    assert [(r["key"], r["engaged"], r["state"], r["restricts"]) for r in changes] == [
        ("manual_state", False, "HALTED", True),
        ("broker_session", False, None, True),
    ]


# ---- the migration's backfill ---------------------------------------------------------------


async def test_migration_backfills_trades_and_legs_from_fills_booked_before_it(
    database_url: str,
) -> None:
    name = f"strikeflow_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{database_url.rpartition('/')[0]}/{name}"
    try:
        backend = get_backend(yoyo_url(url))
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < "0006")))
        script = scripted_trade()
        open_only = scripted_trade()
        conn = await asyncpg.connect(url)
        try:
            for fill in [*script.fills, *open_only.fills[:2]]:
                await _insert_fill_as_before(conn, fill)
            assert apply_migrations(url)[0] == "0006.ledger-books"
            trades = {r["trade_id"]: r for r in await conn.fetch("SELECT * FROM ledger.trades")}
            legs = await conn.fetch(
                "SELECT leg, realized_pnl, net_quantity FROM ledger.trade_legs "
                "WHERE trade_id = $1 ORDER BY leg",
                script.trade_id,
            )
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    done, held = trades[script.trade_id], trades[open_only.trade_id]
    assert (done["status"], done["realized_pnl"], done["charges"]) == (
        "closed",
        REALISED,
        script.charges,
    )
    assert done["net_pnl"] == REALISED - script.charges
    assert (done["direction"], done["option_type"], done["fills"]) == ("bullish", "PE", 4)
    assert done["closed_at"] == T0 + timedelta(hours=2)
    assert [(r["leg"], r["realized_pnl"], r["net_quantity"]) for r in legs] == [
        ("HEDGE", Decimal("-536.25"), 0),
        ("MAIN", Decimal("737.75"), 0),
    ]
    assert (held["status"], held["closed_at"], held["realized_pnl"]) == ("open", None, 0)


async def _insert_fill_as_before(conn: asyncpg.Connection, m: FillReported) -> None:
    await conn.execute(
        "INSERT INTO ledger.fills (fill_id, message_id, client_order_id, trade_id, signal, "
        "purpose, leg, instrument_key, side, quantity, price, charges, price_source, filled_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
        m.fill_id,
        m.message_id,
        m.client_order_id,
        m.trade_id,
        "S1",
        m.purpose.value,
        m.leg.value,
        m.instrument.key,
        m.side.value,
        m.quantity,
        m.price,
        m.charges,
        m.price_source,
        m.ts_event,
    )


async def test_publish_positions_republishes_every_instrument_with_its_booked_figures(
    pool: asyncpg.Pool, producer: AIOKafkaProducer[bytes, bytes], kafka_bootstrap: str
) -> None:
    script = scripted_trade()
    await book(LedgerService(pool), [*script.entry, *script.exit[:5]])  # main closed, hedge open
    start = await end_offsets(kafka_bootstrap, POSITIONS.name, POSITIONS.partitions)
    total = await pool.fetchval("SELECT count(*) FROM ledger.positions")

    sent = await LedgerService(pool, producer).publish_positions()

    assert sent == total
    mine = {
        m.instrument.key: m
        for m in await read_from(kafka_bootstrap, POSITIONS.name, start, count=sent)
        if isinstance(m, PositionSnapshot)
    }
    assert mine[script.main.key].net_quantity == 0
    assert mine[script.main.key].realized_pnl == Decimal("737.75")
    assert mine[script.hedge.key].net_quantity == QTY
    assert mine[script.hedge.key].average_price == HEDGE_ENTRY
    assert mine[script.hedge.key].instrument == script.hedge
