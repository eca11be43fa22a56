"""The dashboard forwards the operator's own token to ingest and passes ingest's answer back."""

from __future__ import annotations

import json

import httpx
import pytest

from services.monitor.dashboard.operator_proxy import OperatorProxy, is_allowed

PENDING = "strategy/pending/2b6f0cc9-4f0e-4a53-9f3a-0f8f5b4c1d2e"


def _proxy(handler: httpx.MockTransport) -> OperatorProxy:
    return OperatorProxy(httpx.AsyncClient(transport=handler), "http://ingest.test:18001")


async def test_forward_passes_token_operator_and_body_and_returns_ingest_answer() -> None:
    seen: list[httpx.Request] = []

    def ingest(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "accepted", "key": "kill_switch"})

    answer = await _proxy(httpx.MockTransport(ingest)).forward(
        "safety/kill-switch", b'{"reason":"test","engaged":true}', "Bearer s3cret", "desk"
    )

    assert answer.status == 200
    assert answer.body == {"status": "accepted", "key": "kill_switch"}
    assert len(seen) == 1
    assert str(seen[0].url) == "http://ingest.test:18001/api/v2/safety/kill-switch"
    assert seen[0].headers["authorization"] == "Bearer s3cret"
    assert seen[0].headers["x-operator"] == "desk"
    assert json.loads(seen[0].content) == {"reason": "test", "engaged": True}


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, "operator token missing"), (403, "operator token is wrong"), (422, "bad")],
)
async def test_forward_when_ingest_refuses_returns_its_status_and_error(
    status: int, error: str
) -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(status, json={"error": error}))

    answer = await _proxy(transport).forward("safety/kill-switch", b"{}", None, None)

    assert answer.status == status
    assert answer.body == {"error": error}


async def test_forward_without_token_sends_no_authorization_header() -> None:
    seen: list[httpx.Request] = []

    def ingest(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, json={"error": "operator token missing"})

    await _proxy(httpx.MockTransport(ingest)).forward("safety/kill-switch", b"{}", None, None)

    assert "authorization" not in seen[0].headers


@pytest.mark.parametrize(
    "command",
    [
        "safety/trading-state",
        "trading/place-order",
        "safety/kill-switch/../../trading/place-order",
        "strategy/pending/not-a-uuid/approve",
        "webhook/tradingview",
    ],
)
async def test_forward_when_command_not_offered_is_404_and_ingest_never_called(
    command: str,
) -> None:
    def ingest(_request: httpx.Request) -> httpx.Response:
        raise AssertionError("ingest must not be called")

    answer = await _proxy(httpx.MockTransport(ingest)).forward(command, b"{}", "Bearer x", None)

    assert answer.status == 404


@pytest.mark.parametrize(
    ("body", "status"), [(b"[1]", 400), (b"not json", 400), (b"{" + b" " * 5000 + b"}", 413)]
)
async def test_forward_when_body_bad_is_4xx_and_ingest_never_called(
    body: bytes, status: int
) -> None:
    def ingest(_request: httpx.Request) -> httpx.Response:
        raise AssertionError("ingest must not be called")

    answer = await _proxy(httpx.MockTransport(ingest)).forward(
        "safety/kill-switch", body, "Bearer x", None
    )

    assert answer.status == status


async def test_forward_when_ingest_unreachable_is_502() -> None:
    def ingest(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    answer = await _proxy(httpx.MockTransport(ingest)).forward(
        PENDING + "/approve", b'{"reason":"go"}', "Bearer x", None
    )

    assert answer.status == 502
    assert "unreachable" in answer.body["error"]


async def test_forward_when_ingest_times_out_is_504() -> None:
    def ingest(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    answer = await _proxy(httpx.MockTransport(ingest)).forward(
        PENDING + "/reject", b'{"reason":"no"}', "Bearer x", None
    )

    assert answer.status == 504


def test_offered_commands() -> None:
    assert is_allowed("safety/kill-switch")
    assert is_allowed("safety/emergency-stop")
    assert is_allowed(PENDING + "/approve")
    assert is_allowed(PENDING + "/reject")
    assert not is_allowed(PENDING + "/approve/x")
