"""Fault injection scripted from tests (breeze.md 7.7) and the ASGI middleware applying it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

from sim.breeze.wire import INVALID_USER, LIMIT_DAY, LIMIT_MINUTE, error, gateway_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Applied around the handler by the middleware.
BEFORE = {
    "delay",
    "drop",
    "status_500",
    "html_502",
    "rate_limit_minute",
    "rate_limit_day",
    "invalid_user",
}
AFTER = {"delay_after", "drop_after", "hold_after"}
# Consulted by the handlers themselves.
IN_HANDLER = {"partial_fill", "not_applied", "reject", "exchange_reject"}
KINDS = BEFORE | AFTER | IN_HANDLER
BREEZE_PREFIXES = ("/breezeapi/api/v1/", "/api/v2/")


@dataclass
class Fault:
    """One scripted fault.

    kind: delay | delay_after | drop | drop_after | hold_after | status_500 | html_502 |
      rate_limit_minute | rate_limit_day | invalid_user | partial_fill | not_applied | reject |
      exchange_reject
      (``hold_after``: the call takes effect, then its answer waits until released through the
      control API, or for at most ``seconds`` when that is positive)
    endpoint: Breeze endpoint name (``order``, ``quotes``, ``customerdetails``, ...) or ``*``
    method: HTTP method or ``*``; times: how often it fires (-1 = until cleared)
    seconds: for delays; message: for errors and rejections; quantity: fill cap for partial_fill
    """

    kind: str
    endpoint: str = "*"
    method: str = "*"
    times: int = 1
    seconds: float = 0.0
    message: str = ""
    quantity: int = 0
    fired: int = 0

    def matches(self, endpoint: str, method: str) -> bool:
        """Whether this fault applies to a call and has firings left."""
        return (
            (self.times < 0 or self.fired < self.times)
            and self.endpoint in ("*", endpoint)
            and self.method.upper() in ("*", method.upper())
        )


class Faults:
    """The active fault script; faults fire in the order they were added."""

    def __init__(self) -> None:
        self.items: list[Fault] = []
        self._holds: list[asyncio.Event] = []

    def add(self, spec: dict[str, Any]) -> Fault:
        """Add a fault from its JSON description."""
        fields = {k: spec[k] for k in Fault.__dataclass_fields__ if k in spec and k != "fired"}
        fault = Fault(**fields)
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {sorted(KINDS)}")
        self.items.append(fault)
        return fault

    def take(self, endpoint: str, method: str, kinds: set[str]) -> Fault | None:
        """Fire the first matching fault of one of ``kinds``."""
        for fault in self.items:
            if fault.kind in kinds and fault.matches(endpoint, method):
                fault.fired += 1
                return fault
        return None

    def clear(self) -> None:
        """Remove every fault and release every held answer."""
        self.items.clear()
        self.release()

    def hold(self) -> asyncio.Event:
        """A new held answer: it goes out once the returned event is set by :meth:`release`."""
        event = asyncio.Event()
        self._holds.append(event)
        return event

    @property
    def holding(self) -> int:
        """How many answers are held right now."""
        return sum(1 for e in self._holds if not e.is_set())

    def release(self) -> int:
        """Let every held answer go out; return how many were waiting."""
        waiting = self.holding
        for event in self._holds:
            event.set()
        self._holds.clear()
        return waiting

    def snapshot(self) -> list[dict[str, Any]]:
        """The script with firing counts."""
        return [asdict(f) for f in self.items]


class ResponseDropped(Exception):
    """Raised after the status line went out: the server closes the socket without a body."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ResponseDropped))


def silence_dropped_responses() -> None:
    """Keep uvicorn from logging deliberately dropped responses as application errors."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in logger.filters):
        logger.addFilter(_DropFilter())


def endpoint_of(path: str) -> str | None:
    """Breeze endpoint name of a request path, or None for other paths."""
    for prefix in BREEZE_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].strip("/")
    return None


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, payload: dict[str, Any], status: int = 200) -> None:
    await _respond(send, status, json.dumps(payload).encode(), b"application/json")


async def _buffer_request(receive: Receive) -> Receive:
    """Read the whole request body now; the returned ``receive`` replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    pending: list[Message] = [
        {"type": "http.request", "body": b"".join(chunks), "more_body": False}
    ]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay


async def _drop(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )
    raise ResponseDropped("response dropped by fault injection")


class FaultMiddleware:
    """Applies BEFORE and AFTER faults to Breeze routes; the control API is never faulted."""

    def __init__(self, app: ASGIApp, faults: Faults, gateway_status: int = 401) -> None:
        self.app = app
        self.faults = faults
        self.gateway_status = gateway_status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = endpoint_of(scope.get("path", "")) if scope["type"] == "http" else None
        fault = None
        if endpoint is not None:
            fault = self.faults.take(endpoint, scope["method"], BEFORE | AFTER)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind in AFTER:
            await self._after(fault, scope, receive, send)
        else:
            await self._before(fault, scope, receive, send)

    async def _before(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        kind = fault.kind
        if kind == "delay":
            replay = await _buffer_request(receive)  # read before the client may give up
            await asyncio.sleep(fault.seconds)
            await self.app(scope, replay, send)
        elif kind == "drop":
            await _drop(send)
        elif kind == "status_500":
            await _json(send, error(fault.message or "SIM: injected server error"))
        elif kind == "html_502":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            await _respond(send, 502, page, b"text/html")
        elif kind == "invalid_user":
            await _json(send, error(INVALID_USER))
        else:
            message = LIMIT_MINUTE if kind == "rate_limit_minute" else LIMIT_DAY
            await _json(send, gateway_error(message), self.gateway_status)

    async def _after(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)  # the call takes effect on the server
        if fault.kind == "drop_after":
            await _drop(send)
        if fault.kind == "hold_after":
            released = self.faults.hold()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(released.wait(), fault.seconds or None)
        else:
            await asyncio.sleep(fault.seconds)
        for message in held:
            await send(message)
