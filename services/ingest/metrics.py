"""Metrics of the ingest edge: webhook outcomes and latency, operator commands."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from libs.common.metrics import NAMESPACE, HeartbeatMetrics

SERVICE = "ingest"

# Each webhook outcome, as (signal outcome, reason class). Rejections name their class only,
# never the caller's text, so the label set stays fixed.
WEBHOOK_OUTCOMES: dict[str, tuple[str, str]] = {
    "accepted": ("accepted", "none"),
    "duplicate": ("duplicate", "none"),
    "forbidden_ip": ("rejected", "source_not_allowed"),
    "too_large": ("rejected", "body_too_large"),
    "bad_json": ("rejected", "bad_json"),
    "unauthenticated": ("rejected", "secret_missing"),
    "forbidden": ("rejected", "secret_wrong"),
    "invalid": ("rejected", "invalid_field"),
    "unavailable": ("unavailable", "kafka_unavailable"),
}


class IngestMetrics(HeartbeatMetrics):
    """Counters and the latency histogram of the webhook and operator routes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry, SERVICE)
        self.requests = Counter(
            f"{NAMESPACE}_ingest_webhook_requests",
            "Webhook requests by outcome",
            ["outcome"],
            registry=registry,
        )
        self.signals = Counter(
            f"{NAMESPACE}_ingest_signals",
            "Alerts by outcome (accepted, duplicate, rejected, unavailable) and reason class",
            ["outcome", "reason"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{NAMESPACE}_ingest_webhook_latency_seconds",
            "Time from request to answer",
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.operator_commands = Counter(
            f"{NAMESPACE}_ingest_operator_commands",
            "Operator commands by message type and outcome (stored, unavailable)",
            ["type", "outcome"],
            registry=registry,
        )
        self.operator_auth_failures = Counter(
            f"{NAMESPACE}_ingest_operator_auth_failures",
            "Operator requests refused for a missing or wrong token",
            ["reason"],
            registry=registry,
        )
        for outcome in WEBHOOK_OUTCOMES:
            self.requests.labels(outcome)
            self.signals.labels(*WEBHOOK_OUTCOMES[outcome])
        for reason in ("token_missing", "token_wrong"):
            self.operator_auth_failures.labels(reason)

    def webhook(self, outcome: str) -> None:
        """Count one webhook answer by its outcome (a key of :data:`WEBHOOK_OUTCOMES`)."""
        self.requests.labels(outcome).inc()
        self.signals.labels(*WEBHOOK_OUTCOMES[outcome]).inc()
