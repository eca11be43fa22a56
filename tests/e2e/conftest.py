"""Fixtures for tests against the whole stack as `make up` starts it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tests.conftest import _unavailable

WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "local-dev-webhook-secret")


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        _unavailable(f"the stack ({name} not set; run `make up`)")
    return value or ""


@pytest.fixture(scope="session")
def ingest_url() -> str:
    return _env("STRIKEFLOW_INGEST_URL")


@pytest.fixture(scope="session")
def monitor_url() -> str:
    return _env("STRIKEFLOW_MONITOR_URL")


@pytest.fixture(scope="session")
def supervisor_conf() -> str:
    return _env("STRIKEFLOW_SUPERVISOR_CONF")


@pytest_asyncio.fixture(scope="session")
async def ledger_db() -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(_env("DATABASE_URL"), min_size=1, max_size=4)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def unique_bar_time() -> datetime:
    """A bar time in a trading week no other test uses (the latch is per signal-week)."""
    base = datetime(2030, 1, 7, 4, 45, tzinfo=UTC)
    return base + timedelta(weeks=random.randrange(0, 52 * 60))


def entry_alert(
    signal: str = "S1", bar_time: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """An indicator-style entry alert with a unique signal-week."""
    bullish = signal in {"S1", "S2", "S4", "S7"}
    body: dict[str, Any] = {
        "secret": WEBHOOK_SECRET,
        "signal": signal,
        "action": "Entry",
        "strike": 24000,
        "type": "PE" if bullish else "CE",
        "bar_time": (bar_time or unique_bar_time()).isoformat().replace("+00:00", "Z"),
    }
    body.update(extra)
    return body


def supervisorctl(conf: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "supervisor.supervisorctl", "-c", conf, *args],
        check=False,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


async def fills_for_signal(pool: asyncpg.Pool, signal_id: str) -> int:
    """Fills booked for the trade a signal opened."""
    value = await pool.fetchval(
        "SELECT count(*) FROM ledger.fills f JOIN ledger.risk_decisions d "
        "ON d.trade_id = f.trade_id WHERE d.signal_id = $1::uuid AND d.outcome = 'approved'",
        signal_id,
    )
    return int(value or 0)
