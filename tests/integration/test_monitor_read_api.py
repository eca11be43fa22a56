"""The monitor's read API against a scripted day of trading, with figures computed by hand.

The ledger books the day exactly as in production (``LedgerService.handle`` on real messages,
real PostgreSQL); the monitor learns heartbeats, control facts and the broker session from the
real Kafka topics. Lot 65 throughout.

- A, S1 (bullish): BUY 23800 PE at 20 -> SELL at 10; SELL 24000 PE at 100 -> BUY at 60; closed
  Mon 11-23 14:30 by an exit alert. Gross 2600 - 650 = 1950, charges 60, net 1890; index
  24010 -> 24150: an index win.
- B, S3 (bearish): SELL 24300 CE at 80 -> BUY at 110; closed Wed 11-25 11:30 by an exit alert.
  Gross -1950, charges 30, net -1980; index 24200 -> 24260: an index loss.
- C, S7 (bullish): BUY 23900 PE at 15, SELL 24100 PE at 90, still open; marked at 12 and 70.
- D, S1 (bullish): SELL 25800 PE at 50 -> BUY at 90, closed Fri 10-30 by the server-side stop.
  Gross -2600, charges 24, net -2624; no exit index of its own.
- E, S5: order submitted, no fill yet. F, S6: order rejected. G, S2: denied.

"Now" is Wednesday 2026-11-25 14:00 IST; capital 5,00,000.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from libs.common.clock import FixedClock
from libs.common.kafka import publish
from libs.common.messages import (
    AnyMessage,
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    DecisionOutcome,
    Leg,
    MarkUpdated,
    OptionRight,
    Purpose,
    Side,
    SignalAction,
    SignalName,
    SignalReceived,
    derived_id,
)
from libs.common.topics import BROKER_STATUS, CONTROL, HEARTBEATS
from services.ledger.service import LedgerService
from services.monitor.app import create_app
from services.monitor.settings import MonitorSettings
from tests.factories import (
    make_fill,
    make_heartbeat,
    make_instrument,
    make_order,
    make_order_rejected,
    make_risk_decision,
    make_signal,
)
from tests.waiting import eventually

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)  # Wednesday 14:00 IST
LOT = 65
EXP = date(2026, 12, 1)
CAPITAL = 500_000
BROKER_DETAIL = f"read-api test {uuid.uuid4().hex[:8]}"


def ist(day: str, hh_mm: str) -> datetime:
    """A wall-clock IST time as UTC."""
    return datetime.fromisoformat(f"{day}T{hh_mm}:00+05:30").astimezone(UTC)


def tid(name: str) -> uuid.UUID:
    return derived_id("read-api-trade", name)


class Day:
    """Feeds the ledger in time order, moving its clock to each fact's time."""

    def __init__(self, ledger: LedgerService, clock: FixedClock) -> None:
        self.ledger = ledger
        self.clock = clock

    async def book(self, message: AnyMessage) -> None:
        self.clock.set(message.ts_event)
        await self.ledger.handle(message)

    async def signal(
        self, name: str, sig: SignalName, action: SignalAction, price: str, at: datetime, week: str
    ) -> SignalReceived:
        s = make_signal(
            dedup_key=f"{sig}|NIFTY|{week}|{action}|{name}",
            signal=sig,
            action=action,
            price=Decimal(price),
            trading_week=week,
            ts_event=at,
        )
        await self.book(s)
        return s

    async def decide(self, s: SignalReceived, trade: str, at: datetime, ok: bool = True) -> None:
        outcome = DecisionOutcome.APPROVED if ok else DecisionOutcome.DENIED
        await self.book(
            make_risk_decision(
                signal_id=s.signal_id,
                trade_id=tid(trade),
                action=s.action,
                outcome=outcome,
                ts_event=at,
            )
        )

    async def leg(
        self,
        trade: str,
        cause: SignalReceived,
        purpose: Purpose,
        leg: Leg,
        strike: int,
        right: OptionRight,
        side: Side,
        price: str | None,
        charges: str,
        at: datetime,
        expiry: date = EXP,
    ) -> str:
        """Submit one order and, with a price, book its fill."""
        coid = f"{tid(trade).hex[:16]}-{purpose}-{leg}-0"
        instrument = make_instrument(strike=Decimal(strike), right=right, expiry=expiry)
        common = {
            "client_order_id": coid,
            "trade_id": tid(trade),
            "signal_id": cause.signal_id,
            "signal": cause.signal,
            "purpose": purpose,
            "leg": leg,
            "instrument": instrument,
            "side": side,
            "quantity": LOT,
        }
        await self.book(make_order(**common, lot_size=LOT, ts_event=at))
        if price is not None:
            await self.book(
                make_fill(
                    **common,
                    fill_id=f"fill-{coid}",
                    price=Decimal(price),
                    charges=Decimal(charges),
                    ts_event=at + timedelta(seconds=1),
                )
            )
        return coid

    async def mark(self, strike: int, right: OptionRight, price: str, at: datetime) -> None:
        instrument = make_instrument(strike=Decimal(strike), right=right)
        await self.book(
            MarkUpdated(
                ts_event=at, instrument=instrument, price=Decimal(price), price_source="quote"
            )
        )


async def script_the_day(day: Day, pool: asyncpg.Pool) -> dict[str, SignalReceived]:
    E, X = Purpose.ENTRY, Purpose.EXIT
    PE, CE = OptionRight.PE, OptionRight.CE
    BUY, SELL = Side.BUY, Side.SELL
    entry, exit_ = SignalAction.ENTRY, SignalAction.EXIT
    signals: dict[str, SignalReceived] = {}

    # D: S1 in October, stopped out by the server (exit orders carry the entry signal as cause)
    d_at = ist("2026-10-27", "09:25")
    signals["D"] = d = await day.signal("D", SignalName.S1, entry, "25800", d_at, "2026-W44")
    await day.decide(d, "D", d_at)
    old = date(2026, 11, 3)
    await day.leg("D", d, E, Leg.MAIN, 25800, PE, SELL, "50", "12", ist("2026-10-27", "09:30"), old)
    await day.leg("D", d, X, Leg.MAIN, 25800, PE, BUY, "90", "12", ist("2026-10-30", "14:30"), old)

    # A: S1 this week, closed by a TradingView exit alert with the index higher
    signals["A"] = a = await day.signal(
        "A", SignalName.S1, entry, "24010", ist("2026-11-23", "09:25"), "2026-W48"
    )
    await day.decide(a, "A", ist("2026-11-23", "09:25"))
    at = ist("2026-11-23", "09:30")
    await day.leg("A", a, E, Leg.HEDGE, 23800, PE, BUY, "20", "10", at)
    await day.leg("A", a, E, Leg.MAIN, 24000, PE, SELL, "100", "20", at + timedelta(seconds=5))
    ax = await day.signal(
        "Ax", SignalName.S1, exit_, "24150", ist("2026-11-23", "14:25"), "2026-W48"
    )
    await day.decide(ax, "A", ist("2026-11-23", "14:25"))
    at = ist("2026-11-23", "14:30")
    await day.leg("A", ax, X, Leg.MAIN, 24000, PE, BUY, "60", "20", at)
    await day.leg("A", ax, X, Leg.HEDGE, 23800, PE, SELL, "10", "10", at + timedelta(seconds=5))

    # today: B (S3) opens, C (S7) opens, B is closed by an exit alert, C is marked
    signals["B"] = b = await day.signal(
        "B", SignalName.S3, entry, "24200", ist("2026-11-25", "09:25"), "2026-W48"
    )
    await day.decide(b, "B", ist("2026-11-25", "09:25"))
    await day.leg("B", b, E, Leg.MAIN, 24300, CE, SELL, "80", "15", ist("2026-11-25", "09:30"))
    signals["C"] = c = await day.signal(
        "C", SignalName.S7, entry, "24100", ist("2026-11-25", "10:25"), "2026-W48"
    )
    await day.decide(c, "C", ist("2026-11-25", "10:25"))
    at = ist("2026-11-25", "10:30")
    await day.leg("C", c, E, Leg.HEDGE, 23900, PE, BUY, "15", "10", at)
    await day.leg("C", c, E, Leg.MAIN, 24100, PE, SELL, "90", "20", at + timedelta(seconds=5))
    bx = await day.signal(
        "Bx", SignalName.S3, exit_, "24260", ist("2026-11-25", "11:25"), "2026-W48"
    )
    await day.decide(bx, "B", ist("2026-11-25", "11:25"))
    await day.leg("B", bx, X, Leg.MAIN, 24300, CE, BUY, "110", "15", ist("2026-11-25", "11:30"))
    await day.mark(24100, PE, "70", ist("2026-11-25", "13:30"))
    await day.mark(23900, PE, "12", ist("2026-11-25", "13:31"))

    # E: approved, order not filled yet; F: approved, order rejected; G: denied
    signals["E"] = e = await day.signal(
        "E", SignalName.S5, entry, "24150", ist("2026-11-25", "12:25"), "2026-W48"
    )
    await day.decide(e, "E", ist("2026-11-25", "12:25"))
    await day.leg("E", e, E, Leg.MAIN, 24200, CE, SELL, None, "0", ist("2026-11-25", "12:26"))
    f = await day.signal("F", SignalName.S6, entry, "24150", ist("2026-11-25", "12:35"), "2026-W48")
    await day.decide(f, "F", ist("2026-11-25", "12:35"))
    coid = await day.leg(
        "F", f, E, Leg.MAIN, 24200, CE, SELL, None, "0", ist("2026-11-25", "12:36")
    )
    await day.book(
        make_order_rejected(
            client_order_id=coid, trade_id=tid("F"), ts_event=ist("2026-11-25", "12:37")
        )
    )
    g = await day.signal("G", SignalName.S2, entry, "24150", ist("2026-11-25", "12:45"), "2026-W48")
    await day.decide(g, "G", ist("2026-11-25", "12:45"), ok=False)

    # the risk gate's own rows, as risk writes them: C and E open (1 lot each), the rest exiting
    for name, status in [("A", "exiting"), ("B", "exiting"), ("C", "open"), ("D", "exiting")]:
        await _risk_trade(pool, name, signals[name], status)
    await _risk_trade(pool, "E", e, "open")
    # one signal waits for the operator, one waited too long
    signals["H"] = h = make_signal(
        dedup_key="S8|NIFTY|2026-W48|entry|H",
        signal=SignalName.S8,
        ts_event=NOW,
        price=Decimal(24180),
    )
    await _pending(pool, h, NOW + timedelta(minutes=15))
    stale = make_signal(dedup_key="S4|NIFTY|2026-W48|entry|I", signal=SignalName.S4)
    await _pending(pool, stale, NOW - timedelta(minutes=1))
    return signals


async def _risk_trade(pool: asyncpg.Pool, name: str, s: SignalReceived, status: str) -> None:
    await pool.execute(
        "INSERT INTO risk.trades (trade_id, latch_key, signal_id, signal, trading_week, "
        "status, lots, legs, stop_level, bullish, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, 1, '[]', NULL, $7, $8)",
        tid(name),
        f"{s.signal}|NIFTY|{s.trading_week}|{name}",
        s.signal_id,
        s.signal.value,
        s.trading_week,
        status,
        s.signal.bullish,
        s.ts_event,
    )


async def _pending(pool: asyncpg.Pool, s: SignalReceived, expires_at: datetime) -> None:
    await pool.execute(
        "INSERT INTO risk.pending_approvals (signal_id, signal, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        s.signal_id,
        s.model_dump_json(),
        s.ts_event,
        expires_at,
    )


async def _facts(producer: AIOKafkaProducer[bytes, bytes], engaged: bool) -> None:
    """The kill switch and a limits override; cleared again when ``engaged`` is false."""
    await publish(
        producer,
        CONTROL,
        ControlSet(
            ts_event=datetime.now(UTC),
            key=ControlKey.KILL_SWITCH,
            engaged=engaged,
            changed_by="integration",
            reason="read API test",
        ),
        key=ControlKey.KILL_SWITCH.value,
    )
    await publish(
        producer,
        CONTROL,
        ControlSet(
            ts_event=datetime.now(UTC),
            key=ControlKey.LIMITS,
            values={"max_open_trades": "4"} if engaged else {},
            changed_by="integration",
            reason="read API test",
        ),
        key=ControlKey.LIMITS.value,
    )


RISK_LIMITS = {
    "limit.max_open_trades": "8",
    "limit.max_lots_per_trade": "10",
    "limit.max_margin": "600000",
    "limit.margin_per_lot": "60000",
    "limit.max_daily_loss": "50000",
    "limit.panic_loss": "75000",
}


@pytest_asyncio.fixture
async def monitor(
    fresh_database: str, kafka_bootstrap: str, producer: AIOKafkaProducer[bytes, bytes]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, SignalReceived]]]:
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=4)
    assert pool is not None
    ledger_clock = FixedClock(NOW)
    signals = await script_the_day(Day(LedgerService(pool, clock=ledger_clock), ledger_clock), pool)
    await pool.close()

    for service, lag in [("ingest", 0), ("risk", 3), ("executor", 0), ("ledger", 1)]:
        beat = make_heartbeat(
            service=service,
            instance=f"{service}-read-api",
            ts_event=NOW - timedelta(seconds=2),
            consumer_lag=lag,
            details=RISK_LIMITS if service == "risk" else {},
        )
        await publish(producer, HEARTBEATS, beat, key=service)
    broker = BrokerStatusChanged(
        ts_event=NOW - timedelta(hours=5), mode="paper", session_valid=True, detail=BROKER_DETAIL
    )
    await publish(producer, BROKER_STATUS, broker, key="broker")
    await _facts(producer, engaged=True)

    settings = MonitorSettings.model_validate(
        {
            "database_url": fresh_database,
            "kafka_bootstrap_servers": kafka_bootstrap,
            "capital": CAPITAL,
        }
    )
    app = create_app(settings, clock=FixedClock(NOW))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://monitor"
            ) as http,
        ):

            async def seen() -> dict[str, Any]:
                return dict((await http.get("/api/v2/health")).json())

            await eventually(
                seen,
                lambda h: (
                    h["components"]["kill_switch"]["status"] == "degraded"
                    and h["components"]["broker"]["detail"] == f"paper: {BROKER_DETAIL}"
                    and h["components"]["risk"]["instance"] == "risk-read-api"
                ),
                15,
                "monitor saw the published facts",
            )
            yield http, signals
    finally:
        await _facts(producer, engaged=False)


Monitor = tuple[httpx.AsyncClient, dict[str, SignalReceived]]


async def get(http: httpx.AsyncClient, url: str, status: int = 200) -> Any:
    response = await http.get(url)
    assert response.status_code == status, response.text
    return response.json()


async def test_every_read_route_answers_the_hand_computed_figures(monitor: Monitor) -> None:
    http, signals = monitor

    await _broker_status(http)
    await _health(http)
    await _risk_metrics(http)
    await _analytics(http)
    await _active_signals(http, signals)
    await _trades(http, signals)
    await _openapi(http)


async def _broker_status(http: httpx.AsyncClient) -> None:
    assert await get(http, "/api/v2/broker/status") == {
        "status": "ok",
        "mode": "paper",
        "session_valid": True,
        "detail": BROKER_DETAIL,
        "since": "2026-11-25T03:30:00+00:00",
    }


async def _health(http: httpx.AsyncClient) -> None:
    body = await get(http, "/api/v2/health")
    c = body["components"]

    assert body["status"] == "ok"  # a kill switch is deliberate: it never degrades health
    assert body["trading_state"] == "HALTED"
    assert c["kafka"]["status"] == "ok"
    assert c["postgres"]["status"] == "ok"
    assert c["risk"] == {
        "status": "ok",
        "detail": "heartbeat 2.0s ago, consumer lag 3",
        "heartbeat_age_s": 2.0,
        "consumer_lag": 3,
        "instance": "risk-read-api",
        "reported_status": "ok",
        "started_at": "2026-11-25T03:00:00+00:00",
    }
    assert c["ledger"]["consumer_lag"] == 1
    assert c["broker"] == {
        "status": "ok",
        "detail": f"paper: {BROKER_DETAIL}",
        "mode": "paper",
        "session_valid": True,
        "since": "2026-11-25T03:30:00+00:00",
    }
    assert c["kill_switch"] == {
        "status": "degraded",
        "detail": "kill switch engaged",
        "kill_switch": True,
        "emergency_stop": False,
    }
    assert c["circuit_breaker"]["status"] in {"ok", "degraded"}
    assert set(c) == {
        "kafka", "postgres", "ingest", "risk", "executor", "ledger", "broker", "monitor",
        "kill_switch", "circuit_breaker",
    }  # fmt: skip


async def _risk_metrics(http: httpx.AsyncClient) -> None:
    body = await get(http, "/api/v2/risk/metrics")

    # C is the only open book: hedge 65 x 12 = 780 long, main 65 x 70 = 4550 short
    assert body["exposure"] == {
        "contracts": [
            {
                "instrument": "NIFTY-2026-12-01-23900-PE",
                "side": "long",
                "quantity": 65,
                "average_price": "15.00",
                "mark_price": "12.00",
                "premium": "780.00",
                "unrealized_pnl": "-195.00",
            },
            {
                "instrument": "NIFTY-2026-12-01-24100-PE",
                "side": "short",
                "quantity": 65,
                "average_price": "90.00",
                "mark_price": "70.00",
                "premium": "4550.00",
                "unrealized_pnl": "1300.00",
            },
        ],
        "short_premium": "4550.00",
        "long_premium": "780.00",
        "premium_at_risk": "3770.00",
    }
    # risk counts C and E open, one lot each: margin 2 x 60,000
    assert (body["open_trades"], body["open_lots"], body["largest_trade_lots"]) == (2, 2, 1)
    assert body["margin"] == {"estimated_used": "120000.00", "limit": "600000.00"}
    # today: B realised -1950; C unrealised 1300 - 195; charges 15+10+20+15
    assert body["trading_day"] == "2026-11-25"
    assert body["pnl_today"] == {
        "realized": "-1950.00",
        "unrealized": "1105.00",
        "charges": "60.00",
        "net": "-905.00",
        "as_of": "2026-11-25T08:01:00+00:00",
    }
    # snapshots -15, -25, -45, -2010, -710, -905: the day's peak is its start (0)
    assert body["drawdown_today"] == "905.00"
    assert body["loss_today"] == "905.00"
    assert body["limits"] == {
        "max_open_trades": {"value": 4, "source": "control"},
        "max_lots_per_trade": {"value": 10, "source": "risk"},
        "max_margin": {"value": "600000.00", "source": "risk"},
        "margin_per_lot": {"value": "60000.00", "source": "risk"},
        "max_daily_loss": {"value": "50000.00", "source": "risk"},
        "panic_loss": {"value": "75000.00", "source": "risk"},
    }
    assert body["utilisation_pct"] == {
        "max_open_trades": "50.00",  # 2 / 4
        "max_lots_per_trade": "10.00",  # 1 / 10
        "max_margin": "20.00",  # 120,000 / 600,000
        "max_daily_loss": "1.81",  # 905 / 50,000
        "panic_loss": "1.21",  # 905 / 75,000 = 1.2067
    }


def _sharpe(daily_nets: list[int], days: int) -> str:
    returns = [n / CAPITAL for n in daily_nets] + [0.0] * (days - len(daily_nets))
    value = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    return f"{value:.4f}"


async def _analytics(http: httpx.AsyncClient) -> None:
    today = await get(http, "/api/v2/performance/analytics?period=today")
    week = await get(http, "/api/v2/performance/analytics?period=week")
    month = await get(http, "/api/v2/performance/analytics?period=month")
    everything = await get(http, "/api/v2/performance/analytics?period=all")
    default = await get(http, "/api/v2/performance/analytics")

    b_only = {
        "trades": 1,
        "gross_pnl": "-1950.00",
        "charges": "30.00",
        "net_pnl": "-1980.00",
        "pnl_wins": 0,
        "pnl_losses": 1,
        "pnl_win_rate_pct": "0.00",
        "index_known": 1,
        "index_wins": 0,
        "index_win_rate_pct": "0.00",
        "average_win": None,
        "average_loss": "-1980.00",
        "expectancy": "-1980.00",
        "profit_factor": "0.0000",
        "max_drawdown": "1980.00",
        "max_drawdown_pct": "0.40",  # 1980 / 500,000
        "sharpe": None,  # one day
        "days": 1,
    }
    assert today["period"] == "today"
    assert today["from"] == "2026-11-25T00:00:00+05:30"
    assert today["capital"] == "500000.00"
    assert today["overall"] == b_only
    assert today["per_signal"] == {"S3": b_only}

    # A then B: curve 1890, -90; Monday and Wednesday (Tuesday 11-24 is a holiday)
    a_and_b = {
        "trades": 2,
        "gross_pnl": "0.00",
        "charges": "90.00",
        "net_pnl": "-90.00",
        "pnl_wins": 1,
        "pnl_losses": 1,
        "pnl_win_rate_pct": "50.00",
        "index_known": 2,
        "index_wins": 1,
        "index_win_rate_pct": "50.00",
        "average_win": "1890.00",
        "average_loss": "-1980.00",
        "expectancy": "-45.00",
        "profit_factor": "0.9545",  # 1890 / 1980
        "max_drawdown": "1980.00",
        "max_drawdown_pct": "0.39",  # 1980 / 501,890
        "sharpe": "-0.2610",  # -90 sqrt(126) / 3870
        "days": 2,
    }
    assert week["from"] == "2026-11-23T00:00:00+05:30"
    assert week["overall"] == a_and_b
    assert _sharpe([1890, -1980], 2) == "-0.2610"
    assert week["per_signal"]["S1"]["net_pnl"] == "1890.00"
    assert week["per_signal"]["S1"]["sharpe"] == "11.2250"  # returns r, 0: sqrt(126)
    assert week["per_signal"]["S3"]["sharpe"] == "-11.2250"

    # November: 16 trading days to the 25th (10th and 24th are holidays); more zero days
    assert month["from"] == "2026-11-01T00:00:00+05:30"
    assert month["overall"] == {**a_and_b, "sharpe": _sharpe([1890, -1980], 16), "days": 16}

    # all: D (10-30) -2624, A +1890, B -1980 -> curve -2624, -734, -2714
    assert everything["from"] is None
    assert everything["overall"] == {
        "trades": 3,
        "gross_pnl": "-2600.00",
        "charges": "114.00",
        "net_pnl": "-2714.00",
        "pnl_wins": 1,
        "pnl_losses": 2,
        "pnl_win_rate_pct": "33.33",
        "index_known": 2,  # D was stopped by the server: no exit index of its own
        "index_wins": 1,
        "index_win_rate_pct": "50.00",
        "average_win": "1890.00",
        "average_loss": "-2302.00",
        "expectancy": "-904.67",
        "profit_factor": "0.4105",  # 1890 / 4604
        "max_drawdown": "2714.00",
        "max_drawdown_pct": "0.54",  # 2714 / 500,000
        "sharpe": _sharpe([-2624, 1890, -1980], 17),  # 10-30 and the 16 November days
        "days": 17,
    }
    assert everything["per_signal"]["S1"]["trades"] == 2
    assert everything["per_signal"]["S1"]["net_pnl"] == "-734.00"
    assert everything["per_signal"]["S1"]["index_known"] == 1
    assert default["overall"] == everything["overall"]

    bad = await get(http, "/api/v2/performance/analytics?period=year", status=422)
    assert "'today', 'week', 'month' or 'all'" in str(bad["detail"])


async def _active_signals(http: httpx.AsyncClient, signals: dict[str, SignalReceived]) -> None:
    body = await get(http, "/api/v2/webhook/signals/active")

    assert body["count"] == 3
    assert [(s["signal"], s["state"]) for s in body["signals"]] == [
        ("S7", "open"),
        ("S5", "opening"),
        ("S8", "pending_approval"),
    ]
    c = body["signals"][0]
    assert c["signal_id"] == str(signals["C"].signal_id)
    assert c["trade_id"] == str(tid("C"))
    assert c["price"] == "24100.00"
    assert body["signals"][2]["signal_id"] == str(signals["H"].signal_id)
    pending = body["signals"][2]
    assert pending["expires_at"] == "2026-11-25T08:45:00+00:00"
    assert pending["received_at"] == "2026-11-25T08:30:00+00:00"
    assert pending["price"] == "24180.00"
    assert (pending["trade_id"], pending["decided_at"]) == (None, None)
    assert set(pending) == set(c) | {"expires_at"}


async def _trades(http: httpx.AsyncClient, signals: dict[str, SignalReceived]) -> None:
    first = await get(http, "/api/v2/trades?limit=2")
    assert [t["trade_id"] for t in first["trades"]] == [str(tid("C")), str(tid("B"))]
    second = await get(http, f"/api/v2/trades?limit=2&cursor={first['next_cursor']}")
    assert [t["trade_id"] for t in second["trades"]] == [str(tid("A")), str(tid("D"))]
    assert second["next_cursor"] is None
    assert first["trades"][0]["status"] == "open"
    assert first["trades"][0]["net_pnl"] is None
    assert first["trades"][1]["net_pnl"] == "-1980.00"

    open_ = await get(http, "/api/v2/trades?status=open")
    assert [t["trade_id"] for t in open_["trades"]] == [str(tid("C"))]
    s1_closed = await get(http, "/api/v2/trades?status=closed&signal=S1")
    assert [t["trade_id"] for t in s1_closed["trades"]] == [str(tid("A")), str(tid("D"))]
    assert (await get(http, "/api/v2/trades?signal=S8"))["count"] == 0

    detail = await get(http, f"/api/v2/trades/{tid('A')}")
    assert (detail["status"], detail["signal"]) == ("closed", "S1")
    assert (detail["gross_pnl"], detail["charges"], detail["net_pnl"]) == (
        "1950.00",
        "60.00",
        "1890.00",
    )
    assert detail["opened_at"] == "2026-11-23T04:00:01+00:00"
    assert detail["closed_at"] == "2026-11-23T09:00:06+00:00"
    hedge, main = detail["legs"]
    assert hedge == {
        "leg": "hedge",
        "instrument": "NIFTY-2026-12-01-23800-PE",
        "net_quantity": 0,
        "bought": 65,
        "sold": 65,
        "average_buy": "20.00",
        "average_sell": "10.00",
        "cash": "-650.00",
        "charges": "20.00",
    }
    assert (main["cash"], main["average_sell"], main["average_buy"]) == (
        "2600.00",
        "100.00",
        "60.00",
    )
    assert [(f["purpose"], f["leg"], f["side"], f["price"]) for f in detail["fills"]] == [
        ("entry", "hedge", "BUY", "20.00"),
        ("entry", "main", "SELL", "100.00"),
        ("exit", "main", "BUY", "60.00"),
        ("exit", "hedge", "SELL", "10.00"),
    ]
    assert {f["signal_id"] for f in detail["fills"]} == {
        str(signals["A"].signal_id),
        str(derived_id("signal", "S1|NIFTY|2026-W48|exit|Ax")),
    }

    await get(http, f"/api/v2/trades/{uuid.uuid4()}", status=404)
    await get(http, "/api/v2/trades/not-a-trade", status=422)
    await get(http, "/api/v2/trades?limit=501", status=422)
    await get(http, "/api/v2/trades?limit=0", status=422)
    await get(http, "/api/v2/trades?status=done", status=422)
    await get(http, "/api/v2/trades?signal=S9", status=422)
    bad = await get(http, "/api/v2/trades?cursor=bm90LWEtY3Vyc29y", status=422)
    assert bad["detail"] == "cursor is not one this API issued"


async def _openapi(http: httpx.AsyncClient) -> None:
    paths = (await get(http, "/openapi.json"))["paths"]

    for path in [
        "/api/v2/broker/status",
        "/api/v2/risk/metrics",
        "/api/v2/performance/analytics",
        "/api/v2/webhook/signals/active",
        "/api/v2/trades",
        "/api/v2/trades/{trade_id}",
        "/api/v2/health",
    ]:
        assert paths[path]["get"]["summary"], path
    assert (await http.get("/docs")).status_code == 200
