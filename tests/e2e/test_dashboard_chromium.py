"""The operator dashboard in headless Chromium against the whole stack.

Chromium is the Debian package (/usr/bin/chromium), driven by Playwright without any browser
download. The screenshot is kept at artifacts/dashboard.png.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tests.e2e.conftest import entry_alert, fills_for_signal
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.async_api")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "artifacts" / "dashboard.png"
TOKEN = os.environ.get("OPERATOR_TOKEN", "local-dev-operator-token")
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Operator": "e2e-dashboard"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def chromium_path() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("chromium unavailable and REQUIRE_SERVICES=1")
        pytest.skip("chromium unavailable")
    return path


@dataclass
class Tab:
    page: Any
    errors: list[str]


@pytest_asyncio.fixture
async def tab(monitor_url: str) -> AsyncIterator[Tab]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 1700})
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.set_default_timeout(15_000)
            yield Tab(page, errors)
        finally:
            await browser.close()


async def _safety(http: httpx.AsyncClient, monitor_url: str) -> dict[str, Any]:
    return dict((await http.get(f"{monitor_url}/api/v2/safety/status")).json())


async def _kill_switch(http: httpx.AsyncClient, ingest_url: str, engaged: bool) -> None:
    response = await http.post(
        f"{ingest_url}/api/v2/safety/kill-switch",
        headers=AUTH,
        json={"engaged": engaged, "reason": "dashboard e2e clean-up"},
    )
    assert response.status_code == 200, response.text


async def _page_quantity(page: Any, instrument: str) -> int | None:
    """The net quantity the positions panel shows for an instrument, None when not shown."""
    row = page.locator(f'#positions tbody tr[data-instrument="{instrument}"]')
    if await row.count() == 0:
        return None
    return int(await row.locator("td:nth-child(3)").inner_text())


async def _text(page: Any, selector: str) -> str:
    return str(await page.locator(selector).inner_text())


async def test_dashboard_shows_fill_live_and_drives_the_kill_switch(
    tab: Tab, http: httpx.AsyncClient, ingest_url: str, monitor_url: str
) -> None:
    page = tab.page
    if (await _safety(http, monitor_url))["kill_switch"]:
        await _kill_switch(http, ingest_url, engaged=False)
    await page.goto(f"{monitor_url}/")
    assert page.url.endswith("/dashboard")
    await page.wait_for_selector("#connection[data-state=live]")
    await page.wait_for_function(
        "() => document.getElementById('trading-state').textContent === 'ACTIVE'"
    )
    await page.evaluate("window.__sameDocument = true")

    # A wrong token: ingest refuses, the page says so, nothing changes.
    await page.fill("#token", "not-the-operator-token")
    await page.click("#token-save")
    await page.click("#kill-on")
    await page.wait_for_selector("#action-result[data-ok=false]")
    assert "403" in await _text(page, "#action-result")
    assert (await _safety(http, monitor_url))["kill_switch"] is False
    # No token at all: 401.
    await page.click("#token-clear")
    await page.click("#kill-on")
    await page.wait_for_function(
        "() => document.getElementById('action-result').textContent.includes('401')"
    )
    assert (await _safety(http, monitor_url))["kill_switch"] is False

    await page.fill("#token", TOKEN)
    await page.fill("#operator-name", "e2e-dashboard")
    await page.click("#token-save")
    assert await page.evaluate("sessionStorage.getItem('strikeflow.operatorToken')") == TOKEN

    # A webhook alert becomes a fill and a changed position on the open page.
    before = {
        p["instrument"]: p["net_quantity"]
        for p in (await http.get(f"{monitor_url}/api/v2/trading/positions")).json()["positions"]
    }
    response = await http.post(f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S3"))
    assert response.status_code == 202, response.text
    signal_id = response.json()["signal_id"]
    main_fill = page.locator("#fills tbody tr[data-fill-id]", has_text="entry main")
    await main_fill.wait_for(timeout=20_000)
    instrument = await main_fill.locator("td:nth-child(4)").inner_text()
    sold = int(await main_fill.locator("td:nth-child(6)").inner_text())
    after = await eventually(
        lambda: _page_quantity(page, instrument),
        lambda qty: qty is not None and qty != before.get(instrument, 0),
        15,
        f"position {instrument} changed on the page",
    )
    assert after == before.get(instrument, 0) - sold  # the main leg is sold
    await page.wait_for_function(
        "() => Number(document.getElementById('pnl-chart').dataset.points) > 0"
    )
    await page.wait_for_selector(f'#signals tbody tr[data-signal-id="{signal_id}"]')
    decision = page.locator(f'#decisions tbody tr[data-signal-id="{signal_id}"]')
    await decision.wait_for()
    assert "approved" in await decision.inner_text()
    assert await page.evaluate("window.__sameDocument") is True  # no reload happened
    positions = (await http.get(f"{monitor_url}/api/v2/trading/positions")).json()["positions"]
    assert {p["instrument"]: p["net_quantity"] for p in positions}[instrument] == after

    # Kill switch from the page: the page shows HALTED and monitor's API agrees.
    try:
        await page.click("#kill-on")
        await page.wait_for_selector("#action-result[data-ok=true]")
        await page.wait_for_function(
            "() => document.getElementById('trading-state').textContent === 'HALTED'"
        )
        status = await eventually(
            lambda: _safety(http, monitor_url),
            lambda s: s["trading_state"] == "HALTED",
            5,
            "monitor safety status",
        )
        assert status["kill_switch"] is True
        assert status["last_changes"]["kill_switch"]["changed_by"] == "e2e-dashboard"
        assert "kill_switch ON" in await _text(page, "#alerts")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        await page.click("#kill-off")
        await page.wait_for_function(
            "() => document.getElementById('trading-state').textContent === 'ACTIVE'"
        )
        status = await eventually(
            lambda: _safety(http, monitor_url),
            lambda s: s["trading_state"] == "ACTIVE",
            5,
            "monitor safety status",
        )
        assert status["kill_switch"] is False
    finally:
        if (await _safety(http, monitor_url))["kill_switch"]:
            await _kill_switch(http, ingest_url, engaged=False)

    assert await page.evaluate("window.__sameDocument") is True
    assert SCREENSHOT.stat().st_size > 20_000
    refused = ("status of 401", "status of 403")  # the browser logs the refused commands above
    assert [e for e in tab.errors if not any(r in e for r in refused)] == []


async def test_dashboard_approves_a_pending_signal_with_the_button(
    tab: Tab, http: httpx.AsyncClient, ingest_url: str, monitor_url: str, ledger_db: asyncpg.Pool
) -> None:
    page = tab.page
    await page.goto(f"{monitor_url}/dashboard")
    await page.wait_for_selector("#connection[data-state=live]")
    await page.fill("#token", TOKEN)
    await page.fill("#reason", "checked the chart")
    await page.click("#token-save")
    off = await http.post(
        f"{ingest_url}/api/v2/strategy/stop-automation", headers=AUTH, json={"reason": "review"}
    )
    assert off.status_code == 200, off.text
    try:
        await eventually(
            lambda: _safety(http, monitor_url), lambda s: s["automation"] is False, 5, "automation"
        )
        response = await http.post(
            f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S3")
        )
        signal_id = response.json()["signal_id"]
        row = page.locator(f'#pending tbody tr[data-signal-id="{signal_id}"]')
        await row.wait_for(timeout=20_000)
        assert await fills_for_signal(ledger_db, signal_id) == 0

        await row.locator("button[data-action=approve]").click()

        await page.wait_for_selector("#action-result[data-ok=true]")
        await row.wait_for(state="detached", timeout=20_000)
        await eventually(
            lambda: fills_for_signal(ledger_db, signal_id), lambda n: n == 2, 15, "fills"
        )
        assert "Command ResolvePending by operator (checked the chart)" in await _text(
            page, "#alerts"
        )
    finally:
        on = await http.post(
            f"{ingest_url}/api/v2/strategy/start-automation", headers=AUTH, json={"reason": "done"}
        )
        assert on.status_code == 200, on.text
    assert tab.errors == []
