"""Process plumbing shared by the services: tracked tasks, heartbeats, compacted-topic watchers."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from libs.common.clock import Clock
from libs.common.kafka import publish
from libs.common.logging import get_logger
from libs.common.messages import AnyMessage, Heartbeat, decode
from libs.common.topics import HEARTBEATS, Topic

log = get_logger(__name__)


class TaskSupervisor:
    """Owns background tasks; a task that fails stops the process so it restarts clean.

    Nothing is committed for a record whose handler failed, so the restarted process sees it
    again: this is the service's retry, and the process supervisor's restart is the backoff.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a task and watch it."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.critical(
                "background_task_failed",
                task=task.get_name(),
                error=repr(exc),
                exc_info=(type(exc), exc, exc.__traceback__),
            )
            os.kill(os.getpid(), signal.SIGTERM)

    async def stop(self) -> None:
        """Cancel every task and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def instance_name(service: str) -> str:
    """Return a name for this process: service, host and pid."""
    return f"{service}@{socket.gethostname()}:{os.getpid()}"


async def heartbeat_loop(
    producer: AIOKafkaProducer[bytes, bytes],
    service: str,
    started_at: datetime,
    clock: Clock,
    interval_s: float,
    lag: Callable[[], int],
    details: Callable[[], dict[str, str]] = dict,
    status: Callable[[], Literal["ok", "degraded", "down"]] = lambda: "ok",
) -> None:
    """Publish this service's heartbeat on the compacted heartbeat topic forever."""
    instance = instance_name(service)
    while True:
        beat = Heartbeat(
            ts_event=clock.now(),
            service=service,
            instance=instance,
            started_at=started_at,
            status=status(),
            consumer_lag=lag(),
            details=details(),
        )
        await publish(producer, HEARTBEATS, beat, key=service)
        await asyncio.sleep(interval_s)


async def watch_compacted(
    bootstrap: str,
    topic: Topic,
    client_id: str,
    on_message: Callable[[AnyMessage], Awaitable[None]],
    loaded: asyncio.Event,
    load_timeout_s: float = 30.0,
) -> None:
    """Replay a compacted topic from the start, set ``loaded`` at its end, then follow it."""
    consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + load_timeout_s
        while not loaded.is_set():
            if all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                loaded.set()
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"replaying {topic.name} did not reach its end")
            await _drain(consumer, on_message, timeout_ms=100)
        while True:
            await _drain(consumer, on_message, timeout_ms=500)
    finally:
        await consumer.stop()


async def _drain(
    consumer: AIOKafkaConsumer[bytes, bytes],
    on_message: Callable[[AnyMessage], Awaitable[None]],
    timeout_ms: int,
) -> None:
    batches = await consumer.getmany(timeout_ms=timeout_ms)
    for records in batches.values():
        for record in records:
            try:
                message = decode(record.value or b"")
            except ValidationError as exc:
                log.warning("compacted_record_undecodable", topic=record.topic, error=str(exc))
                continue
            await on_message(message)
