"""Small helpers for tests that look at real Kafka topics."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from libs.common.kafka import publish
from libs.common.messages import AnyMessage, RiskDecisionMade, SignalName, decode
from libs.common.topics import RISK_DECISIONS, SIGNALS, Topic
from tests.factories import make_signal
from tests.waiting import eventually


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """Current end offset of each partition."""
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def read_from(
    bootstrap: str, topic: str, start: dict[int, int], count: int, timeout_ms: int = 10_000
) -> list[AnyMessage]:
    """Read ``count`` messages written after ``start`` offsets."""
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in start]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start[tp.partition])
        out: list[AnyMessage] = []
        batches_left = max(1, timeout_ms // 200)
        while len(out) < count and batches_left:
            batches_left -= 1
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                out.extend(decode(r.value or b"") for r in records)
        return out
    finally:
        await consumer.stop()


async def start_groups_at_end(bootstrap: str, groups: dict[str, tuple[Topic, ...]]) -> None:
    """Commit each fresh consumer group at the topics' ends, so services under test start
    from now rather than from other tests' records."""
    for group, topics in groups.items():
        consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
            consumer.assign(tps)
            await consumer.commit(dict(await consumer.end_offsets(tps)))
        finally:
            await consumer.stop()


async def risk_decision_for(
    producer: AIOKafkaProducer[bytes, bytes],
    bootstrap: str,
    name: SignalName,
    trading_week: str,
    what: str = "risk decision",
) -> RiskDecisionMade:
    """Publish a fresh entry signal and wait for risk's one decision about it."""
    before = await end_offsets(bootstrap, RISK_DECISIONS.name, RISK_DECISIONS.partitions)
    signal = make_signal(
        signal=name, signal_id=uuid.uuid4(), trading_week=trading_week, message_id=uuid.uuid4()
    )
    await publish(producer, SIGNALS, signal, key="NIFTY")

    async def decisions() -> list[RiskDecisionMade]:
        found = await read_from(bootstrap, RISK_DECISIONS.name, before, 50, timeout_ms=400)
        return [
            m for m in found if isinstance(m, RiskDecisionMade) and m.signal_id == signal.signal_id
        ]

    [decision] = await eventually(decisions, lambda d: len(d) == 1, 30, what)
    return decision
