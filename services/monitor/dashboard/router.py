"""Dashboard routes: the page, its assets, the ``/ws/monitor`` WebSocket, operator commands."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Header, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, RedirectResponse, Response

from libs.common.logging import get_logger
from services.monitor.dashboard.hub import HubClient
from services.monitor.dashboard.runtime import Dashboard

log = get_logger(__name__)
router = APIRouter(tags=["dashboard"])

STATIC = Path(__file__).resolve().parent / "static"
_ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
TOO_SLOW = 1013  # "try again later": the client fell behind and was dropped


def _asset(name: str) -> Response:
    body = (STATIC / name).read_bytes()
    return Response(content=body, media_type=_ASSETS[name], headers=_SECURITY_HEADERS)


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    """The operator dashboard lives at /dashboard."""
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard", include_in_schema=False)
async def page() -> Response:
    """The operator dashboard (plain HTML, JS and CSS; no external resources)."""
    return _asset("index.html")


@router.get("/dashboard/app.js", include_in_schema=False)
async def script() -> Response:
    """The dashboard's script."""
    return _asset("app.js")


@router.get("/dashboard/style.css", include_in_schema=False)
async def style() -> Response:
    """The dashboard's style sheet."""
    return _asset("style.css")


@router.post(
    "/api/v2/dashboard/operator/{command:path}",
    summary="Forward an operator command to ingest with the caller's bearer token",
)
async def operator_command(
    command: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_operator: Annotated[str | None, Header(max_length=64)] = None,
) -> JSONResponse:
    """Forwards `safety/kill-switch`, `safety/emergency-stop` and
    `strategy/pending/{signal_id}/approve|reject` to ingest; answers with ingest's status
    (401 without a token, 403 with a wrong one) and body."""
    dashboard: Dashboard = request.app.state.dashboard
    answer = await dashboard.proxy.forward(command, await request.body(), authorization, x_operator)
    return JSONResponse(status_code=answer.status, content=answer.body)


@router.websocket("/ws/monitor")
async def monitor_socket(websocket: WebSocket) -> None:
    """A snapshot first, then every live event until either side closes."""
    dashboard: Dashboard = websocket.app.state.dashboard
    await websocket.accept()
    client = dashboard.hub.connect()
    try:
        try:
            snapshot = await dashboard.snapshot()
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            log.warning("dashboard_snapshot_failed", error=repr(exc))
            await websocket.close(code=1011, reason="snapshot unavailable")
            return
        await websocket.send_text(json.dumps(snapshot, separators=(",", ":")))
        await _pump(websocket, client)
    except WebSocketDisconnect:
        pass
    finally:
        dashboard.hub.disconnect(client)


async def _pump(websocket: WebSocket, client: HubClient) -> None:
    sender = asyncio.create_task(_send_events(websocket, client))
    receiver = asyncio.create_task(_read_until_closed(websocket))
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
    for task in done:
        exc = task.exception()
        if exc is not None and not isinstance(exc, WebSocketDisconnect):
            log.warning("dashboard_socket_failed", client=client.client_id, error=repr(exc))


async def _send_events(websocket: WebSocket, client: HubClient) -> None:
    while True:
        text = await client.next_message()
        if text is None:
            await websocket.close(code=TOO_SLOW, reason="too slow: events were dropped")
            return
        await websocket.send_text(text)


async def _read_until_closed(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()  # clients send nothing meaningful; this sees the close
        if message["type"] == "websocket.disconnect":
            return
