"""Ingest against real Kafka: accepted alerts are in Kafka, bad input never is."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.common.messages import SignalReceived
from libs.common.topics import SIGNALS
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from tests.integration.kafka_tools import end_offsets, read_from

pytestmark = pytest.mark.integration
SECRET = "integration-secret-123"
OPERATOR_TOKEN = "integration-operator-token"

BAD_INPUTS: list[tuple[str, Any, int, str]] = [
    ("not json", b"signal=S1", 400, "not valid JSON"),
    ("json array", b"[1, 2]", 400, "JSON object"),
    ("missing secret", {"signal": "S1", "action": "Entry", "price": 24000}, 401, "secret"),
    (
        "wrong secret",
        {"secret": "nope", "signal": "S1", "action": "Entry", "price": 1},
        403,
        "wrong",
    ),
    (
        "unknown signal",
        {"secret": SECRET, "signal": "S9", "action": "Entry", "price": 1},
        422,
        "signal",
    ),
    (
        "wrong type",
        {"secret": SECRET, "signal": "S1", "action": "Entry", "price": "abc"},
        422,
        "price",
    ),
    ("missing action", {"secret": SECRET, "signal": "S1", "price": 24000}, 422, "action"),
    ("missing signal", {"secret": SECRET, "action": "Entry", "price": 24000}, 422, "signal"),
    (
        "unknown action",
        {"secret": SECRET, "signal": "S1", "action": "buy", "price": 1},
        422,
        "action",
    ),
    ("1 MB body", b"{" + b" " * (1024 * 1024) + b"}", 413, "larger"),
]


@pytest.fixture
def client(kafka_bootstrap: str) -> Any:
    settings = IngestSettings.model_validate(
        {
            "webhook_secret": SECRET,
            "operator_token": OPERATOR_TOKEN,
            "kafka_bootstrap_servers": kafka_bootstrap,
        }
    )
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("case", "body", "status", "words"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_webhook_when_input_bad_answers_4xx_and_nothing_reaches_kafka(
    client: TestClient, kafka_bootstrap: str, case: str, body: Any, status: int, words: str
) -> None:
    before = asyncio.run(end_offsets(kafka_bootstrap, SIGNALS.name, SIGNALS.partitions))

    if isinstance(body, bytes):
        response = client.post("/api/v2/webhook/tradingview", content=body)
    else:
        response = client.post("/api/v2/webhook/tradingview", json=body)

    assert response.status_code == status, response.text
    assert words in response.json()["error"]
    after = asyncio.run(end_offsets(kafka_bootstrap, SIGNALS.name, SIGNALS.partitions))
    assert after == before, case


def test_webhook_when_alert_valid_answers_202_after_kafka_has_it(
    client: TestClient, kafka_bootstrap: str
) -> None:
    before = asyncio.run(end_offsets(kafka_bootstrap, SIGNALS.name, SIGNALS.partitions))
    alert = {
        "secret": SECRET,
        "signal": "S6",
        "action": "Entry",
        "strike": 25100,
        "type": "CE",
        "bar_time": "2031-03-04T05:45:00Z",
    }

    response = client.post("/api/v2/webhook/tradingview", json=alert)

    assert response.status_code == 202
    messages = asyncio.run(read_from(kafka_bootstrap, SIGNALS.name, before, 1))
    received = [m for m in messages if isinstance(m, SignalReceived)]
    assert [str(m.signal_id) for m in received] == [response.json()["signal_id"]]
    assert received[0].strike == 25100
    assert received[0].trading_week == "2031-W10"
