"""Operator routes: bearer-token auth, the commands they publish, and no token in the logs."""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from libs.common.clock import FixedClock
from libs.common.logging import configure_logging
from libs.common.messages import (
    ControlKey,
    ControlSet,
    PlaceManualOrder,
    ResolvePending,
    SquareOffAll,
    decode,
)
from libs.common.topics import CONTROL, SIGNALS
from services.ingest.api import IngestContext, IngestMetrics, RecentKeys
from services.ingest.app import install_routes
from services.ingest.settings import IngestSettings
from tests.unit.services.test_ingest_api import NOW, SECRET, FakeProducer

TOKEN = "unit-test-operator-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/api/v2/safety/kill-switch", {"reason": "test halt"}),
    ("/api/v2/safety/emergency-stop", {"reason": "test panic"}),
    ("/api/v2/safety/trading-state", {"reason": "test", "state": "REDUCING"}),
    ("/api/v2/trading/square-off-all", {"reason": "end of day"}),
    ("/api/v2/strategy/start-automation", {"reason": "morning"}),
    ("/api/v2/strategy/stop-automation", {"reason": "lunch"}),
    (f"/api/v2/strategy/pending/{uuid.uuid4()}/approve", {"reason": "looks right"}),
    (f"/api/v2/strategy/pending/{uuid.uuid4()}/reject", {"reason": "not today"}),
    ("/api/v2/risk/limits", {"reason": "tighter", "max_open_trades": 2}),
    ("/api/v2/trading/toggle-paper-mode", {"enabled": True}),
    ("/api/v2/safety/circuit-breaker/reset", {"reason": "broker back"}),
    (
        "/api/v2/trading/place-order",
        {
            "reason": "manual hedge",
            "strike": 24000,
            "option_type": "PE",
            "side": "BUY",
            "lots": 1,
            "purpose": "entry",
            "expiry": "2026-12-01",
        },
    ),
]


def make_client(producer: FakeProducer | None = None) -> tuple[TestClient, FakeProducer]:
    producer = producer or FakeProducer()
    settings = IngestSettings.model_validate({"webhook_secret": SECRET, "operator_token": TOKEN})
    app = FastAPI()
    install_routes(app)
    app.state.ctx = IngestContext(
        settings=settings,
        producer=producer,  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        metrics=IngestMetrics(CollectorRegistry()),
        recent=RecentKeys(),
        allowlist=frozenset(),
    )
    return TestClient(app), producer


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=[r[0] for r in ROUTES])
def test_operator_route_when_token_missing_answers_401_and_sends_nothing(
    path: str, body: dict[str, Any]
) -> None:
    client, producer = make_client()

    response = client.post(path, json=body)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert producer.sent == []


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=[r[0] for r in ROUTES])
def test_operator_route_when_token_wrong_answers_403_and_sends_nothing(
    path: str, body: dict[str, Any]
) -> None:
    client, producer = make_client()

    response = client.post(path, json=body, headers={"Authorization": "Bearer not-the-token"})

    assert response.status_code == 403
    assert producer.sent == []


def test_kill_switch_when_authorised_publishes_control_fact_keyed_by_fact() -> None:
    client, producer = make_client()

    response = client.post(
        "/api/v2/safety/kill-switch",
        json={"reason": "broker outage"},
        headers={**AUTH, "X-Operator": "asha"},
    )

    assert response.status_code == 200
    [sent] = producer.sent
    assert sent["topic"] == CONTROL.name
    assert sent["key"] == b"kill_switch"
    message = decode(sent["value"])
    assert isinstance(message, ControlSet)
    assert message.key is ControlKey.KILL_SWITCH
    assert message.engaged is True
    assert message.changed_by == "asha"
    assert message.reason == "broker outage"


def test_emergency_stop_when_authorised_halts_and_squares_off() -> None:
    client, producer = make_client()

    response = client.post("/api/v2/safety/emergency-stop", json={"reason": "panic"}, headers=AUTH)

    assert response.status_code == 200
    first, second = (decode(s["value"]) for s in producer.sent)
    assert isinstance(first, ControlSet)
    assert first.key is ControlKey.EMERGENCY_STOP
    assert isinstance(second, SquareOffAll)
    assert producer.sent[1]["topic"] == SIGNALS.name


def test_approve_when_authorised_sends_resolution_on_signals_topic() -> None:
    client, producer = make_client()
    signal_id = uuid.uuid4()

    response = client.post(
        f"/api/v2/strategy/pending/{signal_id}/approve", json={"reason": "checked"}, headers=AUTH
    )

    assert response.status_code == 200
    message = decode(producer.sent[0]["value"])
    assert isinstance(message, ResolvePending)
    assert message.signal_id == signal_id
    assert message.approve is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"enabled": False}, 400),
        ({"enabled": False, "confirm": "GO LIVE"}, 409),
        ({"enabled": True}, 200),
    ],
)
def test_toggle_paper_mode_never_goes_live_without_a_broker(
    body: dict[str, Any], status: int
) -> None:
    client, producer = make_client()

    response = client.post("/api/v2/trading/toggle-paper-mode", json=body, headers=AUTH)

    assert response.status_code == status
    assert producer.sent == []


def test_limits_when_none_given_answers_422() -> None:
    client, producer = make_client()

    response = client.post("/api/v2/risk/limits", json={"reason": "nothing"}, headers=AUTH)

    assert response.status_code == 422
    assert producer.sent == []


def test_operator_token_when_routes_used_never_appears_in_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("ingest", "DEBUG")
    try:
        client, _ = make_client()
        for path, body in ROUTES:
            client.post(path, json=body, headers=AUTH)
            client.post(path, json=body, headers={"Authorization": f"Bearer {TOKEN}x"})
        client.post(ROUTES[0][0], json={"reason": TOKEN[:3] + "..."}, headers=AUTH)
        out = capsys.readouterr()
    finally:
        # The logger wrote to the captured stream; later tests must not inherit it.
        structlog.reset_defaults()
        logging.basicConfig(stream=sys.__stderr__, force=True)

    logs = out.out + out.err
    assert "control_set" in logs
    assert "operator_token_wrong" in logs
    assert TOKEN not in logs


def test_place_order_when_authorised_publishes_manual_order_on_signals_topic() -> None:
    client, producer = make_client()

    response = client.post(
        "/api/v2/trading/place-order",
        json={
            "reason": "manual hedge",
            "strike": 24000,
            "option_type": "PE",
            "side": "BUY",
            "lots": 2,
            "purpose": "entry",
            "underlying_price": 24010,
        },
        headers=AUTH,
    )

    assert response.status_code == 200, response.text
    message = decode(producer.sent[0]["value"])
    assert isinstance(message, PlaceManualOrder)
    assert producer.sent[0]["topic"] == SIGNALS.name
    assert message.instrument.key == response.json()["instrument"]
    assert message.lots == 2


@pytest.mark.parametrize(
    "change",
    [{"strike": 24010}, {"lots": 0}, {"option_type": "XX"}, {"purpose": "maybe"}],
)
def test_place_order_when_fields_invalid_answers_422(change: dict[str, Any]) -> None:
    client, producer = make_client()
    body = {
        "reason": "manual",
        "strike": 24000,
        "option_type": "PE",
        "side": "BUY",
        "lots": 1,
        "purpose": "entry",
        **change,
    }

    response = client.post("/api/v2/trading/place-order", json=body, headers=AUTH)

    assert response.status_code == 422
    assert producer.sent == []
