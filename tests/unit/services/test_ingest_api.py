"""The webhook's HTTP layer (services/ingest/api.py) with a fake producer: no Kafka, no network."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from starlette.requests import Request

from libs.common.clock import FixedClock
from libs.common.messages import SignalReceived, decode
from libs.common.topics import SIGNALS
from services.ingest.api import (
    IngestContext,
    IngestMetrics,
    RecentKeys,
    client_ip,
    read_limited,
    router,
    secret_matches,
)
from services.ingest.settings import TRADINGVIEW_IPS, IngestSettings

SECRET = "unit-test-secret-123"
URL = "/api/v2/webhook/tradingview"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
TV_IP = TRADINGVIEW_IPS[0]
ALERT = {"secret": SECRET, "signal": "S1", "action": "Entry", "symbol": "NIFTY", "price": 24010}


class FakeProducer:
    """Records what would have been sent; can fail or never answer."""

    def __init__(self, error: BaseException | None = None, hang: bool = False) -> None:
        self.error = error
        self.hang = hang
        self.sent: list[dict[str, Any]] = []
        self.attempts = 0

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.attempts += 1
        if self.hang:
            await asyncio.Event().wait()  # never set: only the route's timeout ends this
        if self.error is not None:
            raise self.error
        self.sent.append({"topic": topic, "value": value, "key": key, "headers": headers})


@dataclass
class Harness:
    client: TestClient
    producer: FakeProducer
    registry: CollectorRegistry
    recent: RecentKeys = field(default_factory=RecentKeys)

    def post(self, body: Any, **kwargs: Any) -> Any:
        if isinstance(body, bytes):
            return self.client.post(URL, content=body, **kwargs)
        return self.client.post(URL, json=body, **kwargs)

    def outcome(self, name: str) -> float:
        value = self.registry.get_sample_value(
            "strikeflow_ingest_webhook_requests_total", {"outcome": name}
        )
        return value or 0.0


def make_harness(
    producer: FakeProducer | None = None,
    source_ip: str = "127.0.0.1",
    **settings: Any,
) -> Harness:
    config = IngestSettings.model_validate(
        {"webhook_secret": SECRET, "operator_token": "unit-test-operator-token", **settings}
    )
    registry = CollectorRegistry()
    producer = producer or FakeProducer()
    recent = RecentKeys()
    app = FastAPI()
    app.include_router(router)
    app.state.ctx = IngestContext(
        settings=config,
        producer=producer,  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        metrics=IngestMetrics(registry),
        recent=recent,
        allowlist=config.allowlist(),
    )
    client = TestClient(app, client=(source_ip, 50000))
    return Harness(client, producer, registry, recent)


@pytest.fixture
def harness() -> Harness:
    return make_harness()


# --- secret_matches -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected", "matches"),
    [
        (SECRET, SECRET, True),
        ("sécret-ünïcode-1", "sécret-ünïcode-1", True),
        (SECRET + "x", SECRET, False),
        (SECRET[:-1], SECRET, False),
        ("", SECRET, False),
        (SECRET.upper(), SECRET, False),
    ],
)
def test_secret_matches_when_compared_is_true_only_for_identical_secret(
    given: str, expected: str, matches: bool
) -> None:
    assert secret_matches(given, expected) is matches


# --- RecentKeys -----------------------------------------------------------------------------


def test_recent_keys_when_over_capacity_evicts_oldest() -> None:
    recent = RecentKeys(capacity=2)

    recent.add("a", "id-a")
    recent.add("b", "id-b")
    recent.add("c", "id-c")

    assert recent.get("a") is None
    assert recent.get("b") == "id-b"
    assert recent.get("c") == "id-c"


def test_recent_keys_when_key_added_again_it_becomes_newest() -> None:
    recent = RecentKeys(capacity=2)
    recent.add("a", "id-a")
    recent.add("b", "id-b")

    recent.add("a", "id-a")
    recent.add("c", "id-c")

    assert recent.get("a") == "id-a"
    assert recent.get("b") is None
    assert recent.get("c") == "id-c"


def test_recent_keys_when_key_unknown_returns_none() -> None:
    assert RecentKeys().get("never-added") is None


# --- client_ip ------------------------------------------------------------------------------


def request_from(headers: dict[str, str], client: tuple[str, int] | None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": client,
    }
    return Request(scope)


def test_client_ip_when_not_trusting_forwarded_for_ignores_the_header() -> None:
    request = request_from({"X-Forwarded-For": TV_IP}, ("10.0.0.9", 1234))

    assert client_ip(request, trust_forwarded_for=False) == "10.0.0.9"


def test_client_ip_when_trusting_forwarded_for_takes_address_our_proxy_appended() -> None:
    request = request_from({"X-Forwarded-For": f" 10.0.0.1 , {TV_IP} "}, ("10.0.0.9", 1234))

    assert client_ip(request, trust_forwarded_for=True) == TV_IP


def test_client_ip_when_caller_forges_leftmost_forwarded_for_ignores_it() -> None:
    request = request_from({"X-Forwarded-For": f"{TV_IP}, 203.0.113.7"}, ("10.0.0.9", 1234))

    assert client_ip(request, trust_forwarded_for=True) == "203.0.113.7"


def test_client_ip_when_trusting_but_header_absent_uses_peer_address() -> None:
    request = request_from({}, ("10.0.0.9", 1234))

    assert client_ip(request, trust_forwarded_for=True) == "10.0.0.9"


def test_client_ip_when_no_peer_and_no_header_returns_none() -> None:
    request = request_from({}, None)

    assert client_ip(request, trust_forwarded_for=False) is None


# --- read_limited ---------------------------------------------------------------------------


def streaming_request(chunks: list[bytes], headers: dict[str, str]) -> Request:
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
    }
    return Request(scope, receive)


async def test_read_limited_when_chunks_within_limit_returns_whole_body() -> None:
    request = streaming_request([b"ab", b"cd", b"ef"], {})

    assert await read_limited(request, 6) == b"abcdef"


async def test_read_limited_when_undeclared_stream_exceeds_limit_returns_none() -> None:
    request = streaming_request([b"aaaa", b"bbbb", b"cccc"], {})

    assert await read_limited(request, 6) is None


async def test_read_limited_when_declared_length_exceeds_limit_returns_none_unread() -> None:
    request = streaming_request([b"x"], {"content-length": "1000000"})

    assert await read_limited(request, 8192) is None


# --- the route: rejections ------------------------------------------------------------------

BAD_INPUTS: list[tuple[str, Any, int, str, str]] = [
    ("not json", b"signal=S1", 400, "body is not valid JSON", "bad_json"),
    ("not utf-8", b"\xff\xfe{", 400, "body is not valid JSON", "bad_json"),
    ("json array", b"[1, 2]", 400, "body must be a JSON object", "bad_json"),
    ("json string", b'"S1"', 400, "body must be a JSON object", "bad_json"),
    (
        "missing secret",
        {k: v for k, v in ALERT.items() if k != "secret"},
        401,
        "secret is missing",
        "unauthenticated",
    ),
    ("empty secret", {**ALERT, "secret": ""}, 401, "secret is missing", "unauthenticated"),
    ("null secret", {**ALERT, "secret": None}, 401, "secret is missing", "unauthenticated"),
    ("wrong secret", {**ALERT, "secret": "nope-nope-nope"}, 403, "secret is wrong", "forbidden"),
    ("secret not a string", {**ALERT, "secret": 123}, 403, "secret is wrong", "forbidden"),
    ("1 MB body", b"{" + b" " * (1024 * 1024) + b"}", 413, "larger than 8192 bytes", "too_large"),
    ("unknown signal", {**ALERT, "signal": "S9"}, 422, "signal: unknown signal", "invalid"),
    (
        "price not a number",
        {**ALERT, "price": "abc"},
        422,
        "price: price must be a number",
        "invalid",
    ),
    (
        "strike is a boolean",
        {**ALERT, "strike": True},
        422,
        "strike: strike must be a number",
        "invalid",
    ),
    ("placeholder", {**ALERT, "price": "{{close}}"}, 422, "price: price still holds", "invalid"),
    (
        "missing action",
        {k: v for k, v in ALERT.items() if k != "action"},
        422,
        "action: Field required",
        "invalid",
    ),
    (
        "missing signal",
        {k: v for k, v in ALERT.items() if k != "signal"},
        422,
        "signal: Field required",
        "invalid",
    ),
    ("buy action", {**ALERT, "action": "buy"}, 422, "action: 'buy' is not understood", "invalid"),
    ("banknifty", {**ALERT, "symbol": "BANKNIFTY"}, 422, "symbol: 'BANKNIFTY'", "invalid"),
    ("type mismatch", {**ALERT, "type": "CE"}, 422, "type: S1 is bullish", "invalid"),
    (
        "naive bar_time",
        {**ALERT, "bar_time": "2026-11-25T05:45:00"},
        422,
        "bar_time: bar_time must carry a time zone",
        "invalid",
    ),
    ("epoch bar_time out of range", {**ALERT, "bar_time": 10**20}, 422, "bar_time:", "invalid"),
    (
        "entry without level",
        {"secret": SECRET, "signal": "S1", "action": "Entry"},
        422,
        "price, strike or sl",
        "invalid",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "words", "outcome"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_webhook_when_input_bad_answers_4xx_and_sends_nothing(
    harness: Harness, case: str, body: Any, status: int, words: str, outcome: str
) -> None:
    response = harness.post(body)

    assert response.status_code == status, case
    assert words in response.json()["error"], response.json()
    assert harness.producer.attempts == 0
    assert harness.producer.sent == []
    assert harness.outcome(outcome) == 1.0
    assert harness.outcome("accepted") == 0.0


def test_webhook_when_source_ip_outside_allowlist_answers_403_and_sends_nothing() -> None:
    harness = make_harness(source_ip="10.1.2.3", allowed_source_ips="tradingview")

    response = harness.post(ALERT)

    assert response.status_code == 403
    assert response.json() == {"error": "source address 10.1.2.3 is not allowed"}
    assert harness.producer.sent == []
    assert harness.outcome("forbidden_ip") == 1.0


def test_webhook_when_source_ip_in_allowlist_accepts_alert() -> None:
    harness = make_harness(source_ip=TV_IP, allowed_source_ips="tradingview, 10.9.9.9")

    response = harness.post(ALERT)

    assert response.status_code == 202
    assert len(harness.producer.sent) == 1
    assert harness.producer.sent[0]["value"] is not None
    assert decode(harness.producer.sent[0]["value"]).source_ip == TV_IP  # type: ignore[union-attr]


def test_webhook_when_forwarded_for_trusted_checks_allowlist_against_header() -> None:
    harness = make_harness(
        source_ip="10.0.0.2", allowed_source_ips="tradingview", trust_forwarded_for=True
    )

    allowed = harness.post(ALERT, headers={"X-Forwarded-For": TV_IP})
    denied = harness.post(ALERT, headers={"X-Forwarded-For": "203.0.113.7"})

    assert allowed.status_code == 202
    assert denied.status_code == 403
    assert "203.0.113.7" in denied.json()["error"]


def test_webhook_when_body_over_limit_and_ip_forbidden_answers_403_first() -> None:
    harness = make_harness(source_ip="10.1.2.3", allowed_source_ips="tradingview")

    response = harness.post(b"{" + b" " * (1024 * 1024) + b"}")

    assert response.status_code == 403


def test_webhook_when_secret_in_query_string_accepts_alert(harness: Harness) -> None:
    body = {k: v for k, v in ALERT.items() if k != "secret"}

    response = harness.post(body, params={"secret": SECRET})

    assert response.status_code == 202
    assert len(harness.producer.sent) == 1


def test_webhook_when_body_secret_wrong_query_secret_right_answers_403(harness: Harness) -> None:
    response = harness.post({**ALERT, "secret": "nope-nope-nope"}, params={"secret": SECRET})

    assert response.status_code == 403
    assert harness.producer.sent == []


def test_webhook_when_secret_has_lone_surrogate_answers_403(harness: Harness) -> None:
    body = json.dumps({**ALERT, "secret": "\ud800"}).encode()

    response = harness.post(body)

    assert response.status_code == 403


# --- the route: success, duplicates, Kafka failures -----------------------------------------


def test_webhook_when_alert_valid_answers_202_with_signal_id_after_send(harness: Harness) -> None:
    response = harness.post(ALERT)

    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == "accepted"
    assert answer["duplicate"] is False
    assert len(harness.producer.sent) == 1
    sent = harness.producer.sent[0]
    assert sent["topic"] == SIGNALS.name
    assert sent["key"] == b"NIFTY"
    assert ("type", b"SignalReceived") in sent["headers"]
    message = decode(sent["value"])
    assert isinstance(message, SignalReceived)
    assert str(message.signal_id) == answer["signal_id"]
    assert message.ts_event == NOW
    assert message.trading_week == "2026-W48"
    assert message.source_ip == "127.0.0.1"
    assert harness.recent.get(message.dedup_key) == answer["signal_id"]
    assert harness.outcome("accepted") == 1.0


def test_webhook_when_indicator_alert_valid_answers_202(harness: Harness) -> None:
    alert = {
        "secret": SECRET,
        "signal": "S6",
        "action": "Entry",
        "strike": 25100,
        "type": "CE",
        "sl": 25080,
        "bar_time": "2026-11-25T05:45:00Z",
    }

    response = harness.post(alert)

    assert response.status_code == 202
    message = decode(harness.producer.sent[0]["value"])
    assert isinstance(message, SignalReceived)
    assert message.payload_style == "indicator"
    assert str(message.strike) == "25100"


def test_webhook_when_same_alert_twice_answers_duplicate_without_second_send(
    harness: Harness,
) -> None:
    first = harness.post(ALERT)

    second = harness.post(ALERT)

    assert first.status_code == 202
    assert second.status_code == 202
    assert second.json() == {
        "status": "accepted",
        "signal_id": first.json()["signal_id"],
        "duplicate": True,
    }
    assert len(harness.producer.sent) == 1
    assert harness.outcome("duplicate") == 1.0


def test_webhook_when_alerts_differ_by_bar_time_sends_both(harness: Harness) -> None:
    first = harness.post({**ALERT, "bar_time": "2026-11-25T05:45:00Z"})
    second = harness.post({**ALERT, "bar_time": "2026-11-25T06:45:00Z"})

    assert first.json()["signal_id"] != second.json()["signal_id"]
    assert second.json()["duplicate"] is False
    assert len(harness.producer.sent) == 2


@pytest.mark.parametrize(
    "error",
    [KafkaConnectionError("broker down"), KafkaTimeoutError(), TimeoutError("no ack")],
    ids=["KafkaConnectionError", "KafkaTimeoutError", "TimeoutError"],
)
def test_webhook_when_producer_fails_answers_503(error: BaseException) -> None:
    harness = make_harness(producer=FakeProducer(error=error))

    response = harness.post(ALERT)

    assert response.status_code == 503
    assert response.json() == {"error": "the alert could not be stored; it was not accepted"}
    assert harness.producer.sent == []
    assert harness.outcome("unavailable") == 1.0
    assert harness.outcome("accepted") == 0.0


def test_webhook_when_producer_never_acknowledges_answers_503_after_timeout() -> None:
    harness = make_harness(producer=FakeProducer(hang=True), publish_timeout_s=0.01)

    response = harness.post(ALERT)

    assert response.status_code == 503
    assert harness.producer.attempts == 1
    assert harness.producer.sent == []


def test_webhook_when_retried_after_503_sends_again_and_is_not_duplicate() -> None:
    producer = FakeProducer(error=KafkaConnectionError("broker down"))
    harness = make_harness(producer=producer)
    failed = harness.post(ALERT)
    producer.error = None

    retried = harness.post(ALERT)

    assert failed.status_code == 503
    assert retried.status_code == 202
    assert retried.json()["duplicate"] is False
    assert producer.attempts == 2
    assert len(producer.sent) == 1


def test_webhook_when_answered_records_latency(harness: Harness) -> None:
    harness.post(ALERT)
    harness.post(b"[]")

    count = harness.registry.get_sample_value("strikeflow_ingest_webhook_latency_seconds_count")

    assert count == 2.0
