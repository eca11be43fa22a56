"""The shape every Kafka-consuming service shares: pool, producer, consumer, relay, heartbeat."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from libs.common.clock import Clock
from libs.common.db import Outbox, create_pool
from libs.common.http import add_common_routes
from libs.common.kafka import Handler, LagTracker, consume_forever, make_consumer, make_producer
from libs.common.logging import get_logger
from libs.common.messages import AnyMessage
from libs.common.metrics import PipelineMetrics
from libs.common.runtime import TaskSupervisor, heartbeat_loop, watch_compacted
from libs.common.settings import ServiceSettings
from libs.common.topics import Topic

log = get_logger(__name__)


@dataclass
class Resources:
    """Clients opened by the lifespan, handed to the service's own wiring."""

    pool: asyncpg.Pool
    producer: AIOKafkaProducer[bytes, bytes]
    tasks: TaskSupervisor
    lag: LagTracker = field(default_factory=LagTracker)


@dataclass(frozen=True)
class ConsumerSpec:
    """How a service consumes: its group, topics and watched compacted topics."""

    service: str
    group_id: str
    topics: Sequence[Topic]
    watch: Sequence[tuple[Topic, Callable[[AnyMessage], Awaitable[None]]]] = ()
    outbox: Outbox | None = None
    relay_interval_s: float = 1.0


def consumer_service_app(
    settings: ServiceSettings,
    spec: ConsumerSpec,
    clock: Clock,
    registry: CollectorRegistry,
    build_handler: Callable[[Resources], Awaitable[Handler]],
    title: str,
    details: Callable[[], dict[str, str]] | None = None,
) -> FastAPI:
    """Build a FastAPI app whose lifespan runs the service's consumer loop."""
    metrics = PipelineMetrics(registry, spec.service, [t.name for t in spec.topics])
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bootstrap = settings.kafka_bootstrap_servers
        pool = await create_pool(settings.database_url.get_secret_value())
        producer = make_producer(bootstrap, client_id=spec.service)
        await producer.start()
        tasks = TaskSupervisor()
        res = Resources(pool=pool, producer=producer, tasks=tasks)
        consumer: AIOKafkaConsumer[bytes, bytes] | None = None
        try:
            for topic, on_message in spec.watch:
                loaded = asyncio.Event()
                tasks.spawn(
                    watch_compacted(bootstrap, topic, f"{spec.service}-watch", on_message, loaded),
                    f"watch-{topic.name}",
                )
                await asyncio.wait_for(loaded.wait(), timeout=30)
            if spec.outbox is not None:
                tasks.spawn(spec.outbox.run(pool, producer, spec.relay_interval_s), "outbox-relay")
            handler = await build_handler(res)
            instance = (
                f"{spec.group_id}@{socket.gethostname()}"
                if settings.kafka_static_membership
                else None
            )
            consumer = make_consumer(
                bootstrap, spec.group_id, [t.name for t in spec.topics], spec.service, instance
            )
            await consumer.start()

            def on_dead_letter(topic: str) -> None:
                metrics.dlq.labels(topic).inc()

            async def counted(message: AnyMessage, record: object) -> None:
                await handler(message, record)
                metrics.processed.labels(getattr(message, "type", "unknown")).inc()

            tasks.spawn(
                consume_forever(consumer, producer, counted, res.lag, on_dead_letter), "consume"
            )
            tasks.spawn(
                heartbeat_loop(
                    producer,
                    spec.service,
                    clock.now(),
                    clock,
                    settings.heartbeat_interval_s,
                    lag=lambda: _lag(res, metrics),
                    details=details or dict,
                ),
                "heartbeat",
            )
            state["ready"] = True
            log.info("service_started", port=settings.http_port, group=spec.group_id)
            yield
        finally:
            state["ready"] = False
            await tasks.stop()
            if consumer is not None:
                await consumer.stop()
            await producer.stop()
            await pool.close()
            log.info("service_stopped")

    app = FastAPI(title=title, version="1", lifespan=lifespan)
    add_common_routes(app, registry, ready=lambda: state["ready"], details=details)
    return app


def _lag(res: Resources, metrics: PipelineMetrics) -> int:
    """Called once per heartbeat: refresh the lag gauges and the heartbeat time."""
    total = res.lag.total
    metrics.observe_lag(total, res.lag.last_commit_at)
    metrics.beat()
    return total
