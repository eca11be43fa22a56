"""SIGKILL of any one service loses nothing: accepted alerts are processed after it restarts."""

from __future__ import annotations

import os
import signal

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import entry_alert, fills_for_signal, supervisorctl
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

SIGNALS = ("S5", "S6", "S7", "S8")


async def _post_until_accepted(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> str:
    """Post like TradingView would retry: until the alert is accepted."""

    async def attempt() -> httpx.Response | None:
        try:
            return await http.post(f"{url}/api/v2/webhook/tradingview", json=body)
        except httpx.TransportError:
            return None

    response = await eventually(
        attempt, lambda r: r is not None and r.status_code == 202, 60, "alert accepted", 0.2
    )
    assert response is not None
    return str(response.json()["signal_id"])


async def _pid(conf: str, service: str) -> int:
    async def probe() -> str:
        return supervisorctl(conf, "pid", service)

    text = await eventually(probe, lambda t: t.isdigit() and int(t) > 0, 60, f"{service} pid")
    return int(text)


@pytest.mark.parametrize("service", ["ingest", "risk", "executor", "ledger", "monitor"])
async def test_sigkill_of_service_when_alerts_in_flight_loses_nothing(
    service: str,
    http: httpx.AsyncClient,
    ingest_url: str,
    monitor_url: str,
    supervisor_conf: str,
    ledger_db: asyncpg.Pool,
) -> None:
    before = [await _post_until_accepted(http, ingest_url, entry_alert(s)) for s in SIGNALS[:2]]
    old_pid = await _pid(supervisor_conf, service)

    os.kill(old_pid, signal.SIGKILL)
    during = [await _post_until_accepted(http, ingest_url, entry_alert(s)) for s in SIGNALS[2:]]

    new_pid = await _pid(supervisor_conf, service)
    assert new_pid != old_pid
    for signal_id in before + during:
        await eventually(
            lambda sid=signal_id: fills_for_signal(ledger_db, sid),
            lambda n: n == 2,
            60,
            f"fills for {signal_id} after {service} restart",
        )

    async def health() -> str:
        try:
            return str((await http.get(f"{monitor_url}/api/v2/health")).json()["status"])
        except (httpx.TransportError, ValueError, KeyError):
            return "unreachable"

    await eventually(health, lambda s: s == "ok", 60, "health ok after restart", 0.5)
