"""Fan-out of dashboard events to every connected WebSocket client.

Each client has a bounded queue. ``broadcast`` never waits: a client whose queue is full is
dropped (its ``dropped`` event is set and it leaves the hub), so one slow browser never holds
back the others or the Kafka feed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from libs.common.logging import get_logger

log = get_logger(__name__)


class HubClient:
    """One connected client: its pending messages and whether the hub dropped it."""

    def __init__(self, client_id: int, queue_size: int) -> None:
        self.client_id = client_id
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.dropped = asyncio.Event()

    async def next_message(self) -> str | None:
        """The next message to send, or None once the hub dropped this client."""
        if self.dropped.is_set():
            return None
        getter = asyncio.ensure_future(self.queue.get())
        dropped = asyncio.ensure_future(self.dropped.wait())
        try:
            await asyncio.wait({getter, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropped.cancel()
            if not getter.done():
                getter.cancel()
        if self.dropped.is_set():
            return None
        return getter.result()


class Hub:
    """The set of connected clients and the broadcast to all of them."""

    def __init__(self, queue_size: int) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._queue_size = queue_size
        self._clients: dict[int, HubClient] = {}
        self._next_id = 0
        self.dropped_total = 0

    @property
    def client_count(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    def connect(self) -> HubClient:
        """Register a new client; it receives every event broadcast from now on."""
        self._next_id += 1
        client = HubClient(self._next_id, self._queue_size)
        self._clients[client.client_id] = client
        log.info("dashboard_client_connected", client=client.client_id, clients=len(self._clients))
        return client

    def disconnect(self, client: HubClient) -> None:
        """Forget a client (idempotent)."""
        if self._clients.pop(client.client_id, None) is not None:
            log.info(
                "dashboard_client_disconnected", client=client.client_id, clients=len(self._clients)
            )

    def broadcast(self, event: dict[str, Any]) -> int:
        """Queue one event for every client without waiting; return how many got it."""
        text = json.dumps(event, separators=(",", ":"))
        delivered = 0
        for client in list(self._clients.values()):
            try:
                client.queue.put_nowait(text)
            except asyncio.QueueFull:
                self._drop(client)
                continue
            delivered += 1
        return delivered

    def _drop(self, client: HubClient) -> None:
        self._clients.pop(client.client_id, None)
        client.dropped.set()
        self.dropped_total += 1
        log.warning(
            "dashboard_client_dropped",
            client=client.client_id,
            reason="queue full",
            queue_size=self._queue_size,
        )
