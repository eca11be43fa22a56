"""A real Prometheus scraping the running stack: targets, every dashboard query, every alert rule.

Grafana is not needed: each panel's PromQL runs through Prometheus' HTTP API, after an alert has
gone through the pipeline so the metrics the panels read have moved.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import yaml

from tests.conftest import _unavailable
from tests.e2e.conftest import entry_alert, fills_for_signal
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "rules" / "strikeflow.yml"
SERVICES = {"ingest", "risk", "executor", "ledger", "monitor"}
# Grafana's built-in variables, as Grafana would resolve them for a 1-hour view.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}

# Panels that must show data once an alert went through (dashboard file stem, panel title).
MUST_SHOW_DATA = [
    ("system", "Services up"),
    ("system", "Alerts firing"),
    ("system", "Consumer lag"),
    ("system", "Dead letters"),
    ("system", "Heartbeat age"),
    ("system", "Last offset commit age"),
    ("system", "Webhook latency"),
    ("system", "Webhook requests"),
    ("trading", "Signals accepted (24h)"),
    ("trading", "Decisions approved (24h)"),
    ("trading", "Net P&L today"),
    ("trading", "Signals by outcome"),
    ("trading", "Decisions by outcome"),
    ("trading", "Messages processed"),
    ("trading", "Daily P&L"),
    ("risk", "Trading state"),
    ("risk", "Kill switch"),
    ("risk", "Emergency stop"),
    ("risk", "Circuit breaker"),
    ("risk", "Daily loss used"),
    ("risk", "Loss vs limits"),
    ("risk", "Margin in use vs limit"),
    ("risk", "Open trades vs limit"),
]
# Panels fed by ExecutorMetrics: they must show data once the executor registers them.
EXECUTOR_PANELS = [
    ("trading", "Orders by status"),
    ("trading", "Fills"),
    ("trading", "Orders filled (24h)"),
]


def _resolve(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def _panels() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for each in (panel, *panel.get("panels", [])):
                if each["type"] != "row":
                    out[(path.stem, each["title"])] = [_resolve(t["expr"]) for t in each["targets"]]
    return out


PANELS = _panels()
TARGETS = [(key, ref, expr) for key, exprs in PANELS.items() for ref, expr in enumerate(exprs)]
ALERTS = {
    rule["alert"]: rule["expr"]
    for group in yaml.safe_load(RULES.read_text())["groups"]
    for rule in group["rules"]
}


async def query(client: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    """Run an instant query; fail on any error Prometheus reports."""
    response = await client.get("/api/v1/query", params={"query": expr})
    body = response.json()
    assert response.status_code == 200, (expr, body)
    assert body["status"] == "success", (expr, body)
    result = body["data"]["result"]
    assert isinstance(result, list)
    return result


async def scalar(client: httpx.AsyncClient, expr: str) -> float:
    """The value of a one-series query (0 when it has none)."""
    result = await query(client, expr)
    return float(result[0]["value"][1]) if result else 0.0


@pytest_asyncio.fixture(scope="module")
async def prom() -> AsyncIterator[httpx.AsyncClient]:
    url = os.environ.get("STRIKEFLOW_PROMETHEUS_URL")
    if not url:
        _unavailable("Prometheus (STRIKEFLOW_PROMETHEUS_URL not set; run `make up`)")
    async with httpx.AsyncClient(base_url=url or "", timeout=10) as client:
        try:
            ready = await client.get("/-/ready")
        except httpx.HTTPError:
            ready = None
        if ready is None or ready.status_code != 200:
            _unavailable(f"Prometheus at {url} (apt-get install prometheus, then `make up`)")

        async def targets() -> dict[str, str]:
            body = (await client.get("/api/v1/targets")).json()
            return {t["labels"]["service"]: t["health"] for t in body["data"]["activeTargets"]}

        await eventually(
            targets, lambda t: t == dict.fromkeys(SERVICES, "up"), 60, "every target up", 0.5
        )
        yield client


# Counters that one entry alert moves, and by how much at least.
MOVES = {
    'strikeflow_ingest_signals_total{outcome="accepted"}': 1,
    "strikeflow_ingest_webhook_latency_seconds_count": 1,
    'strikeflow_risk_decisions_total{outcome="approved"}': 1,
    'strikeflow_executor_messages_processed_total{type="SubmitOrder"}': 2,
    'strikeflow_ledger_messages_processed_total{type="FillReported"}': 2,
}


@pytest_asyncio.fixture(scope="module")
async def traffic(
    prom: httpx.AsyncClient, ingest_url: str, ledger_db: asyncpg.Pool
) -> dict[str, tuple[float, float]]:
    """Send one entry alert through the stack; return each counter's value before and after.

    It returns once every moved series has two samples in the last minute, so that rate() and
    increase() over a minute (what the panels use) have something to work with.
    """
    before = {selector: await scalar(prom, f"sum({selector})") for selector in MOVES}
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{ingest_url}/api/v2/webhook/tradingview", json=entry_alert("S4")
        )
    assert response.status_code == 202, response.text
    signal_id = response.json()["signal_id"]
    await eventually(
        lambda: fills_for_signal(ledger_db, signal_id), lambda n: n == 2, 15, "fills booked"
    )
    after: dict[str, tuple[float, float]] = {}
    for selector, by in MOVES.items():

        async def value(expr: str = f"sum({selector})") -> float:
            return await scalar(prom, expr)

        now = await eventually(
            value, lambda v, s=selector, b=by: v >= before[s] + b, 20, selector, 0.5
        )
        after[selector] = (before[selector], now)

        async def samples(expr: str = f"min(count_over_time({selector}[1m]))") -> float:
            return await scalar(prom, expr)

        await eventually(samples, lambda n: n >= 2, 20, f"two samples of {selector}", 0.5)
    return after


async def test_prometheus_when_stack_up_scrapes_every_service(prom: httpx.AsyncClient) -> None:
    result = await query(prom, 'up{job="strikeflow"}')

    assert {r["metric"]["service"]: r["value"][1] for r in result} == dict.fromkeys(SERVICES, "1")


async def test_an_alert_through_the_pipeline_moves_its_counters(
    traffic: dict[str, tuple[float, float]],
) -> None:
    for selector, by in MOVES.items():
        before, after = traffic[selector]
        assert after >= before + by, selector


@pytest.mark.parametrize(
    ("panel", "ref", "expr"), TARGETS, ids=[f"{k[0]}:{k[1]}:{r}" for k, r, _ in TARGETS]
)
async def test_every_dashboard_query_runs_without_error(
    prom: httpx.AsyncClient, traffic: object, panel: tuple[str, str], ref: int, expr: str
) -> None:
    await query(prom, expr)


@pytest.mark.parametrize("panel", MUST_SHOW_DATA, ids=lambda p: f"{p[0]}:{p[1]}")
async def test_panel_shows_data_after_an_alert(
    prom: httpx.AsyncClient, traffic: object, panel: tuple[str, str]
) -> None:
    results = [await query(prom, expr) for expr in PANELS[panel]]

    assert any(results), f"{panel} shows no data"


async def test_executor_order_and_fill_panels_show_the_fills(
    prom: httpx.AsyncClient, traffic: object
) -> None:
    names = {
        r["__name__"]
        for r in (
            await prom.get(
                "/api/v1/series",
                params={"match[]": '{__name__=~"strikeflow_executor_.+", service="executor"}'},
            )
        ).json()["data"]
    }
    if "strikeflow_executor_orders_total" not in names:
        pytest.skip("the executor does not register ExecutorMetrics yet (docs/metrics.md)")

    for panel in EXECUTOR_PANELS:
        results = [await query(prom, expr) for expr in PANELS[panel]]
        assert any(results), f"{panel} shows no data"
    filled = await scalar(prom, 'sum(strikeflow_executor_orders_total{status="FILLED"})')
    assert filled >= 2


@pytest.mark.parametrize("name", sorted(ALERTS))
async def test_every_alert_expression_runs_without_error(
    prom: httpx.AsyncClient, traffic: object, name: str
) -> None:
    await query(prom, ALERTS[name])


async def test_alert_rules_are_loaded_and_evaluate_healthy(prom: httpx.AsyncClient) -> None:
    async def rules() -> dict[str, str]:
        body = (await prom.get("/api/v1/rules", params={"type": "alert"})).json()
        assert body["status"] == "success"
        return {
            rule["name"]: rule["health"]
            for group in body["data"]["groups"]
            for rule in group["rules"]
        }

    loaded = await eventually(
        rules, lambda r: set(r) == set(ALERTS) and set(r.values()) == {"ok"}, 30, "rules", 0.5
    )

    assert loaded == dict.fromkeys(ALERTS, "ok")


async def test_healthy_stack_fires_no_outage_alert(
    prom: httpx.AsyncClient, traffic: object
) -> None:
    outages = 'ALERTS{alertname=~"ServiceDown|HeartbeatStale|ConsumerLagHigh|WebhookUnavailable"}'

    assert await query(prom, outages) == []


async def test_risk_exposure_and_pnl_gauges_follow_the_open_trade(
    prom: httpx.AsyncClient, traffic: object
) -> None:
    open_trades = await eventually(
        lambda: scalar(prom, "strikeflow_risk_open_trades"), lambda n: n >= 1, 20, "open trades"
    )
    margin = await scalar(prom, "strikeflow_risk_margin_in_use_rupees")
    charges = await eventually(
        lambda: scalar(prom, 'strikeflow_risk_daily_pnl_rupees{kind="charges"}'),
        lambda c: c > 0,
        20,
        "today's charges",
    )

    assert open_trades >= 1
    assert margin > 0
    assert charges > 0


OPERATOR = {
    "Authorization": f"Bearer {os.environ.get('OPERATOR_TOKEN', 'local-dev-operator-token')}",
    "X-Operator": "e2e-prometheus",
}


async def test_kill_switch_when_on_shows_in_metrics_and_fires_its_alert(
    prom: httpx.AsyncClient, traffic: object, ingest_url: str
) -> None:
    url = f"{ingest_url}/api/v2/safety/kill-switch"
    firing = 'ALERTS{alertname="KillSwitchOn", alertstate="firing"}'
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            on = await client.post(url, json={"reason": "e2e alert check"}, headers=OPERATOR)
            assert on.status_code == 200, on.text

            engaged = await eventually(
                lambda: scalar(prom, "strikeflow_risk_kill_switch_engaged"),
                lambda v: v == 1,
                20,
                "kill switch gauge",
                0.5,
            )
            alerts = await eventually(
                lambda: query(prom, firing), lambda r: len(r) == 1, 20, "KillSwitchOn", 0.5
            )
            halted = await scalar(prom, 'strikeflow_risk_trading_state{state="HALTED"}')
        finally:
            off = {"engaged": False, "reason": "e2e alert check done"}
            await client.post(url, json=off, headers=OPERATOR)

        assert engaged == 1
        assert alerts[0]["metric"]["severity"] == "warning"
        assert halted == 1
        await eventually(lambda: query(prom, firing), lambda r: r == [], 20, "alert resolved", 0.5)
