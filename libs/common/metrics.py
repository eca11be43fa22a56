"""Prometheus helpers: one registry per process, built in the composition root."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import Counter

NAMESPACE = "strikeflow"


def new_registry() -> CollectorRegistry:
    """Return an empty registry for one service."""
    return CollectorRegistry(auto_describe=True)


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    """Return the exposition body and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


class PipelineMetrics:
    """Metrics every Kafka-consuming service exports."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.consumer_lag = Gauge(
            f"{NAMESPACE}_{service}_consumer_lag_messages",
            "Messages behind the end of the consumed topics",
            registry=registry,
        )
        self.dlq = Counter(
            f"{NAMESPACE}_{service}_dlq_messages_total",
            "Records sent to a dead-letter topic",
            ["topic"],
            registry=registry,
        )
        self.processed = Counter(
            f"{NAMESPACE}_{service}_messages_processed_total",
            "Messages handled, by type",
            ["type"],
            registry=registry,
        )
        self.last_commit = Gauge(
            f"{NAMESPACE}_{service}_last_commit_timestamp_seconds",
            "Unix time of the last offset commit",
            registry=registry,
        )
