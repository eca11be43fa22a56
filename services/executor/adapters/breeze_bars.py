"""Live NIFTY hourly bars onto market.bars, built from Breeze index candles (strategy.md 1.2).

Breeze offers no hourly interval (breeze.md 3.9), so after each hourly bar closes the feed reads
the day's index candles (``1minute`` by default; ``5minute`` and ``30minute`` work too) with one
historical-v2 call through :class:`~services.executor.adapters.breeze.BreezeBroker` (so the call
guard and the daily budget apply) and aggregates them into the bars labelled by start time:
09:15, 10:15, ..., 14:15 and the short 15:15 bar (15:15-15:30), on NSE trading days only.

Each bar is published once, as ``BarClosed(source="breeze")`` with a ``message_id`` derived from
the symbol and the bar's start, so a repeat (a restart between publishing and remembering) is
recognisable downstream. On start the feed reads which of today's bars the topic already holds
and back-fills the rest. Polling is sparse: one fetch ``delay_s`` after each close, then a few
retries with doubling gaps while a due bar is missing (the day's fetch always covers every
earlier bar of the day, so one later success fills every gap). A bar whose last candle never
arrives is published from the candles it has at the last retry, with a warning; a bar without
any candle is never invented. Broker errors and missing data are logged and retried; nothing here
stops the executor.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.common.clock import Clock
from libs.common.logging import get_logger
from libs.common.messages import BarClosed, decode, derived_id
from libs.common.topics import Topic
from libs.market.calendar import (
    IST,
    CalendarRangeError,
    SessionKind,
    is_trading_day,
    session_close,
    session_open,
    special_session,
)
from services.executor.broker import BrokerUnavailableError
from services.executor.settings import ExecutorSettings

log = get_logger(__name__)

SOURCE = "breeze"
BAR_LENGTH = timedelta(hours=1)
CANDLE_STEPS: dict[str, timedelta] = {
    "1minute": timedelta(minutes=1),
    "5minute": timedelta(minutes=5),
    "30minute": timedelta(minutes=30),
}
CandleInterval = Literal["1minute", "5minute", "30minute"]
CandleStamp = Literal["start", "end"]
MAX_SLEEP_S = 300.0  # re-read the clock at least this often while waiting
READ_ROUNDS = 100  # reading back the day's bars gives up after about 20 s
LOOKAHEAD_DAYS = 15  # how far ahead the next session is searched for
PublishBar = Callable[[BarClosed], Awaitable[None]]
PublishedBars = Callable[[date], Awaitable[set[datetime]]]
Sleep = Callable[[float], Awaitable[None]]


class IndexCandleSource(Protocol):
    """Where the candles come from (``BreezeBroker.index_candles``)."""

    async def index_candles(
        self, interval: str, start: datetime, end: datetime, stock_code: str = "NIFTY"
    ) -> list[dict[str, Any]]: ...


# ------------------------------------------------------------------------------- schedule
def is_bar_day(day: date) -> bool:
    """Whether ``day`` has the regular 09:15-15:30 session: a trading day, or a full special
    session (a budget-day Saturday). Raises ``CalendarRangeError`` outside the calendar."""
    if is_trading_day(day):
        return True
    special = special_session(day)
    return special is not None and special.kind is SessionKind.FULL


def bar_starts(day: date) -> list[datetime]:
    """The starts (IST) of the day's hourly bars; none on a day without a session."""
    if not is_bar_day(day):
        return []
    first, close = session_open(day), session_close(day)
    starts: list[datetime] = []
    moment = first
    while moment < close:
        starts.append(moment)
        moment += BAR_LENGTH
    return starts


def bar_end(start: datetime) -> datetime:
    """When the bar starting at ``start`` closes: an hour later, the 15:15 bar at 15:30."""
    start = start.astimezone(IST)
    return min(start + BAR_LENGTH, session_close(start.date()))


def completed_bars(now: datetime) -> list[datetime]:
    """Starts of the bars of ``now``'s IST day that have closed by ``now``."""
    now = now.astimezone(IST)
    return [s for s in bar_starts(now.date()) if bar_end(s) <= now]


def latest_close(now: datetime) -> datetime | None:
    """The most recent bar close of ``now``'s IST day at or before ``now``."""
    done = completed_bars(now)
    return bar_end(done[-1]) if done else None


def next_bar_close(now: datetime) -> datetime:
    """The first bar close strictly after ``now`` (later days and holidays skipped).

    Raises ``CalendarRangeError`` when the next session lies beyond the calendar.
    """
    now = now.astimezone(IST)
    for offset in range(LOOKAHEAD_DAYS):
        for start in bar_starts(now.date() + timedelta(days=offset)):
            if bar_end(start) > now:
                return bar_end(start)
    raise CalendarRangeError(f"no NSE session within {LOOKAHEAD_DAYS} days of {now.date()}")


def attempt_offsets(delay_s: float, retries: int) -> list[float]:
    """Seconds after a close at which the feed fetches: ``delay_s``, then doubling gaps."""
    offsets, gap, at = [], delay_s, 0.0
    for _ in range(retries + 1):
        at += gap
        offsets.append(at)
        gap *= 2
    return offsets


# ------------------------------------------------------------------------------- candles
@dataclass(frozen=True)
class Candle:
    """One index candle, labelled by its start (IST)."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True)
class HourBar:
    """An hourly bar built from candles; ``complete``: its last candle was there."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    candles: int
    complete: bool


def _price(value: object) -> Decimal | None:
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return price if price.is_finite() and price > 0 else None


def parse_candles(
    rows: Iterable[dict[str, Any]], step: timedelta, stamp: CandleStamp = "start"
) -> list[Candle]:
    """Candles from historical-v2 rows (``datetime`` is IST wall-clock), sorted by start.

    ``stamp="end"`` reads each row's time as the end of its interval. Rows without a usable time
    or price are dropped; a repeated start keeps the last row.
    """
    by_start: dict[datetime, Candle] = {}
    dropped = 0
    for row in rows:
        try:
            text = str(row.get("datetime", ""))[:19]
            stamped = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - IST, below
        except ValueError:
            dropped += 1
            continue
        start = stamped.replace(tzinfo=IST) - (step if stamp == "end" else timedelta(0))
        prices = [_price(row.get(k)) for k in ("open", "high", "low", "close")]
        if any(p is None for p in prices):
            dropped += 1
            continue
        o, h, lo, c = (p for p in prices if p is not None)
        by_start[start] = Candle(start, o, max(h, o, c), min(lo, o, c), c)
    if dropped:
        log.warning("index_candles_dropped", rows=dropped)
    return [by_start[s] for s in sorted(by_start)]


def last_candle_start(start: datetime, step: timedelta) -> datetime:
    """The start of the last candle of ``step`` that begins inside the bar at ``start``."""
    length = bar_end(start) - start
    return start + ((length - timedelta(microseconds=1)) // step) * step


def aggregate(
    candles: Sequence[Candle], start: datetime, step: timedelta, final: bool = False
) -> HourBar | None:
    """The bar at ``start`` from the candles whose start lies in [start, end).

    Open is the first open, high the highest high, low the lowest low, close the last close. The
    bar is complete when its last candle is there, or a candle after the bar's end proves the
    data moved on; an incomplete bar is returned only when ``final``. None without a candle.
    """
    end = bar_end(start)
    inside = [c for c in candles if start <= c.start < end]
    if not inside:
        return None
    complete = inside[-1].start >= last_candle_start(start, step) or any(
        c.start >= end for c in candles
    )
    if not complete and not final:
        return None
    return HourBar(
        start=start,
        open=inside[0].open,
        high=max(c.high for c in inside),
        low=min(c.low for c in inside),
        close=inside[-1].close,
        candles=len(inside),
        complete=complete,
    )


def bar_message_id(symbol: str, start: datetime) -> uuid.UUID:
    """The deterministic ``message_id`` of a bar (the same bar always gets the same id)."""
    return derived_id("bar", symbol, start.astimezone(UTC).isoformat())


# ------------------------------------------------------------------------------- the feed
@dataclass(frozen=True)
class BarFeedConfig:
    """Knobs of the feed (settings ``EXECUTOR_BARS_BREEZE_*``)."""

    interval: CandleInterval = "1minute"
    candle_stamp: CandleStamp = "start"
    delay_s: float = 20.0
    retries: int = 4
    symbol: str = "NIFTY"
    offsets: list[float] = field(init=False)

    def __post_init__(self) -> None:
        if self.interval not in CANDLE_STEPS:
            raise ValueError(f"unsupported candle interval {self.interval!r}")
        object.__setattr__(self, "offsets", attempt_offsets(self.delay_s, self.retries))

    @property
    def step(self) -> timedelta:
        """The candle length."""
        return CANDLE_STEPS[self.interval]


class BreezeBarFeed:
    """Publishes each completed hourly bar of the trading day once."""

    def __init__(
        self,
        source: IndexCandleSource,
        publish: PublishBar,
        clock: Clock,
        config: BarFeedConfig | None = None,
        published: PublishedBars | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._source = source
        self._publish = publish
        self._clock = clock
        self.config = config or BarFeedConfig()
        self._published = published
        self._sleep = sleep
        self._sent: set[datetime] = (
            set()
        )  # bar starts (IST) of the current day already on the topic
        self._day: date | None = None
        self._known_day: date | None = None  # the day whose published bars were read back
        self._anchor: datetime | None = None  # retries are scheduled from here
        self.fetches = 0

    def missing(self, now: datetime) -> list[datetime]:
        """Closed bars of ``now``'s day not published yet."""
        return [s for s in completed_bars(now) if s not in self._sent]

    def _new_day(self, day: date) -> None:
        if self._day != day:
            self._day, self._sent = day, set()

    async def _load_published(self, day: date) -> None:
        if self._published is None or self._known_day == day:
            return
        try:
            found = await self._published(day)
        except Exception as exc:  # noqa: BLE001 - the id still marks a repeat downstream
            log.warning("bars_published_unreadable", day=day.isoformat(), error=str(exc)[:300])
            return
        self._known_day = day
        self._sent |= {s.astimezone(IST) for s in found if s.astimezone(IST).date() == day}
        if found:
            log.info("bars_already_published", day=day.isoformat(), bars=len(found))

    def _final(self, now: datetime) -> bool:
        """Whether this is the last scheduled attempt before the next close."""
        anchor = self._retry_anchor(now)
        return anchor is None or all(
            anchor + timedelta(seconds=o) <= now for o in self.config.offsets
        )

    def _retry_anchor(self, now: datetime) -> datetime | None:
        closes = [c for c in (latest_close(now), self._anchor) if c is not None]
        return max(closes) if closes else None

    async def poll(self) -> int:
        """Fetch the day's candles if a closed bar is unpublished; publish what is ready.

        Returns how many bars were published. Raises ``BrokerUnavailableError`` when the
        candles cannot be read.
        """
        now = self._clock.now().astimezone(IST)
        day = now.date()
        self._new_day(day)
        if not self.missing(now):
            return 0
        await self._load_published(day)
        due = self.missing(now)
        if not due:
            return 0
        final = self._final(now)
        self.fetches += 1
        rows = await self._source.index_candles(
            self.config.interval, session_open(day), now, self.config.symbol
        )
        candles = parse_candles(rows, self.config.step, self.config.candle_stamp)
        sent = 0
        for start in due:
            bar = aggregate(candles, start, self.config.step, final=final)
            if bar is None:
                log.info(
                    "bar_not_ready", start=start.isoformat(), candles=len(candles), final=final
                )
                continue
            if not bar.complete:
                log.warning(
                    "bar_published_without_its_last_candle",
                    start=start.isoformat(),
                    candles=bar.candles,
                )
            await self._publish(self._message(bar, now))
            self._sent.add(start)
            sent += 1
        return sent

    def _message(self, bar: HourBar, now: datetime) -> BarClosed:
        return BarClosed(
            message_id=bar_message_id(self.config.symbol, bar.start),
            ts_event=now.astimezone(UTC),
            symbol=self.config.symbol,
            start=bar.start.astimezone(UTC),
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            source=SOURCE,
        )

    async def poll_safely(self) -> int:
        """:meth:`poll`, with every failure logged instead of raised."""
        try:
            return await self.poll()
        except BrokerUnavailableError as exc:
            log.warning("index_candles_unavailable", error=str(exc)[:300])
        except CalendarRangeError as exc:
            log.error("bars_calendar_exhausted", error=str(exc))
        except Exception:  # market data must never stop the executor
            log.exception("bar_poll_failed")
        return 0

    def next_wake(self, now: datetime) -> datetime:
        """When to fetch next: shortly after the next close, or the next retry if a bar is due."""
        now = now.astimezone(IST)
        first = next_bar_close(now) + timedelta(seconds=self.config.delay_s)
        anchor = self._retry_anchor(now)
        if not self.missing(now) or anchor is None:
            return first
        later = [anchor + timedelta(seconds=o) for o in self.config.offsets]
        return min([first, *(t for t in later if t > now)])

    async def run(self) -> None:
        """Back-fill today, then fetch after every close; runs until cancelled."""
        now = self._clock.now().astimezone(IST)
        self._anchor = now - timedelta(seconds=self.config.delay_s)
        log.info(
            "breeze_bars_started",
            interval=self.config.interval,
            delay_s=self.config.delay_s,
            retries=self.config.retries,
        )
        await self.poll_safely()
        while True:
            try:
                target = self.next_wake(self._clock.now())
            except CalendarRangeError as exc:
                log.error("bars_calendar_exhausted", error=str(exc))
                await self._sleep(3600.0)
                continue
            while (left := (target - self._clock.now()).total_seconds()) > 0:
                await self._sleep(min(left, MAX_SLEEP_S))
            await self.poll_safely()


# ------------------------------------------------------------------------------- restart
async def published_bar_starts(
    bootstrap: str, topic: Topic, day: date, symbol: str = "NIFTY"
) -> set[datetime]:
    """Starts of the ``source="breeze"`` bars of ``day`` already on ``topic``.

    Reads only the records written since the IST day began (by record time).
    """
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        since = int(datetime.combine(day, datetime.min.time(), tzinfo=IST).timestamp() * 1000)
        found_at = await consumer.offsets_for_times(dict.fromkeys(tps, since))
        ends = await consumer.end_offsets(tps)
        first = {tp: at.offset for tp, at in found_at.items() if at is not None}
        todo = {tp: ends[tp] for tp in first}
        if not todo:
            return set()
        consumer.assign(list(todo))
        for tp, offset in first.items():
            consumer.seek(tp, offset)
        starts: set[datetime] = set()
        for _ in range(READ_ROUNDS):
            if not todo:
                return starts
            batch = await consumer.getmany(*todo, timeout_ms=200)
            for tp, records in batch.items():
                for record in records:
                    starts |= _bar_start(record.value, day, symbol)
                    if record.offset + 1 >= todo.get(tp, 0):
                        todo.pop(tp, None)
            for tp in list(todo):
                if await consumer.position(tp) >= todo[tp]:
                    todo.pop(tp)
        raise TimeoutError(f"{topic.name}: the day's records were not read back in time")
    finally:
        await consumer.stop()


def _bar_start(raw: bytes | None, day: date, symbol: str) -> set[datetime]:
    try:
        message = decode(raw or b"")
    except ValueError:
        return set()
    if (
        isinstance(message, BarClosed)
        and message.source == SOURCE
        and message.symbol == symbol
        and message.start.astimezone(IST).date() == day
    ):
        return {message.start.astimezone(IST)}
    return set()


# ------------------------------------------------------------------------------- wiring
def resolve_bars_source(
    setting: Literal["auto", "replay", "breeze", "off"], breeze_session: bool, replay_csv: str
) -> Literal["breeze", "replay", "off"]:
    """What feeds market.bars: ``auto`` is Breeze when a Breeze session is configured (live, or
    paper with Breeze quotes), else the replay CSV when one is set, else nothing."""
    if setting == "auto":
        return "breeze" if breeze_session else "replay" if replay_csv else "off"
    if setting == "replay" and not replay_csv:
        return "off"
    return setting


def feed_config(settings: ExecutorSettings) -> BarFeedConfig:
    """The feed's knobs from the executor settings (``EXECUTOR_BARS_BREEZE_*``)."""
    return BarFeedConfig(
        interval=settings.bars_breeze_interval,
        candle_stamp=settings.bars_breeze_candle_stamp,
        delay_s=settings.bars_breeze_delay_s,
        retries=settings.bars_breeze_retries,
    )
