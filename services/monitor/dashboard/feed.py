"""The dashboard's live feed: Kafka records in, dashboard events out to the hub.

The feed reads without a consumer group and commits nothing: each monitor process starts at the
end of every fact topic (a live view has nothing to catch up on) and replays the two small
compacted state topics, control and broker status, from their beginning without broadcasting,
so its own safety and broker state is complete before the first client connects.

After a batch that moved money or approvals, it re-reads positions or pending approvals from
PostgreSQL and broadcasts them whole. The ledger publishes its P&L snapshot only after it has
booked the fill or mark behind it, so a ``pnl`` record is the signal that positions changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from libs.common.clock import Clock
from libs.common.control import ControlFacts, apply_control
from libs.common.logging import get_logger
from libs.common.messages import (
    AnyMessage,
    BrokerStatusChanged,
    ControlSet,
    PnlSnapshot,
    ResolvePending,
    RiskDecisionMade,
    decode,
)
from libs.common.topics import (
    BROKER_STATUS,
    CONTROL,
    FILLS,
    ORDER_EVENTS,
    PNL,
    POSITIONS,
    RISK_DECISIONS,
    SIGNALS,
    Topic,
)
from services.monitor.dashboard.events import event, safety_view, to_event
from services.monitor.dashboard.hub import Hub
from services.monitor.dashboard.store import DashboardStore

log = get_logger(__name__)

LIVE_TOPICS: tuple[Topic, ...] = (SIGNALS, RISK_DECISIONS, ORDER_EVENTS, FILLS, PNL, POSITIONS)
STATE_TOPICS: tuple[Topic, ...] = (CONTROL, BROKER_STATUS)


@dataclass
class FeedState:
    """What the feed has folded from the compacted state topics."""

    control: ControlFacts = field(default_factory=ControlFacts)
    control_history: dict[str, ControlSet] = field(default_factory=dict)
    broker: BrokerStatusChanged | None = None

    def apply(self, message: AnyMessage) -> bool:
        """Fold one state record; True when it changed the safety or broker state."""
        if isinstance(message, ControlSet):
            self.control = apply_control(self.control, message)
            self.control_history[message.key.value] = message
            return True
        if isinstance(message, BrokerStatusChanged):
            self.broker = message
            return True
        return False

    def safety(self) -> dict[str, Any]:
        """The safety status as the dashboard shows it."""
        return safety_view(self.control, self.control_history)


@dataclass
class _Refresh:
    positions: bool = False
    pending: bool = False

    def note(self, message: AnyMessage) -> None:
        if isinstance(message, PnlSnapshot):
            self.positions = True
        if isinstance(message, RiskDecisionMade | ResolvePending):
            self.pending = True


class LiveFeed:
    """Consumes the fact and state topics and broadcasts dashboard events."""

    def __init__(
        self, bootstrap: str, hub: Hub, store: DashboardStore, clock: Clock, client_id: str
    ) -> None:
        self._bootstrap = bootstrap
        self._hub = hub
        self._store = store
        self._clock = clock
        self._client_id = client_id
        self.state = FeedState()
        self.ready = asyncio.Event()

    async def run(self, load_timeout_s: float = 30.0) -> None:
        """Replay the state topics, then follow every topic until cancelled."""
        consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            live = _partitions(LIVE_TOPICS)
            state = _partitions(STATE_TOPICS)
            consumer.assign(live + state)
            await consumer.seek_to_end(*live)
            await consumer.seek_to_beginning(*state)
            for tp in live:
                await consumer.position(tp)
            replay_end = await consumer.end_offsets(state)
            await self._replay(consumer, replay_end, load_timeout_s)
            self.ready.set()
            log.info("dashboard_feed_started", topics=len(LIVE_TOPICS) + len(STATE_TOPICS))
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                await self._handle(batches, replay_end)
        finally:
            await consumer.stop()

    async def _replay(
        self,
        consumer: AIOKafkaConsumer[bytes, bytes],
        ends: Mapping[TopicPartition, int],
        timeout_s: float,
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not all([await consumer.position(tp) >= end for tp, end in ends.items()]):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("replaying control and broker status did not reach their end")
            batches = await consumer.getmany(*ends.keys(), timeout_ms=100)
            await self._handle(batches, ends)

    async def _handle(
        self,
        batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        replay_end: Mapping[TopicPartition, int],
    ) -> None:
        refresh = _Refresh()
        for tp, records in batches.items():
            for record in records:
                message = _decode(record)
                if message is None:
                    continue
                replayed = record.offset < replay_end.get(tp, 0)
                self._on_message(message, broadcast=not replayed)
                refresh.note(message)
        await self._refresh(refresh)

    def _on_message(self, message: AnyMessage, broadcast: bool) -> None:
        changed_state = self.state.apply(message)
        if not broadcast:
            return
        mapped = to_event(message)
        if mapped is not None:
            self._hub.broadcast(mapped)
        if changed_state and isinstance(message, ControlSet):
            self._hub.broadcast(event("safety", message.ts_event, self.state.safety()))

    async def _refresh(self, refresh: _Refresh) -> None:
        if not (refresh.positions or refresh.pending) or self._hub.client_count == 0:
            return
        now = self._clock.now()
        try:
            if refresh.positions:
                positions = await self._store.positions()
                self._hub.broadcast(event("positions", now, {"positions": positions}))
            if refresh.pending:
                pending = await self._store.pending(now)
                self._hub.broadcast(event("pending", now, {"pending": pending}))
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            log.warning("dashboard_refresh_failed", error=repr(exc))


def _partitions(topics: tuple[Topic, ...]) -> list[TopicPartition]:
    return [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]


def _decode(record: ConsumerRecord[bytes, bytes]) -> AnyMessage | None:
    try:
        return decode(record.value or b"")
    except ValidationError as exc:
        log.warning(
            "dashboard_record_undecodable",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=str(exc)[:300],
        )
        return None
