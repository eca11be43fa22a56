"""Backtest runs through the monitor API, stored in PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.backtest.runner import BacktestRequest, run_request
from libs.backtest.sources import CsvBarSource
from services.monitor.app import create_app
from services.monitor.settings import MonitorSettings
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.data]
REQUEST = {"from_date": "2024-01-01", "to_date": "2024-06-30", "signals_to_test": ["S3", "S7"]}


@pytest.fixture
def client(migrated_database: str, kafka_bootstrap: str, data_dir: Path) -> Any:
    settings = MonitorSettings.model_validate(
        {
            "database_url": migrated_database,
            "kafka_bootstrap_servers": kafka_bootstrap,
            "backtest_data_dir": str(data_dir),
        }
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


async def _finished(client: TestClient, run_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        await asyncio.sleep(0)
        return dict(client.get(f"/api/v2/backtest/{run_id}").json())

    return await eventually(probe, lambda b: b["status"] != "running", 120, "run", 0.2)


async def test_backtest_api_stores_and_returns_the_same_run_as_the_engine(
    client: TestClient, data_dir: Path
) -> None:
    first = client.post("/api/v2/backtest", json=REQUEST)
    second = client.post("/api/v2/backtest", json={**REQUEST, "signals_to_test": ["S4"]})
    assert first.status_code == 202
    assert second.status_code == 202

    one = await _finished(client, first.json()["run_id"])
    two = await _finished(client, second.json()["run_id"])

    expected = run_request(BacktestRequest.model_validate(REQUEST), CsvBarSource(data_dir))
    assert one["status"] == "done", one.get("error")
    assert one["summary"] == expected["summary"]
    assert one["per_signal"] == expected["per_signal"]
    assert [(t["signal"], t["entry_time"]) for t in one["trades"]] == [
        (t["signal"], t["entry_time"]) for t in expected["trades"]
    ]
    assert {t["signal"] for t in two["trades"]} <= {"S4"}
    again = client.get(f"/api/v2/backtest/{first.json()['run_id']}").json()
    assert again["trades"] == one["trades"]


def test_backtest_api_when_request_invalid_answers_422_naming_the_field(
    client: TestClient,
) -> None:
    response = client.post(
        "/api/v2/backtest", json={"from_date": "2024-06-30", "to_date": "2024-01-01"}
    )

    assert response.status_code == 422
    assert "from_date" in response.json()["error"] or "to_date" in response.json()["error"]


def test_backtest_api_when_run_unknown_answers_404(client: TestClient) -> None:
    response = client.get("/api/v2/backtest/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404
