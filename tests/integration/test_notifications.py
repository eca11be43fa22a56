"""Operator notifications on real Kafka and PostgreSQL, delivered to a local fake Telegram Bot API
and a fake webhook receiver: once per channel (also after replays and a restart), retried,
given up, and rate-limited."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from libs.common.clock import FixedClock
from libs.common.kafka import ensure_topics, publish
from libs.common.messages import (
    AlertKind,
    AlertSeverity,
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    Message,
    OperatorAlert,
    PnlSnapshot,
    SignalName,
    TradeClosed,
)
from libs.common.metrics import new_registry
from libs.common.runtime import TaskSupervisor
from libs.common.topics import ALERTS, BROKER_STATUS, CONTROL, PNL, Topic
from libs.notify.events import LossRules
from services.monitor.app import create_app
from services.monitor.notifications.delivery import RateLimit, RetryPolicy
from services.monitor.notifications.notifier import (
    SOURCE_TOPICS,
    Notifier,
    NotifierConfig,
    TelegramConfig,
    WebhookConfig,
)
from services.monitor.settings import MonitorSettings
from tests.integration.kafka_tools import start_groups_at_end
from tests.waiting import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("control_cleared_after", "broker_ready_after"),
]

TOKEN = "123456:test-bot-token"
CHAT = "-100777"
HOOK_SECRET = "hook-signing-secret"
# Monday 23 Nov 2026, 16:00 IST: a session day after the 15:45 summary time.
AFTER_CLOSE = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
# Same day, 10:30 IST: no summary due.
MORNING = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# a fake Telegram Bot API and webhook receiver
# ---------------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float

    @property
    def body(self) -> dict[str, Any]:
        value = json.loads(self.raw)
        assert isinstance(value, dict)
        return value


@dataclass
class FakeEndpoint:
    """Records every request; ``/flaky`` fails twice per notification, ``/down`` always."""

    base_url: str = ""
    requests: list[Received] = field(default_factory=list)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def fake_app(endpoint: FakeEndpoint) -> FastAPI:
    app = FastAPI()

    async def record(request: Request) -> Received:
        got = Received(
            request.url.path, dict(request.headers), await request.body(), time.monotonic()
        )
        endpoint.requests.append(got)
        return got

    @app.post("/bot{token}/sendMessage")
    async def send_message(token: str, request: Request) -> JSONResponse:
        got = await record(request)
        if token != TOKEN:
            return JSONResponse({"ok": False, "description": "Unauthorized"}, status_code=401)
        if not got.body.get("chat_id") or not got.body.get("text"):
            return JSONResponse({"ok": False, "description": "Bad Request"}, status_code=400)
        return JSONResponse({"ok": True, "result": {"message_id": len(endpoint.requests)}})

    @app.post("/hook")
    async def hook(request: Request) -> JSONResponse:
        await record(request)
        return JSONResponse({"received": True})

    @app.post("/flaky")
    async def flaky(request: Request) -> JSONResponse:
        got = await record(request)
        seen = [r for r in endpoint.on("/flaky") if r.body["id"] == got.body["id"]]
        if len(seen) < 3:
            return JSONResponse({"error": "try later"}, status_code=503)
        return JSONResponse({"received": True})

    @app.post("/down")
    async def down(request: Request) -> JSONResponse:
        await record(request)
        return JSONResponse({"error": "broken"}, status_code=500)

    return app


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[FakeEndpoint]:
    fake = FakeEndpoint()
    server = uvicorn.Server(
        uvicorn.Config(fake_app(fake), host="127.0.0.1", port=0, log_level="warning")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, bool, timeout_s=10, what="fake endpoint started")
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        await task


# ---------------------------------------------------------------------------------------------
# the notifier under test
# ---------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def db(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=6)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


def config(bootstrap: str, group: str, **overrides: Any) -> NotifierConfig:
    base = NotifierConfig(
        bootstrap=bootstrap,
        group_id=group,
        telegram=None,
        webhook=None,
        rules=LossRules(Decimal(10000), Decimal(50000), Decimal("0.5")),
        retry=RetryPolicy(max_attempts=5, initial_s=0.05, max_s=0.2),
        summary_after=dtime(15, 45),
        max_event_age_s=3600,
        poll_s=0.2,
        http_timeout_s=5,
    )
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def running(
    cfg: NotifierConfig, pool: asyncpg.Pool, clock: FixedClock
) -> AsyncIterator[None]:
    notifier = Notifier(cfg, pool, clock, new_registry())
    await notifier.start(TaskSupervisor())
    try:
        yield
    finally:
        await notifier.stop()


async def fresh_group(bootstrap: str) -> str:
    await ensure_topics(bootstrap, (ALERTS,))
    group = f"notify-test-{uuid.uuid4().hex[:10]}"
    await start_groups_at_end(bootstrap, {group: SOURCE_TOPICS})
    return group


async def caught_up(bootstrap: str, group: str) -> bool:
    """Whether the group committed every record now on the source topics."""
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(t.name, p) for t in SOURCE_TOPICS for p in range(t.partitions)]
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            if (await consumer.committed(tp) or 0) < ends[tp]:
                return False
        return True
    finally:
        await consumer.stop()


async def rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT dedupe_key, channel, kind, status, attempts, last_error, payload "
        "FROM monitor.notifications ORDER BY id"
    )


async def send_all(
    producer: AIOKafkaProducer[bytes, bytes], events: Sequence[tuple[Topic, Message, str]]
) -> None:
    for topic, message, key in events:
        await publish(producer, topic, message, key)


def alert(at: datetime, text: str, kind: AlertKind = AlertKind.OTHER) -> OperatorAlert:
    return OperatorAlert(
        ts_event=at, kind=kind, severity=AlertSeverity.WARNING, raised_by="executor", text=text
    )


def every_event(at: datetime, marker: str) -> list[tuple[Topic, Message, str]]:
    """One event of every notified type (and a valid broker status, which is not told)."""

    def control(key: ControlKey, engaged: bool = True, **values: str) -> ControlSet:
        return ControlSet(
            ts_event=at,
            key=key,
            engaged=engaged,
            values=values,
            changed_by="operator:test",
            reason=f"{key.value} {engaged} {marker}",
        )

    def broker(valid: bool) -> BrokerStatusChanged:
        detail = "session valid" if valid else f"session expired {marker}"
        return BrokerStatusChanged(ts_event=at, mode="live", session_valid=valid, detail=detail)

    return [
        (CONTROL, control(ControlKey.KILL_SWITCH, True), "kill_switch"),
        (CONTROL, control(ControlKey.KILL_SWITCH, False), "kill_switch"),
        (CONTROL, control(ControlKey.EMERGENCY_STOP, True), "emergency_stop"),
        (CONTROL, control(ControlKey.CIRCUIT, state="open", reason=marker), "circuit"),
        (CONTROL, control(ControlKey.LOSS_HALT, True, trading_day="2026-11-23"), "loss_halt"),
        (BROKER_STATUS, broker(True), "broker"),
        (BROKER_STATUS, broker(False), "broker"),
        (ALERTS, alert(at, f"session ends at 23:59 {marker}", AlertKind.SESSION_EXPIRING), "ex"),
        (ALERTS, alert(at, f"2 orders differ {marker}", AlertKind.RECONCILIATION_MISMATCH), "ex"),
        (
            PNL,
            TradeClosed(
                ts_event=at,
                trade_id=uuid.uuid4(),
                signal=SignalName.S2,
                net_pnl=Decimal("-12500.50"),
                charges=Decimal(90),
            ),
            "trade",
        ),
        (
            PNL,
            PnlSnapshot(
                ts_event=at,
                trading_day=date(2026, 11, 23),
                realized=Decimal(-30000),
                unrealized=Decimal(0),
                charges=Decimal(100),
                net=Decimal(-30100),
                open_positions=0,
                marks_missing=0,
            ),
            "account",
        ),
    ]


EXPECTED_KINDS = {
    "kill_switch": 2,
    "emergency_stop": 1,
    "circuit_breaker": 1,
    "loss_halt": 1,
    "session_expired": 1,
    "session_expiring": 1,
    "reconciliation_mismatch": 1,
    "large_loss": 2,
    "daily_summary": 1,
}


async def seed_day(pool: asyncpg.Pool) -> None:
    """Six fills of two trades (one closed) and a P&L snapshot on 23 Nov 2026."""
    at = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    closed, still_open = uuid.uuid4(), uuid.uuid4()
    fills = [
        (closed, "entry", "hedge", "H1", "BUY", "10", "20"),
        (closed, "entry", "main", "M1", "SELL", "100", "40"),
        (closed, "exit", "main", "M1", "BUY", "60", "40"),
        (closed, "exit", "hedge", "H1", "SELL", "5", "20"),
        (still_open, "entry", "hedge", "H2", "BUY", "12", "20"),
        (still_open, "entry", "main", "M2", "SELL", "90", "40"),
    ]
    for trade, purpose, leg, instrument, side, price, charges in fills:
        await pool.execute(
            "INSERT INTO ledger.fills (fill_id, message_id, client_order_id, trade_id, signal, "
            "purpose, leg, instrument_key, side, quantity, price, charges, price_source, "
            "filled_at) VALUES ($1,$2,$3,$4,'S1',$5,$6,$7,$8,75,$9,$10,'model',$11)",
            uuid.uuid4().hex,
            uuid.uuid4(),
            f"{trade}-{purpose}-{leg}",
            trade,
            purpose,
            leg,
            instrument,
            side,
            Decimal(price),
            Decimal(charges),
            at,
        )
    await pool.execute(
        "INSERT INTO ledger.pnl_snapshots (message_id, trading_day, realized, unrealized, "
        "charges, net, open_positions, taken_at) VALUES ($1,$2,2625,-300,180,2145,2,$3)",
        uuid.uuid4(),
        date(2026, 11, 23),
        at,
    )


def webhook_ids(fake: FakeEndpoint, path: str = "/hook") -> list[str]:
    return [r.body["id"] for r in fake.on(path)]


def telegram_texts(fake: FakeEndpoint) -> list[str]:
    return [r.body["text"] for r in fake.on(f"/bot{TOKEN}/sendMessage")]


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------


async def test_every_event_is_told_once_per_channel_despite_replays_and_a_restart(
    kafka_bootstrap: str,
    db: asyncpg.Pool,
    producer: AIOKafkaProducer[bytes, bytes],
    endpoint: FakeEndpoint,
) -> None:
    """Control, broker, alert, loss and summary: each once on Telegram and once on the webhook."""
    clock = FixedClock(AFTER_CLOSE)
    marker = uuid.uuid4().hex[:8]
    await seed_day(db)
    cfg = config(
        kafka_bootstrap,
        await fresh_group(kafka_bootstrap),
        telegram=TelegramConfig(endpoint.base_url, TOKEN, CHAT, RateLimit(100, 1)),
        webhook=WebhookConfig(f"{endpoint.base_url}/hook", HOOK_SECRET, RateLimit(100, 1)),
    )
    events = every_event(clock.now(), marker)
    expected_rows = 2 * sum(EXPECTED_KINDS.values())

    async def all_sent() -> list[asyncpg.Record]:
        return await rows(db)

    def done(found: list[asyncpg.Record], count: int = expected_rows) -> bool:
        return len(found) == count and all(r["status"] == "sent" for r in found)

    async with running(cfg, db, clock):
        await send_all(producer, events)
        found = await eventually(all_sent, done, timeout_s=30, what="every notification sent")
        await send_all(producer, events)  # replay: the same messages again
        await eventually(
            lambda: caught_up(kafka_bootstrap, cfg.group_id), bool, 20, "replay consumed"
        )
    async with running(cfg, db, clock):  # restart on the same consumer group
        await send_all(producer, events)
        fresh = alert(clock.now(), f"after restart {marker}")
        await publish(producer, ALERTS, fresh, "ex")
        after = await eventually(
            all_sent, lambda f: done(f, expected_rows + 2), 30, "the new alert sent"
        )

    by_kind: dict[str, int] = {}
    for row in found:
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + 1
    assert by_kind == {kind: 2 * n for kind, n in EXPECTED_KINDS.items()}
    assert all(r["attempts"] == 1 for r in after)
    keys = {r["dedupe_key"] for r in after}
    assert sorted(webhook_ids(endpoint)) == sorted(keys)  # once each on the webhook
    texts = telegram_texts(endpoint)
    assert sorted(texts) == sorted({json.loads(r["payload"])["text"] for r in after})
    assert len(texts) == len(keys)  # once each on Telegram
    summary = next(t for t in texts if "Post-market summary 2026-11-23" in t)
    assert "Net P&L ₹2,145.00" in summary
    assert "Trades: 2 traded, 1 closed; 6 fills" in summary
    assert any("Kill switch ON" in t and marker in t for t in texts)
    assert not any("session valid" in t for t in texts)


async def test_telegram_and_webhook_requests_have_the_documented_shape(
    kafka_bootstrap: str,
    db: asyncpg.Pool,
    producer: AIOKafkaProducer[bytes, bytes],
    endpoint: FakeEndpoint,
) -> None:
    """sendMessage carries chat id and text; the webhook body is signed with HMAC-SHA256."""
    clock = FixedClock(MORNING)
    cfg = config(
        kafka_bootstrap,
        await fresh_group(kafka_bootstrap),
        telegram=TelegramConfig(endpoint.base_url, TOKEN, CHAT, RateLimit(100, 1)),
        webhook=WebhookConfig(f"{endpoint.base_url}/hook", HOOK_SECRET, RateLimit(100, 1)),
    )
    message = alert(clock.now(), "hedge unwound after main leg rejected", AlertKind.HEDGE_UNWOUND)

    async with running(cfg, db, clock):
        await publish(producer, ALERTS, message, "ex")
        await eventually(
            lambda: rows(db),
            lambda f: len(f) == 2 and all(r["status"] == "sent" for r in f),
            20,
            "both channels sent",
        )

    (tg,) = endpoint.on(f"/bot{TOKEN}/sendMessage")
    assert tg.body["chat_id"] == CHAT
    assert tg.body["text"].startswith("[WARNING] Entry failed: hedge unwound (executor)")
    (hook,) = endpoint.on("/hook")
    stamp = hook.headers["x-strikeflow-timestamp"]
    mac = hmac.new(HOOK_SECRET.encode(), f"{stamp}.".encode() + hook.raw, hashlib.sha256)
    assert hook.headers["x-strikeflow-signature"] == f"sha256={mac.hexdigest()}"
    assert (
        hook.headers["x-strikeflow-notification-id"] == f"alert:hedge_unwound:{message.message_id}"
    )
    assert hook.body["kind"] == "hedge_unwound"
    assert hook.body["severity"] == "warning"
    assert hook.body["source_message_id"] == str(message.message_id)


async def test_failing_channels_are_retried_then_given_up_without_stopping_the_notifier(
    kafka_bootstrap: str,
    db: asyncpg.Pool,
    producer: AIOKafkaProducer[bytes, bytes],
    endpoint: FakeEndpoint,
) -> None:
    """A webhook that fails twice is sent on the third try; a dead one is failed after N tries;
    a rejected bot token is failed at once (a retry cannot help)."""
    clock = FixedClock(MORNING)
    cfg = config(
        kafka_bootstrap,
        await fresh_group(kafka_bootstrap),
        telegram=TelegramConfig(endpoint.base_url, "wrong-token", CHAT, RateLimit(100, 1)),
        webhook=WebhookConfig(f"{endpoint.base_url}/flaky", "", RateLimit(100, 1)),
        retry=RetryPolicy(max_attempts=4, initial_s=0.05, max_s=0.2),
    )
    first = alert(clock.now(), "first")

    async with running(cfg, db, clock):
        await publish(producer, ALERTS, first, "ex")
        found = await eventually(
            lambda: rows(db),
            lambda f: len(f) == 2 and all(r["status"] != "pending" for r in f),
            20,
            "both rows settled",
        )
    dead_cfg = replace(
        cfg,
        telegram=None,
        webhook=WebhookConfig(f"{endpoint.base_url}/down", "", RateLimit(100, 1)),
    )
    second = alert(clock.now(), "second")
    async with running(dead_cfg, db, clock):
        await publish(producer, ALERTS, second, "ex")
        await eventually(
            lambda: rows(db),
            lambda f: len(f) == 3 and f[-1]["status"] == "failed",
            20,
            "dead webhook given up",
        )
        # the notifier still works after giving up
        third = alert(clock.now(), "third")
        await publish(producer, ALERTS, third, "ex")
        last = await eventually(
            lambda: rows(db), lambda f: len(f) == 4 and f[-1]["status"] == "failed", 20, "third"
        )

    status = {(r["channel"], r["dedupe_key"]): r for r in last}
    flaky = status[("webhook", f"alert:other:{first.message_id}")]
    assert (flaky["status"], flaky["attempts"]) == ("sent", 3)
    assert webhook_ids(endpoint, "/flaky").count(f"alert:other:{first.message_id}") == 3
    telegram = status[("telegram", f"alert:other:{first.message_id}")]
    assert (telegram["status"], telegram["attempts"]) == ("failed", 1)
    assert telegram["last_error"] == "HTTP 401: Unauthorized"
    assert "wrong-token" not in str(found)
    dead = status[("webhook", f"alert:other:{second.message_id}")]
    assert (dead["status"], dead["attempts"]) == ("failed", 4)
    assert dead["last_error"].startswith("HTTP 500")
    assert webhook_ids(endpoint, "/down").count(f"alert:other:{second.message_id}") == 4


async def test_rate_limit_spaces_out_a_burst_in_order(
    kafka_bootstrap: str,
    db: asyncpg.Pool,
    producer: AIOKafkaProducer[bytes, bytes],
    endpoint: FakeEndpoint,
) -> None:
    """Ten alerts at once, 2 per second allowed: the webhook sees them in order over >= 4 s."""
    clock = FixedClock(MORNING)
    cfg = config(
        kafka_bootstrap,
        await fresh_group(kafka_bootstrap),
        webhook=WebhookConfig(f"{endpoint.base_url}/hook", "", RateLimit(2, 1)),
    )
    burst = [alert(clock.now(), f"burst {i}") for i in range(10)]

    async with running(cfg, db, clock):
        await send_all(producer, [(ALERTS, m, "ex") for m in burst])
        await eventually(
            lambda: rows(db),
            lambda f: len(f) == 10 and all(r["status"] == "sent" for r in f),
            30,
            "burst sent",
        )

    got = endpoint.on("/hook")
    assert [r.body["id"] for r in got] == [f"alert:other:{m.message_id}" for m in burst]
    # A leaky bucket of 2 per second lets 2 through at once, then one every 0.5 s.
    assert got[-1].at - got[0].at >= 0.9 * (len(got) - 2) / 2
    for earlier, later in zip(got, got[4:], strict=False):
        assert later.at - earlier.at >= 0.9 * 1.0  # never more than 4 in any second


async def test_monitor_app_runs_the_notifier_when_a_channel_is_configured(
    kafka_bootstrap: str,
    fresh_database: str,
    producer: AIOKafkaProducer[bytes, bytes],
    endpoint: FakeEndpoint,
) -> None:
    """monitor's lifespan starts the notifier from its settings and stops it on exit."""
    prefix = f"notify-app-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, (ALERTS,))
    await start_groups_at_end(kafka_bootstrap, {f"{prefix}-monitor-notify": SOURCE_TOPICS})
    settings = MonitorSettings(
        database_url=fresh_database,
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group_prefix=prefix,
        notify_webhook_url=f"{endpoint.base_url}/hook",
        notify_poll_s=0.2,
    )
    app = create_app(settings)
    message = ControlSet(
        ts_event=datetime.now(UTC),
        key=ControlKey.KILL_SWITCH,
        engaged=True,
        changed_by="operator:test",
        reason=f"app wiring {prefix}",
    )
    mine = str(message.message_id)

    async with app.router.lifespan_context(app):
        await publish(producer, CONTROL, message, ControlKey.KILL_SWITCH.value)
        got = await eventually(
            lambda: asyncio.sleep(0, endpoint.on("/hook")),
            lambda hooks: any(
                r.body["source_message_id"] == str(message.message_id) for r in hooks
            ),
            20,
            "kill switch posted by monitor",
        )

    (hook,) = [r for r in got if r.body["source_message_id"] == mine]
    assert hook.body["kind"] == "kill_switch"
    assert prefix in hook.body["text"]
    assert "x-strikeflow-signature" not in hook.headers
