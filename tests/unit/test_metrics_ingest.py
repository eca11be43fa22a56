"""Ingest's metrics as its routes feed them: operator commands and refused operator requests."""

from __future__ import annotations

from aiokafka.errors import KafkaTimeoutError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from libs.common.clock import FixedClock
from services.ingest.api import IngestContext, RecentKeys
from services.ingest.app import install_routes
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from tests.unit.services.test_ingest_api import NOW, SECRET, FakeProducer

TOKEN = "unit-test-operator-token-0123"
KILL_SWITCH = "/api/v2/safety/kill-switch"


def _client(producer: FakeProducer) -> tuple[TestClient, CollectorRegistry]:
    registry = CollectorRegistry()
    app = FastAPI()
    install_routes(app)
    app.state.ctx = IngestContext(
        settings=IngestSettings.model_validate({"webhook_secret": SECRET, "operator_token": TOKEN}),
        producer=producer,  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        metrics=IngestMetrics(registry),
        recent=RecentKeys(),
        allowlist=frozenset(),
    )
    return TestClient(app), registry


def _commands(registry: CollectorRegistry, outcome: str) -> float | None:
    return registry.get_sample_value(
        "strikeflow_ingest_operator_commands_total", {"type": "ControlSet", "outcome": outcome}
    )


def test_operator_command_when_stored_counts_stored() -> None:
    client, registry = _client(FakeProducer())

    response = client.post(
        KILL_SWITCH, json={"reason": "test"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status_code == 200
    assert _commands(registry, "stored") == 1
    assert _commands(registry, "unavailable") is None


def test_operator_command_when_kafka_fails_counts_unavailable() -> None:
    client, registry = _client(FakeProducer(error=KafkaTimeoutError()))

    response = client.post(
        KILL_SWITCH, json={"reason": "test"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status_code == 503
    assert _commands(registry, "unavailable") == 1
    assert _commands(registry, "stored") is None


def test_operator_request_without_or_with_wrong_token_counts_the_refusal() -> None:
    client, registry = _client(FakeProducer())

    missing = client.post(KILL_SWITCH, json={"reason": "test"})
    wrong = client.post(
        KILL_SWITCH, json={"reason": "test"}, headers={"Authorization": "Bearer not-the-token"}
    )

    assert (missing.status_code, wrong.status_code) == (401, 403)
    get = registry.get_sample_value
    assert get("strikeflow_ingest_operator_auth_failures_total", {"reason": "token_missing"}) == 1
    assert get("strikeflow_ingest_operator_auth_failures_total", {"reason": "token_wrong"}) == 1
    assert _commands(registry, "stored") is None


def test_webhook_when_secret_wrong_counts_a_rejected_signal() -> None:
    client, registry = _client(FakeProducer())

    response = client.post(
        "/api/v2/webhook/tradingview", json={"secret": "wrong-secret", "signal": "S1"}
    )

    assert response.status_code == 403
    assert (
        registry.get_sample_value(
            "strikeflow_ingest_signals_total", {"outcome": "rejected", "reason": "secret_wrong"}
        )
        == 1
    )
    assert registry.get_sample_value("strikeflow_ingest_webhook_latency_seconds_count") == 1
