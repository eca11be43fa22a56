"""Hourly NIFTY bars from Breeze: the real SDK reads the simulator's index candles through
BreezeBroker, and the feed publishes each bar once to a real Kafka topic, across a restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
import pytest_asyncio

from libs.common.kafka import ensure_topics, make_producer, publish
from libs.common.messages import BarClosed
from libs.common.topics import Topic
from libs.market.calendar import IST
from services.executor.adapters.breeze import BreezeBroker, BreezeBrokerConfig
from services.executor.adapters.breeze_bars import (
    BarFeedConfig,
    BreezeBarFeed,
    bar_end,
    bar_message_id,
    bar_starts,
    published_bar_starts,
)
from services.executor.adapters.breeze_sdk import create_breeze_client
from sim.breeze.candles import index_path
from sim.breeze.server import SimServer
from tests.integration import kafka_tools
from tests.integration import test_breeze_sim_sdk as sim_sdk
from tests.waiting import eventually

pytestmark = pytest.mark.integration

# The simulator fixtures of the SDK conformance tests, reused as they are.
guard = sim_sdk.guard
sim = sim_sdk.sim
control = sim_sdk.control

# A past Monday: Kafka stamps records with the real time, which must not precede the bar day.
DAY = date(2026, 11, 23)


def ist(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(DAY, time(hh, mm, ss), tzinfo=IST)


class SimTime:
    """The feed's clock and sleep: the simulator's clock, moved instead of waited on."""

    def __init__(self, server: SimServer) -> None:
        self.clock = server.state.clock
        self.stop_at: datetime | None = None  # sleeping past this blocks until cancelled

    def now(self) -> datetime:
        return self.clock.now()

    def set(self, at: datetime) -> None:
        self.clock.offset = at - datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        if self.stop_at is not None and self.now() >= self.stop_at:
            await asyncio.Event().wait()
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sim_time(sim: SimServer, control: httpx.Client) -> Iterator[SimTime]:
    del control
    moved = SimTime(sim)
    yield moved
    sim.state.clock.offset = timedelta(0)


@pytest_asyncio.fixture
async def topic(kafka_bootstrap: str) -> AsyncIterator[Topic]:
    fresh = Topic(f"strikeflow.test.bars.{uuid.uuid4().hex[:12]}", partitions=1)
    await ensure_topics(kafka_bootstrap, [fresh])
    yield fresh


def login(sim: SimServer, control: httpx.Client) -> BreezeBroker:
    """A broker on a client logged in at the simulator's current time."""
    api_session = control.post("/sessions", json={}).json()["api_session"]
    client = create_breeze_client(sim_sdk.APP_KEY, sim.url)
    client.generate_session(api_secret=sim_sdk.SECRET, session_token=api_session)
    return BreezeBroker(client, BreezeBrokerConfig(call_timeout_s=5.0))


def expected_bar(start: datetime) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The bar straight from the simulator's one-minute walk (each minute opens at the last
    minute's close)."""
    path = index_path("NIFTY", DAY, Decimal(25000))
    naive = start.replace(tzinfo=None)
    end = bar_end(start).replace(tzinfo=None)
    points: list[Decimal] = []
    previous: Decimal | None = None
    for moment, price in path:
        if naive <= moment < end:
            points += [previous if previous is not None else price, price]
        previous = price
    return points[0], max(points), min(points), points[-1]


def historical(control: httpx.Client) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = control.get("/calls").json()
    return [c for c in calls if c["endpoint"] == "v2/historicalcharts"]


def historical_calls(control: httpx.Client) -> int:
    return len(historical(control))


async def read_bars(bootstrap: str, topic: Topic, count: int) -> list[BarClosed]:
    messages = await kafka_tools.read_from(bootstrap, topic.name, {0: 0}, count + 1, 3000)
    return [m for m in messages if isinstance(m, BarClosed)]


async def test_bars_are_published_once_each_across_a_restart(
    sim: SimServer,
    control: httpx.Client,
    sim_time: SimTime,
    topic: Topic,
    kafka_bootstrap: str,
) -> None:
    producer = make_producer(kafka_bootstrap, "breeze-bars-test")
    await producer.start()

    async def send(bar: BarClosed) -> None:
        await publish(producer, topic, bar, key=bar.symbol)

    published = partial(published_bar_starts, kafka_bootstrap, topic)
    config = BarFeedConfig(interval="1minute", delay_s=20)
    try:
        # Not logged in yet: the broker error is logged, nothing is published, nothing raised.
        sim_time.set(ist(12, 40))
        idle = BreezeBroker(create_breeze_client(sim_sdk.APP_KEY, sim.url))
        feed = BreezeBarFeed(idle, send, sim_time, config, published, sim_time.sleep)
        assert await feed.poll_safely() == 0
        idle.close()

        # The first process: one fetch back-fills the three bars closed so far.
        first = login(sim, control)
        feed = BreezeBarFeed(first, send, sim_time, config, published, sim_time.sleep)
        assert await feed.poll() == 3
        assert await feed.poll() == 0
        first.close()
        assert historical_calls(control) == 1

        # A restart at 13:15:20 runs to the end of the day on the simulator's clock.
        sim_time.set(ist(13, 15, 20))
        sim_time.stop_at = ist(15, 31)
        second = login(sim, control)
        feed = BreezeBarFeed(second, send, sim_time, config, published, sim_time.sleep)
        runner = asyncio.create_task(feed.run())
        try:
            await _until(sim_time, ist(15, 31))
        finally:
            runner.cancel()
            second.close()
    finally:
        await producer.stop()

    bars = await read_bars(kafka_bootstrap, topic, 7)
    starts = bar_starts(DAY)
    assert [b.start for b in bars] == [s.astimezone(UTC) for s in starts]  # once each, in order
    assert [b.message_id for b in bars] == [bar_message_id("NIFTY", s) for s in starts]
    assert {b.source for b in bars} == {"breeze"}
    for bar, start in zip(bars, starts, strict=True):
        assert (bar.open, bar.high, bar.low, bar.close) == expected_bar(start)
    # the back-fill, then one call per close after the restart (13:15 back-fill, 14:15, 15:15,
    # 15:30); the call made before the login never reached the gateway
    assert historical_calls(control) == 1 + 4


async def _until(sim_time: SimTime, at: datetime) -> None:
    async def now() -> datetime:
        return sim_time.now()

    await eventually(now, lambda t: t >= at, 60, "the simulated day ran to its end")


async def test_thirty_minute_candles_give_the_same_bars_as_one_minute_candles(
    sim: SimServer, control: httpx.Client, sim_time: SimTime
) -> None:
    sim_time.set(ist(16, 0))
    broker = login(sim, control)
    got: dict[str, list[BarClosed]] = {"1minute": [], "30minute": []}
    try:
        for interval in ("1minute", "30minute"):

            async def keep(bar: BarClosed, into: list[BarClosed] = got[interval]) -> None:
                into.append(bar)

            config = BarFeedConfig(interval=interval)
            assert await BreezeBarFeed(broker, keep, sim_time, config).poll() == 7
    finally:
        broker.close()
    by_minute, by_half_hour = (
        [(b.message_id, b.start, b.open, b.high, b.low, b.close) for b in got[interval]]
        for interval in ("1minute", "30minute")
    )
    assert by_minute == by_half_hour
    assert len(by_minute) == 7


async def test_the_broker_reads_index_candles_through_the_sdk(
    sim: SimServer, control: httpx.Client, sim_time: SimTime
) -> None:
    sim_time.set(ist(9, 20, 5))
    broker = login(sim, control)
    try:
        rows: list[dict[str, Any]] = await broker.index_candles("1minute", ist(9, 15), ist(9, 20))
    finally:
        broker.close()
    assert [r["datetime"] for r in rows] == [f"2026-11-23 09:1{m}:00" for m in range(5, 10)]
    [call] = historical(control)
    assert {k: call["body"][k] for k in ("stock_code", "exch_code", "product_type")} == {
        "stock_code": "NIFTY",
        "exch_code": "NSE",
        "product_type": "cash",
    }
    assert call["body"]["from_date"] == "2026-11-23T09:15:00.000Z"  # IST labelled Z
