"""The hub fans events out without ever waiting on a slow client."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from services.monitor.dashboard.hub import Hub
from services.monitor.dashboard.router import TOO_SLOW, router


def _ev(n: int) -> dict[str, Any]:
    return {"type": "fill", "ts": "2026-11-25T05:00:00+00:00", "data": {"n": n}}


async def test_broadcast_when_client_too_slow_drops_it_and_others_get_everything() -> None:
    hub = Hub(queue_size=2)
    slow = hub.connect()
    fast = hub.connect()
    received = []

    for n in range(5):
        assert hub.broadcast(_ev(n)) >= 1
        received.append(json.loads(await asyncio.wait_for(fast.next_message() or "", 1)))

    assert [e["data"]["n"] for e in received] == [0, 1, 2, 3, 4]
    assert slow.dropped.is_set()
    assert not fast.dropped.is_set()
    assert hub.client_count == 1
    assert hub.dropped_total == 1


async def test_next_message_when_dropped_returns_none_even_with_queued_events() -> None:
    hub = Hub(queue_size=1)
    slow = hub.connect()
    hub.broadcast(_ev(1))
    hub.broadcast(_ev(2))  # queue full: dropped

    assert await asyncio.wait_for(slow.next_message(), 1) is None


async def test_next_message_when_dropped_while_waiting_wakes_up() -> None:
    hub = Hub(queue_size=1)
    waiting = hub.connect()
    other = hub.connect()
    task = asyncio.create_task(waiting.next_message())
    other.queue.put_nowait("filler")  # other's queue is full now

    hub.broadcast(_ev(1))  # waiting gets it, other is dropped
    assert json.loads(await asyncio.wait_for(task, 1))["data"] == {"n": 1}
    assert await asyncio.wait_for(other.next_message(), 1) is None


async def test_broadcast_when_nobody_connected_delivers_to_none() -> None:
    hub = Hub(queue_size=4)
    client = hub.connect()
    hub.disconnect(client)
    hub.disconnect(client)

    assert hub.broadcast(_ev(1)) == 0
    assert hub.client_count == 0


def test_hub_when_queue_size_zero_refuses() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        Hub(queue_size=0)


@dataclass
class _FakeDashboard:
    """Only what the WebSocket route uses: the hub and a snapshot."""

    hub: Hub
    snapshots: list[int] = field(default_factory=list)

    async def snapshot(self) -> dict[str, Any]:
        self.snapshots.append(1)
        return {"type": "snapshot", "ts": "2026-11-25T05:00:00+00:00", "data": {"positions": []}}


def _app(hub: Hub) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.dashboard = _FakeDashboard(hub)
    return app


def test_socket_sends_snapshot_first_then_broadcast_events() -> None:
    hub = Hub(queue_size=8)
    with TestClient(_app(hub)) as client, client.websocket_connect("/ws/monitor") as ws:
        first = ws.receive_json()
        ws.portal.call(_broadcast, hub, _ev(7))  # on the socket's own event loop
        second = ws.receive_json()
        _close_and_wait(ws, hub)

    assert first["type"] == "snapshot"
    assert second == _ev(7)


def test_socket_when_client_falls_behind_closes_with_too_slow() -> None:
    hub = Hub(queue_size=1)
    with TestClient(_app(hub)) as client, client.websocket_connect("/ws/monitor") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.portal.call(_fill_and_overflow, hub)
        with pytest.raises(WebSocketDisconnect) as closed:
            _receive_until_closed(ws)

    assert closed.value.code == TOO_SLOW
    assert hub.client_count == 0


def _receive_until_closed(ws: WebSocketTestSession) -> None:
    while True:
        ws.receive_json()


async def _fill_and_overflow(hub: Hub) -> None:
    # The only client's queue holds one event; three in a row overflow it before it can send.
    for n in range(3):
        hub.broadcast(_ev(n))


def _close_and_wait(ws: WebSocketTestSession, hub: Hub) -> None:
    """Close from the client and wait until the server let go of it.

    The test client cancels the app right after its own close; waiting here lets the handler
    finish the way it does under a real server.
    """
    ws.close(1000)
    deadline = time.monotonic() + 5
    while hub.client_count:
        assert time.monotonic() < deadline, "the server kept the closed client"
        time.sleep(0.01)


async def _broadcast(hub: Hub, ev: dict[str, Any]) -> None:
    hub.broadcast(ev)


def test_dashboard_page_and_assets_are_served_without_external_resources() -> None:
    hub = Hub(queue_size=8)
    with TestClient(_app(hub)) as client:
        root = client.get("/", follow_redirects=False)
        page = client.get("/dashboard")
        script = client.get("/dashboard/app.js")
        style = client.get("/dashboard/style.css")

    assert root.status_code == 307
    assert root.headers["location"] == "/dashboard"
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    for panel in ("broker-status", "safety-status", "positions", "pnl-chart", "alerts", "pending"):
        assert f'id="{panel}"' in page.text
    assert script.status_code == 200
    assert "/ws/monitor" in script.text
    assert style.status_code == 200
    for body in (page.text, script.text, style.text):
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in body
