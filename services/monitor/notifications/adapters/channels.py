"""Delivery channels: the Telegram Bot API and a generic JSON webhook.

A channel sends one notification per call and raises :class:`DeliveryError` saying whether a
retry can help. Secrets (the bot token, the webhook URL and signing secret) never appear in an
error text: they are scrubbed before anything leaves this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Protocol

import httpx

from services.monitor.notifications.adapters.store import PendingNotification

TELEGRAM_MAX_CHARS = 4096
SIGNATURE_HEADER = "X-Strikeflow-Signature"
TIMESTAMP_HEADER = "X-Strikeflow-Timestamp"
ID_HEADER = "X-Strikeflow-Notification-Id"
_RETRYABLE_STATUS = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """A delivery attempt failed; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the receiver asked us to wait, if it did


class Channel(Protocol):
    """Somewhere notifications go."""

    @property
    def name(self) -> str:
        """The channel's name, as stored in ``monitor.notifications.channel``."""
        ...

    async def send(self, row: PendingNotification, now_epoch: int) -> None:
        """Deliver one notification or raise :class:`DeliveryError`."""
        ...


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>``, as ``sha256=<hex>``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:500]


def _check(response: httpx.Response, detail: str, retry_after: float | None = None) -> None:
    if response.is_success:
        return
    retryable = response.status_code in _RETRYABLE_STATUS or response.status_code >= 500
    if retry_after is None:
        retry_after = _seconds(response.headers.get("Retry-After"))
    raise DeliveryError(f"HTTP {response.status_code}: {detail}", retryable, retry_after)


def _seconds(value: object) -> float | None:
    """A non-negative number of seconds, or None (an HTTP date in Retry-After is ignored)."""
    try:
        seconds = float(str(value))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


async def _post(
    client: httpx.AsyncClient,
    url: str,
    secrets: tuple[str, ...],
    content: bytes,
    headers: dict[str, str],
) -> httpx.Response:
    try:
        return await client.post(url, content=content, headers=headers)
    except httpx.TransportError as exc:
        raise DeliveryError(
            _scrub(f"{type(exc).__name__}: {exc}", secrets), retryable=True
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DeliveryError(
            _scrub(f"{type(exc).__name__}: {exc}", secrets), retryable=False
        ) from None


class TelegramChannel:
    """The Bot API's ``sendMessage`` to one chat, as plain text."""

    name = "telegram"

    def __init__(
        self, client: httpx.AsyncClient, api_url: str, bot_token: str, chat_id: str
    ) -> None:
        self._client = client
        self._url = f"{api_url.rstrip('/')}/bot{bot_token}/sendMessage"
        self._chat_id = chat_id
        self._secrets = (bot_token, chat_id)

    async def send(self, row: PendingNotification, now_epoch: int) -> None:
        """Send the text; Telegram answers ``{"ok": true, ...}``."""
        body = json.dumps(
            {
                "chat_id": self._chat_id,
                "text": row.text[:TELEGRAM_MAX_CHARS],
                "disable_web_page_preview": True,
            }
        ).encode()
        response = await _post(
            self._client, self._url, self._secrets, body, {"Content-Type": "application/json"}
        )
        description, retry_after = _telegram_answer(response)
        _check(response, _scrub(description, self._secrets), retry_after)


def _telegram_answer(response: httpx.Response) -> tuple[str, float | None]:
    """Telegram's error description and, on 429, its ``parameters.retry_after``."""
    try:
        answer = response.json()
    except ValueError:
        return response.text[:200], None
    if not isinstance(answer, dict):
        return "", None
    parameters = answer.get("parameters")
    retry_after = _seconds(parameters.get("retry_after")) if isinstance(parameters, dict) else None
    return str(answer.get("description", ""))[:200], retry_after


class WebhookChannel:
    """POST the notification as JSON, signed with HMAC-SHA256 when a secret is set."""

    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, url: str, secret: str) -> None:
        self._client = client
        self._url = url
        self._secret = secret
        self._secrets = (url, secret)

    async def send(self, row: PendingNotification, now_epoch: int) -> None:
        """Post ``{"id": <dedupe key>, ...payload}``; any 2xx is a delivery."""
        body = json.dumps({"id": row.dedupe_key, **row.payload}, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: row.dedupe_key,
            TIMESTAMP_HEADER: str(now_epoch),
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret.encode(), now_epoch, body)
        response = await _post(self._client, self._url, self._secrets, body, headers)
        _check(response, _scrub(response.text[:200], self._secrets))
