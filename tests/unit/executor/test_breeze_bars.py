"""Hourly bars from Breeze index candles: the bar schedule, the aggregation and the feed's
polling decisions (a scripted candle source; no Kafka, no broker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from libs.common.clock import FixedClock
from libs.common.messages import BarClosed
from libs.market.calendar import IST, CalendarRangeError
from services.executor.adapters.breeze_bars import (
    BarFeedConfig,
    BreezeBarFeed,
    Candle,
    aggregate,
    attempt_offsets,
    bar_end,
    bar_message_id,
    bar_starts,
    completed_bars,
    feed_config,
    next_bar_close,
    parse_candles,
    resolve_bars_source,
)
from services.executor.broker import BrokerUnavailableError
from services.executor.settings import ExecutorSettings

WED = date(2026, 11, 25)  # a regular Wednesday
HOLIDAY = date(2026, 11, 24)  # Guru Nanak Jayanti, a Tuesday
MINUTE = timedelta(minutes=1)


def ist(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=IST)


# ------------------------------------------------------------------------------- schedule
def test_a_regular_day_has_seven_bars_the_last_one_short() -> None:
    starts = bar_starts(WED)
    assert [s.strftime("%H:%M") for s in starts] == [
        "09:15",
        "10:15",
        "11:15",
        "12:15",
        "13:15",
        "14:15",
        "15:15",
    ]
    assert bar_end(starts[0]) == ist(WED, 10, 15)
    assert bar_end(starts[-1]) == ist(WED, 15, 30)


def test_holidays_and_weekends_have_no_bars_but_a_budget_saturday_does() -> None:
    assert bar_starts(HOLIDAY) == []
    assert bar_starts(date(2026, 11, 28)) == []  # Saturday
    assert bar_starts(date(2026, 11, 8)) == []  # Muhurat-only Sunday
    assert len(bar_starts(date(2025, 2, 1))) == 7  # Union Budget Saturday, a full session


@pytest.mark.parametrize(
    ("at", "done"),
    [
        ((9, 0), []),
        ((10, 14, 59), []),
        ((10, 15), ["09:15"]),
        ((12, 40), ["09:15", "10:15", "11:15"]),
        ((15, 14), ["09:15", "10:15", "11:15", "12:15", "13:15"]),
        ((15, 15), ["09:15", "10:15", "11:15", "12:15", "13:15", "14:15"]),
        ((15, 30), ["09:15", "10:15", "11:15", "12:15", "13:15", "14:15", "15:15"]),
        ((23, 0), ["09:15", "10:15", "11:15", "12:15", "13:15", "14:15", "15:15"]),
    ],
)
def test_completed_bars_at_an_ist_time(at: tuple[int, ...], done: list[str]) -> None:
    now = ist(WED, *at).astimezone(UTC)  # the caller's zone does not matter
    assert [s.strftime("%H:%M") for s in completed_bars(now)] == done


def test_completed_bars_on_a_holiday_is_empty() -> None:
    assert completed_bars(ist(HOLIDAY, 16, 0)) == []


def test_next_close_skips_the_evening_weekend_and_holidays() -> None:
    assert next_bar_close(ist(WED, 10, 15)) == ist(WED, 11, 15)
    assert next_bar_close(ist(WED, 15, 14)) == ist(WED, 15, 15)
    assert next_bar_close(ist(WED, 15, 15)) == ist(WED, 15, 30)
    assert next_bar_close(ist(date(2026, 11, 23), 16, 0)) == ist(WED, 10, 15)  # over the holiday
    assert next_bar_close(ist(date(2026, 11, 27), 16, 0)) == ist(date(2026, 11, 30), 10, 15)


def test_next_close_beyond_the_calendar_raises() -> None:
    with pytest.raises(CalendarRangeError):
        next_bar_close(ist(date(2026, 12, 31), 16, 0))


def test_attempts_double_their_gaps() -> None:
    assert attempt_offsets(20, 4) == [20, 60, 140, 300, 620]
    assert attempt_offsets(20, 0) == [20]


# ------------------------------------------------------------------------------- candles
def minute_rows(day: date, first: datetime, last: datetime, base: float = 25000.0) -> list[Any]:
    """One-minute rows as historical v2 sends them: price = base + minutes since 09:15."""
    rows = []
    moment = first
    while moment <= last:
        n = (moment - ist(day, 9, 15)) // MINUTE
        rows.append(
            {
                "datetime": moment.strftime("%Y-%m-%d %H:%M:%S"),
                "open": base + n,
                "high": base + n + 0.5,
                "low": base + n - 0.25,
                "close": base + n + 0.35,
            }
        )
        moment += MINUTE
    return rows


def test_parse_reads_ist_wall_clock_and_exact_decimals() -> None:
    [candle] = parse_candles(minute_rows(WED, ist(WED, 9, 15), ist(WED, 9, 15)), MINUTE)
    assert candle.start == ist(WED, 9, 15)
    assert candle.start.astimezone(UTC) == datetime(2026, 11, 25, 3, 45, tzinfo=UTC)
    assert (candle.open, candle.high, candle.low, candle.close) == (
        Decimal("25000.0"),
        Decimal("25000.5"),
        Decimal("24999.75"),
        Decimal("25000.35"),
    )


def test_parse_end_stamped_candles_moves_them_to_their_start() -> None:
    rows = minute_rows(WED, ist(WED, 9, 16), ist(WED, 9, 17))
    assert [c.start for c in parse_candles(rows, MINUTE, "end")] == [
        ist(WED, 9, 15),
        ist(WED, 9, 16),
    ]


def test_parse_drops_bad_rows_and_sorts() -> None:
    rows = minute_rows(WED, ist(WED, 9, 15), ist(WED, 9, 17))
    rows.reverse()
    rows.append({"datetime": "garbage", "open": 1, "high": 1, "low": 1, "close": 1})
    rows.append({"datetime": "2026-11-25 09:20:00", "open": None, "high": 1, "low": 1, "close": 1})
    starts = [c.start for c in parse_candles(rows, MINUTE)]
    assert starts == [ist(WED, 9, 15), ist(WED, 9, 16), ist(WED, 9, 17)]


def test_an_hour_of_minutes_aggregates_to_first_open_extremes_and_last_close() -> None:
    candles = parse_candles(minute_rows(WED, ist(WED, 9, 15), ist(WED, 10, 20)), MINUTE)
    bar = aggregate(candles, ist(WED, 9, 15), MINUTE)
    assert bar is not None
    assert (bar.open, bar.high, bar.low, bar.close, bar.candles, bar.complete) == (
        Decimal("25000.0"),
        Decimal("25059.5"),  # the 10:14 candle's high; 10:15 onwards is the next bar
        Decimal("24999.75"),
        Decimal("25059.35"),
        60,
        True,
    )


def test_the_15_15_bar_takes_the_last_fifteen_minutes_only() -> None:
    candles = parse_candles(minute_rows(WED, ist(WED, 14, 0), ist(WED, 15, 29)), MINUTE)
    bar = aggregate(candles, ist(WED, 15, 15), MINUTE)
    assert bar is not None
    assert bar.candles == 15
    assert bar.open == Decimal(25000 + 360)
    assert bar.close == Decimal("25374.35")


def test_thirty_minute_candles_build_the_same_bars() -> None:
    step = timedelta(minutes=30)
    rows = [
        {"datetime": "2026-11-25 14:45:00", "open": 10, "high": 12, "low": 9, "close": 11},
        {"datetime": "2026-11-25 15:15:00", "open": 11, "high": 15, "low": 8, "close": 14},
    ]
    candles = parse_candles(rows, step)
    last = aggregate(candles, ist(WED, 15, 15), step)
    assert last is not None
    assert (last.open, last.high, last.low, last.close) == (11, 15, 8, 14)
    # the 14:15 bar lacks its 14:15 candle but its last one (14:45) is there
    partial_start = aggregate(candles, ist(WED, 14, 15), step)
    assert partial_start is not None
    assert (partial_start.open, partial_start.close) == (10, 11)


def test_a_bar_without_its_last_candle_waits_unless_final() -> None:
    candles = parse_candles(minute_rows(WED, ist(WED, 9, 15), ist(WED, 10, 13)), MINUTE)
    assert aggregate(candles, ist(WED, 9, 15), MINUTE) is None
    forced = aggregate(candles, ist(WED, 9, 15), MINUTE, final=True)
    assert forced is not None
    assert not forced.complete
    assert forced.close == Decimal("25058.35")


def test_a_gap_proven_by_later_data_completes_the_bar() -> None:
    rows = minute_rows(WED, ist(WED, 9, 15), ist(WED, 10, 13))
    rows += minute_rows(WED, ist(WED, 10, 15), ist(WED, 10, 16))
    bar = aggregate(parse_candles(rows, MINUTE), ist(WED, 9, 15), MINUTE)
    assert bar is not None
    assert bar.complete


def test_no_candle_no_bar_even_when_final() -> None:
    candles = [Candle(ist(WED, 11, 0), Decimal(1), Decimal(1), Decimal(1), Decimal(1))]
    assert aggregate(candles, ist(WED, 12, 15), MINUTE, final=True) is None


def test_the_message_id_depends_on_the_bar_only() -> None:
    start = ist(WED, 9, 15)
    assert bar_message_id("NIFTY", start) == bar_message_id("NIFTY", start.astimezone(UTC))
    assert bar_message_id("NIFTY", start) != bar_message_id("NIFTY", ist(WED, 10, 15))


# ------------------------------------------------------------------------------- the feed
class ScriptedCandles:
    """Serves minute rows up to the clock's last closed minute (or raises when told to)."""

    def __init__(self, clock: FixedClock, lag: timedelta = timedelta(0)) -> None:
        self.clock = clock
        self.lag = lag
        self.calls: list[tuple[datetime, datetime]] = []
        self.failing = False
        self.empty = False
        self.stall_at: datetime | None = None

    async def index_candles(
        self, interval: str, start: datetime, end: datetime, stock_code: str = "NIFTY"
    ) -> list[dict[str, Any]]:
        assert (interval, stock_code) == ("1minute", "NIFTY")
        self.calls.append((start, end))
        if self.failing:
            raise BrokerUnavailableError("index candles unavailable: Status 500: boom")
        now = self.clock.now().astimezone(IST) - self.lag
        last = now.replace(second=0, microsecond=0) - MINUTE
        last = min(last, ist(now.date(), 15, 29))
        if self.empty:
            return []
        if self.stall_at is not None:
            last = min(last, self.stall_at - MINUTE)
        return minute_rows(now.date(), start.astimezone(IST), last)


def feed_at(
    at: datetime, published: set[datetime] | None = None
) -> tuple[BreezeBarFeed, FixedClock, ScriptedCandles, list[BarClosed]]:
    clock = FixedClock(at)
    source = ScriptedCandles(clock)
    out: list[BarClosed] = []

    async def publish(bar: BarClosed) -> None:
        out.append(bar)

    async def already(day: date) -> set[datetime]:
        return {s for s in published or set() if s.date() == day}

    feed = BreezeBarFeed(source, publish, clock, published=already if published else None)
    return feed, clock, source, out


async def test_one_fetch_after_a_close_publishes_that_bar_once() -> None:
    feed, clock, source, out = feed_at(ist(WED, 10, 15, 20))
    assert await feed.poll() == 1
    assert await feed.poll() == 0
    assert len(source.calls) == 1
    [bar] = out
    assert bar.source == "breeze"
    assert bar.start == datetime(2026, 11, 25, 3, 45, tzinfo=UTC)
    assert bar.message_id == bar_message_id("NIFTY", ist(WED, 9, 15))
    assert (bar.open, bar.close) == (Decimal("25000.0"), Decimal("25059.35"))
    assert bar.ts_event == clock.now()
    assert source.calls[0] == (ist(WED, 9, 15), ist(WED, 10, 15, 20))


async def test_a_late_start_back_fills_the_day_with_one_fetch() -> None:
    feed, _, source, out = feed_at(ist(WED, 13, 30))
    assert await feed.poll() == 4
    assert [b.start.astimezone(IST).strftime("%H:%M") for b in out] == [
        "09:15",
        "10:15",
        "11:15",
        "12:15",
    ]
    assert len(source.calls) == 1


async def test_a_restart_skips_bars_already_on_the_topic() -> None:
    feed, _, _, out = feed_at(ist(WED, 12, 16), published={ist(WED, 9, 15), ist(WED, 10, 15)})
    assert await feed.poll() == 1
    assert [b.start.astimezone(IST).strftime("%H:%M") for b in out] == ["11:15"]


async def test_nothing_is_fetched_on_a_holiday_or_before_the_first_close() -> None:
    feed, _, source, _ = feed_at(ist(HOLIDAY, 12, 0))
    assert await feed.poll() == 0
    feed, _, source, _ = feed_at(ist(WED, 10, 14))
    assert await feed.poll() == 0
    assert source.calls == []


async def test_a_late_last_candle_is_retried_with_doubling_gaps() -> None:
    feed, clock, source, out = feed_at(ist(WED, 10, 15, 20))
    source.lag = timedelta(minutes=3)  # the gateway is three minutes behind
    await feed.poll()
    for expected in (ist(WED, 10, 16), ist(WED, 10, 17, 20), ist(WED, 10, 20)):
        assert out == []
        clock.set(feed.next_wake(clock.now()))
        assert clock.now() == expected
        await feed.poll()
    [bar] = out
    assert bar.close == Decimal("25059.35")  # the 10:14 candle's close
    assert len(source.calls) == 4
    assert feed.next_wake(clock.now()) == ist(WED, 11, 15, 20)


async def test_a_last_candle_that_never_comes_is_published_without_it_at_the_last_attempt() -> None:
    feed, clock, source, out = feed_at(ist(WED, 10, 15, 20))
    source.stall_at = ist(WED, 10, 14)  # nothing from 10:14 on, so no later candle proves a gap
    await feed.poll()
    for _ in range(4):
        assert out == []
        clock.set(feed.next_wake(clock.now()))
        await feed.poll()
    assert clock.now() == ist(WED, 10, 25, 20)  # 20 + 40 + 80 + 160 + 320 s after the close
    [bar] = out
    assert bar.close == Decimal("25058.35")  # the 10:13 candle's close
    assert len(source.calls) == 5  # never more than five calls for a close
    assert feed.next_wake(clock.now()) == ist(WED, 11, 15, 20)


async def test_without_candles_nothing_is_invented_and_the_next_close_fills_the_gap() -> None:
    feed, clock, source, out = feed_at(ist(WED, 10, 15, 20))
    source.empty = True
    await feed.poll()
    for _ in range(4):
        clock.set(feed.next_wake(clock.now()))
        await feed.poll()
    assert out == []
    assert feed.next_wake(clock.now()) == ist(WED, 11, 15, 20)
    source.empty = False
    clock.set(ist(WED, 11, 15, 20))
    assert await feed.poll() == 2
    assert [b.start.astimezone(IST).hour for b in out] == [9, 10]


async def test_a_broker_error_is_contained_and_retried() -> None:
    feed, clock, source, out = feed_at(ist(WED, 10, 15, 20))
    source.failing = True
    assert await feed.poll_safely() == 0
    clock.set(feed.next_wake(clock.now()))
    source.failing = False
    assert await feed.poll_safely() == 1
    assert len(out) == 1


async def test_after_the_last_bar_the_next_wake_is_the_next_trading_day() -> None:
    feed, clock, _, out = feed_at(ist(date(2026, 11, 23), 15, 30, 20))  # Monday
    assert await feed.poll() == 7
    assert out[-1].start == ist(date(2026, 11, 23), 15, 15)
    assert feed.next_wake(clock.now()) == ist(WED, 10, 15, 20)  # Tuesday is a holiday


async def test_run_back_fills_then_follows_the_closes() -> None:
    clock = FixedClock(ist(WED, 11, 0))
    source = ScriptedCandles(clock)
    out: list[BarClosed] = []

    async def publish(bar: BarClosed) -> None:
        out.append(bar)

    async def sleep(seconds: float) -> None:
        clock.set(clock.now() + timedelta(seconds=seconds))
        if clock.now() >= ist(WED, 15, 31):
            raise RuntimeError("stop")

    feed = BreezeBarFeed(source, publish, clock, BarFeedConfig(delay_s=20), sleep=sleep)
    with pytest.raises(RuntimeError, match="stop"):
        await feed.run()
    assert [b.start.astimezone(IST).strftime("%H:%M") for b in out] == [
        "09:15",
        "10:15",
        "11:15",
        "12:15",
        "13:15",
        "14:15",
        "15:15",
    ]
    assert len({b.message_id for b in out}) == 7
    assert len(source.calls) == 7  # one at the start, then one per close (six of them)


@pytest.mark.parametrize(
    ("setting", "breeze", "csv", "chosen"),
    [
        ("auto", True, "", "breeze"),
        ("auto", True, "bars.csv", "breeze"),
        ("auto", False, "bars.csv", "replay"),
        ("auto", False, "", "off"),
        ("replay", True, "", "off"),
        ("replay", True, "bars.csv", "replay"),
        ("breeze", False, "", "breeze"),
        ("off", True, "bars.csv", "off"),
    ],
)
def test_the_bar_source_setting(setting: Any, breeze: bool, csv: str, chosen: str) -> None:
    assert resolve_bars_source(setting, breeze, csv) == chosen


def test_feed_config_from_the_settings() -> None:
    settings = ExecutorSettings(
        bars_breeze_interval="30minute",
        bars_breeze_candle_stamp="end",
        bars_breeze_delay_s=30,
        bars_breeze_retries=2,
    )
    config = feed_config(settings)
    assert (config.interval, config.candle_stamp, config.offsets) == (
        "30minute",
        "end",
        [30, 90, 210],
    )
    assert config.step == timedelta(minutes=30)
