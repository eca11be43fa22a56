"""Kafka helpers: an idempotent producer, consumers that commit after the effect, dead letters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from pydantic import ValidationError

from libs.common.logging import get_logger
from libs.common.messages import AnyMessage, Message, decode, encode
from libs.common.topics import ALL_TOPICS, Topic

log = get_logger(__name__)

Handler = Callable[[AnyMessage, ConsumerRecord[bytes, bytes]], Awaitable[None]]
DeadLetterHook = Callable[[str], None]


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer[bytes, bytes]:
    """Build an idempotent producer that waits for all in-sync replicas."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=0,
        request_timeout_ms=10_000,
    )


def make_consumer(
    bootstrap: str,
    group_id: str,
    topics: Sequence[str],
    client_id: str,
    group_instance_id: str | None = None,
) -> AIOKafkaConsumer[bytes, bytes]:
    """Build a consumer that never auto-commits and reads only committed data.

    ``group_instance_id`` makes it a static group member (KIP-345): restarted with the same id,
    it gets its partitions back without a rebalance.
    """
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        group_instance_id=group_instance_id,
    )


def message_headers(message: Message) -> list[tuple[str, bytes]]:
    """Mirror the message type and schema version in Kafka headers."""
    kind = getattr(message, "type", type(message).__name__)
    return [("type", str(kind).encode()), ("schema_version", str(message.schema_version).encode())]


async def publish(
    producer: AIOKafkaProducer[bytes, bytes], topic: Topic, message: Message, key: str
) -> None:
    """Send one message and wait until Kafka acknowledged it."""
    await producer.send_and_wait(
        topic.name, value=encode(message), key=key.encode(), headers=message_headers(message)
    )


async def send_to_dlq(
    producer: AIOKafkaProducer[bytes, bytes],
    record: ConsumerRecord[bytes, bytes],
    error: Exception,
) -> None:
    """Forward an undecodable or invalid record to ``<topic>.dlq`` with the error in headers."""
    headers = [
        ("error.class", type(error).__name__.encode()),
        ("error.message", str(error)[:2000].encode()),
        ("orig.topic", record.topic.encode()),
        ("orig.partition", str(record.partition).encode()),
        ("orig.offset", str(record.offset).encode()),
        ("attempts", b"1"),
    ]
    await producer.send_and_wait(
        f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers
    )


@dataclass
class LagTracker:
    """Consumer lag per partition, updated after each fetch."""

    lag: dict[TopicPartition, int] = field(default_factory=dict)
    last_commit_at: float = 0.0

    @property
    def total(self) -> int:
        """Sum of lag over all partitions."""
        return sum(self.lag.values())

    async def update(self, consumer: AIOKafkaConsumer[bytes, bytes]) -> None:
        """Recompute lag from the last stable offset and the consumer position."""
        for tp in consumer.assignment():
            end = consumer.last_stable_offset(tp)
            if end is None:
                end = consumer.highwater(tp)
            if end is None:
                continue
            position = await consumer.position(tp)
            self.lag[tp] = max(0, end - position)


async def consume_forever(
    consumer: AIOKafkaConsumer[bytes, bytes],
    producer: AIOKafkaProducer[bytes, bytes],
    handler: Handler,
    lag: LagTracker,
    on_dead_letter: DeadLetterHook | None = None,
) -> None:
    """Process records in order; commit a partition only after its handlers returned.

    A record that does not decode goes to the DLQ and the partition moves on. A handler error
    propagates: nothing is committed, so the record is delivered again after a restart.
    """
    while True:
        batches = await consumer.getmany(timeout_ms=200, max_records=200)
        for tp, records in batches.items():
            for record in records:
                try:
                    message = decode(record.value or b"")
                except ValidationError as exc:
                    log.warning(
                        "dead_letter",
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        error=str(exc)[:500],
                    )
                    await send_to_dlq(producer, record, exc)
                    if on_dead_letter is not None:
                        on_dead_letter(record.topic)
                    continue
                await handler(message, record)
            await consumer.commit({tp: records[-1].offset + 1})
            lag.last_commit_at = time.time()
        await lag.update(consumer)


async def read_compacted(
    bootstrap: str, topic: Topic, client_id: str, timeout_s: float = 15.0
) -> list[AnyMessage]:
    """Read a compacted topic from the beginning to its current end, without a group."""
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[AnyMessage] = []
        deadline = time.monotonic() + timeout_s
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic.name} did not reach its end")
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    try:
                        out.append(decode(record.value or b""))
                    except ValidationError:
                        log.warning("compacted_record_undecodable", topic=topic.name)
        return out
    finally:
        await consumer.stop()


async def wait_for_kafka(bootstrap: str, timeout_s: float = 60.0) -> None:
    """Wait until the broker answers a metadata request."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, KafkaConnectionError, OSError) as exc:
            last = exc
        finally:
            await admin.close()
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout_s}s: {last}")


def _new_topics(topics: Iterable[Topic]) -> list[NewTopic]:
    out = []
    for topic in topics:
        config: dict[str, Any] = {}
        if topic.compacted:
            config["cleanup.policy"] = "compact"
        if topic.retention_ms is not None:
            config["retention.ms"] = str(topic.retention_ms)
        out.append(NewTopic(topic.name, topic.partitions, 1, topic_configs=config))
        out.append(NewTopic(topic.dlq, 1, 1))
    return out


async def ensure_topics(bootstrap: str, topics: Iterable[Topic] = ALL_TOPICS) -> list[str]:
    """Create the registry's topics and their DLQs if missing; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in _new_topics(topics) if t.name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                log.info("topics_created_concurrently")
        return [t.name for t in missing]
    finally:
        await admin.close()
