"""Channels: request shapes, which failures are worth a retry, secrets kept out of errors, and
which channels the settings turn on."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from services.monitor.notifications.adapters.channels import (
    DeliveryError,
    TelegramChannel,
    WebhookChannel,
    signature,
)
from services.monitor.notifications.adapters.store import PendingNotification
from services.monitor.notifications.delivery import retry_delay
from services.monitor.notifications.notifier import NotifierConfig
from services.monitor.settings import MonitorSettings

TOKEN = "42:secret-bot-token"
ROW = PendingNotification(
    id=1,
    dedupe_key="alert:other:x",
    channel="telegram",
    attempts=0,
    payload={"text": "[INFO] hello", "kind": "other"},
)


def client(
    status: int, body: object = None, fail: bool = False
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if fail:
            raise httpx.ConnectError(f"cannot reach {request.url}")
        return httpx.Response(status, json=body if body is not None else {"ok": True})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer)), seen


async def test_telegram_posts_chat_and_text_to_send_message() -> None:
    http, seen = client(200)

    await TelegramChannel(http, "https://tg.example/", TOKEN, "-100").send(ROW, 0)

    (request,) = seen
    assert str(request.url) == f"https://tg.example/bot{TOKEN}/sendMessage"
    assert json.loads(request.content) == {
        "chat_id": "-100",
        "text": "[INFO] hello",
        "disable_web_page_preview": True,
    }


@pytest.mark.parametrize(
    ("status", "retryable"), [(429, True), (500, True), (502, True), (400, False), (403, False)]
)
async def test_telegram_failures_say_whether_a_retry_helps(status: int, retryable: bool) -> None:
    http, _ = client(status, {"ok": False, "description": f"refused for bot{TOKEN}"})

    with pytest.raises(DeliveryError) as caught:
        await TelegramChannel(http, "https://tg.example", TOKEN, "-100").send(ROW, 0)

    assert caught.value.retryable is retryable
    assert str(caught.value).startswith(f"HTTP {status}: refused")
    assert TOKEN not in str(caught.value)


async def test_telegram_flood_wait_is_passed_on_as_retry_after() -> None:
    answer = {"ok": False, "description": "Too Many Requests", "parameters": {"retry_after": 7}}
    http, _ = client(429, answer)

    with pytest.raises(DeliveryError) as caught:
        await TelegramChannel(http, "https://tg.example", TOKEN, "-100").send(ROW, 0)

    assert caught.value.retry_after == 7
    assert retry_delay(0.5, caught.value, 60) == 7
    assert retry_delay(0.5, caught.value, 5) == 5  # never beyond the longest delay
    assert retry_delay(2.0, DeliveryError("HTTP 503", True), 60) == 2.0


async def test_transport_errors_are_retryable_and_never_show_the_token() -> None:
    http, _ = client(200, fail=True)

    with pytest.raises(DeliveryError) as caught:
        await TelegramChannel(http, "https://tg.example", TOKEN, "-100").send(ROW, 0)

    assert caught.value.retryable is True
    assert "ConnectError" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_webhook_body_is_signed_over_timestamp_and_body() -> None:
    http, seen = client(204)

    await WebhookChannel(http, "https://hooks.example/x?k=1", "shh").send(ROW, 1_700_000_000)

    (request,) = seen
    expected = hmac.new(b"shh", b"1700000000." + request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Strikeflow-Signature"] == f"sha256={expected}"
    assert request.headers["X-Strikeflow-Timestamp"] == "1700000000"
    assert request.headers["X-Strikeflow-Notification-Id"] == "alert:other:x"
    assert json.loads(request.content) == {"id": "alert:other:x", **ROW.payload}
    assert signature(b"shh", 1_700_000_000, request.content) == f"sha256={expected}"


async def test_unsigned_webhook_has_no_signature_header() -> None:
    http, seen = client(200)

    await WebhookChannel(http, "https://hooks.example/x", "").send(ROW, 1)

    assert "X-Strikeflow-Signature" not in seen[0].headers


def test_channels_are_off_unless_configured() -> None:
    assert NotifierConfig.from_settings(MonitorSettings()).telegram is None
    assert NotifierConfig.from_settings(MonitorSettings()).webhook is None
    half = MonitorSettings(notify_telegram_bot_token=TOKEN)  # no chat id
    assert NotifierConfig.from_settings(half).telegram is None

    on = NotifierConfig.from_settings(
        MonitorSettings(
            notify_telegram_bot_token=TOKEN,
            notify_telegram_chat_id="-100",
            notify_webhook_url="https://hooks.example/x",
            notify_webhook_rate=3,
        )
    )

    assert on.telegram is not None
    assert on.telegram.bot_token == TOKEN
    assert on.webhook is not None
    assert on.webhook.rate.count == 3
    assert TOKEN not in repr(MonitorSettings(notify_telegram_bot_token=TOKEN))
    assert TOKEN not in repr(on)
    assert "hooks.example" not in repr(on)
