"""Prometheus helpers: one registry per process, built in the composition root."""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

NAMESPACE = "strikeflow"


def new_registry() -> CollectorRegistry:
    """Return an empty registry for one service."""
    return CollectorRegistry(auto_describe=True)


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    """Return the exposition body and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


class HeartbeatMetrics:
    """When this process last published its heartbeat; a stale value means it stopped."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.last_heartbeat = Gauge(
            f"{NAMESPACE}_{service}_heartbeat_timestamp_seconds",
            "Unix time of the last heartbeat this process published",
            registry=registry,
        )

    def beat(self, now: float | None = None) -> None:
        """Record a heartbeat now (or at ``now``, Unix seconds)."""
        self.last_heartbeat.set(time.time() if now is None else now)


class PipelineMetrics(HeartbeatMetrics):
    """Metrics every Kafka-consuming service exports."""

    def __init__(
        self, registry: CollectorRegistry, service: str, dlq_topics: Iterable[str] = ()
    ) -> None:
        super().__init__(registry, service)
        self.consumer_lag = Gauge(
            f"{NAMESPACE}_{service}_consumer_lag_messages",
            "Messages behind the end of the consumed topics",
            registry=registry,
        )
        self.dlq = Counter(
            f"{NAMESPACE}_{service}_dlq_messages",
            "Records sent to a dead-letter topic, by the topic they came from",
            ["topic"],
            registry=registry,
        )
        self.processed = Counter(
            f"{NAMESPACE}_{service}_messages_processed",
            "Messages handled, by type",
            ["type"],
            registry=registry,
        )
        self.last_commit = Gauge(
            f"{NAMESPACE}_{service}_last_commit_timestamp_seconds",
            "Unix time of the last offset commit",
            registry=registry,
        )
        # A zero series per consumed topic, so rate() and increase() see the first DLQ record.
        for topic in dlq_topics:
            self.dlq.labels(topic)

    def observe_lag(self, lag: int, last_commit_at: float) -> None:
        """Record the consumer lag (and the last commit time, once there was one)."""
        self.consumer_lag.set(lag)
        if last_commit_at:
            self.last_commit.set(last_commit_at)
