"""The consumer loop on real Kafka: dead letters and commits after the effect."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from libs.common.kafka import (
    LagTracker,
    consume_forever,
    ensure_topics,
    make_consumer,
    make_producer,
    publish,
)
from libs.common.messages import AnyMessage, Heartbeat
from libs.common.topics import Topic
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def _beat(n: int) -> Heartbeat:
    now = datetime.now(UTC)
    return Heartbeat(
        ts_event=now, service=f"s{n}", instance="i", started_at=now, status="ok", consumer_lag=0
    )


async def test_consumer_when_record_undecodable_sends_it_to_dlq_and_moves_on(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = Topic(unique_name, partitions=1)
    await ensure_topics(kafka_bootstrap, [topic])
    producer = make_producer(kafka_bootstrap, "test")
    await producer.start()
    handled: list[AnyMessage] = []

    async def handler(message: AnyMessage, _record: ConsumerRecord[bytes, bytes]) -> None:
        handled.append(message)

    consumer = make_consumer(kafka_bootstrap, unique_name, [topic.name], "test")
    await consumer.start()
    task = asyncio.create_task(consume_forever(consumer, producer, handler, LagTracker()))
    try:
        await producer.send_and_wait(topic.name, b"not json", key=b"k")
        await publish(producer, topic, _beat(1), key="k")

        await eventually(lambda: _value(len(handled)), lambda n: n == 1, 20, "handled")
        dlq = await _read_all(kafka_bootstrap, topic.dlq)
        assert len(dlq) == 1
        headers = dict(dlq[0].headers)
        assert headers["orig.topic"] == topic.name.encode()
        assert headers["error.class"] == b"ValidationError"
        committed = await eventually(
            lambda: consumer.committed(TopicPartition(topic.name, 0)),
            lambda c: c == 2,
            10,
            "commit",
        )
        assert committed == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
        await producer.stop()


async def test_consumer_when_handler_fails_commits_nothing(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = Topic(unique_name, partitions=1)
    await ensure_topics(kafka_bootstrap, [topic])
    producer = make_producer(kafka_bootstrap, "test")
    await producer.start()

    async def failing(_message: AnyMessage, _record: ConsumerRecord[bytes, bytes]) -> None:
        raise RuntimeError("database down")

    consumer = make_consumer(kafka_bootstrap, unique_name, [topic.name], "test")
    await consumer.start()
    try:
        await publish(producer, topic, _beat(2), key="k")
        with pytest.raises(RuntimeError, match="database down"):
            await asyncio.wait_for(
                consume_forever(consumer, producer, failing, LagTracker()), timeout=20
            )
        assert await consumer.committed(TopicPartition(topic.name, 0)) is None
    finally:
        await consumer.stop()
        await producer.stop()


async def _value(value: int) -> int:
    return value


async def _read_all(bootstrap: str, name: str) -> list[ConsumerRecord[bytes, bytes]]:
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
        name, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        out: list[ConsumerRecord[bytes, bytes]] = []
        for _ in range(50):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                out.extend(records)
            if out:
                break
        return out
    finally:
        await consumer.stop()
