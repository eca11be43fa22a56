"""HTTP routes of ingest: the TradingView webhook."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from libs.common.clock import Clock
from libs.common.kafka import publish
from libs.common.logging import get_logger
from libs.common.topics import SIGNALS
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.ingest.webhook import AlertError, parse_payload, to_signal

log = get_logger(__name__)
router = APIRouter()


@dataclass
class RecentKeys:
    """Dedup keys already acknowledged by Kafka, so repeats are answered without re-sending."""

    capacity: int = 10_000
    _keys: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def get(self, key: str) -> str | None:
        """Return the signal id of a key seen before."""
        return self._keys.get(key)

    def add(self, key: str, signal_id: str) -> None:
        """Remember an acknowledged key."""
        self._keys[key] = signal_id
        self._keys.move_to_end(key)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)


@dataclass(frozen=True)
class IngestContext:
    """Long-lived clients the routes need."""

    settings: IngestSettings
    producer: AIOKafkaProducer[bytes, bytes]
    clock: Clock
    metrics: IngestMetrics
    recent: RecentKeys
    allowlist: frozenset[str]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


def client_ip(request: Request, trust_forwarded_for: bool) -> str | None:
    """Return the caller's IP, from X-Forwarded-For only when configured to trust it.

    The rightmost address is the one our own proxy appended; anything to its left came from
    the caller and could be forged.
    """
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else None


async def read_limited(request: Request, limit: int) -> bytes | None:
    """Read the body, or return None as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def secret_matches(given: str, expected: str) -> bool:
    """Compare secrets in constant time; text that is not valid UTF-8 never matches."""
    try:
        given_bytes = given.encode()
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given_bytes, expected.encode())


@router.post(
    "/api/v2/webhook/tradingview",
    status_code=202,
    summary="Receive a TradingView alert",
    responses={
        400: {"description": "Body is not a JSON object"},
        401: {"description": "Secret missing"},
        403: {"description": "Secret wrong or source address not allowed"},
        413: {"description": "Body too large"},
        422: {"description": "A field is missing or invalid"},
        503: {"description": "Kafka did not acknowledge; TradingView will retry"},
    },
)
async def tradingview_webhook(request: Request) -> JSONResponse:
    """Validate an alert, publish ``SignalReceived`` and answer once Kafka acknowledged it."""
    ctx: IngestContext = request.app.state.ctx
    started = time.perf_counter()
    response = await _handle(request, ctx)
    ctx.metrics.latency.observe(time.perf_counter() - started)
    return response


async def _handle(request: Request, ctx: IngestContext) -> JSONResponse:
    ip = client_ip(request, ctx.settings.trust_forwarded_for)
    if ctx.allowlist and ip not in ctx.allowlist:
        ctx.metrics.webhook("forbidden_ip")
        log.warning("webhook_source_not_allowed", source_ip=ip)
        return _error(403, f"source address {ip} is not allowed")
    raw = await read_limited(request, ctx.settings.max_body_bytes)
    if raw is None:
        ctx.metrics.webhook("too_large")
        return _error(413, f"body is larger than {ctx.settings.max_body_bytes} bytes")
    try:
        body: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        ctx.metrics.webhook("bad_json")
        return _error(400, f"body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        ctx.metrics.webhook("bad_json")
        return _error(400, "body must be a JSON object")
    given = body.get("secret", request.query_params.get("secret"))
    if given is None or given == "":
        ctx.metrics.webhook("unauthenticated")
        return _error(401, "secret is missing: put the webhook secret in the alert's JSON")
    if not isinstance(given, str) or not secret_matches(
        given, ctx.settings.webhook_secret.get_secret_value()
    ):
        ctx.metrics.webhook("forbidden")
        log.warning("webhook_secret_wrong", source_ip=ip)
        return _error(403, "secret is wrong")
    try:
        payload = parse_payload(body)
        message = to_signal(payload, ctx.clock.now(), ip)
    except AlertError as exc:
        ctx.metrics.webhook("invalid")
        log.info("webhook_rejected", reason=str(exc), source_ip=ip)
        return _error(exc.status, str(exc))
    signal_id = str(message.signal_id)
    if ctx.recent.get(message.dedup_key) == signal_id:
        ctx.metrics.webhook("duplicate")
        return JSONResponse(
            status_code=202,
            content={"status": "accepted", "signal_id": signal_id, "duplicate": True},
        )
    try:
        await asyncio.wait_for(
            publish(ctx.producer, SIGNALS, message, key=message.symbol),
            timeout=ctx.settings.publish_timeout_s,
        )
    except (TimeoutError, KafkaError) as exc:
        ctx.metrics.webhook("unavailable")
        log.error("webhook_publish_failed", error=repr(exc), signal_id=signal_id)
        return _error(503, "the alert could not be stored; it was not accepted")
    ctx.recent.add(message.dedup_key, signal_id)
    ctx.metrics.webhook("accepted")
    log.info(
        "signal_accepted",
        signal_id=signal_id,
        signal=message.signal,
        action=message.action,
        trading_week=message.trading_week,
    )
    return JSONResponse(
        status_code=202, content={"status": "accepted", "signal_id": signal_id, "duplicate": False}
    )
