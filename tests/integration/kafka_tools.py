"""Small helpers for tests that look at real Kafka topics."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.common.messages import AnyMessage, decode
from libs.common.topics import Topic


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
