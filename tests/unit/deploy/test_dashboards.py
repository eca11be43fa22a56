"""Grafana dashboards, checked without a Grafana server: structure, datasource, metric names.

Their queries run against a real Prometheus in tests/e2e/test_prometheus.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_metrics import known_metric_names

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
METRIC = re.compile(r"\bstrikeflow_[a-z0-9_]+")


def metric_names_in(expr: str) -> set[str]:
    """The strikeflow metric names a PromQL expression reads."""
    return set(METRIC.findall(expr))


def load(path: Path) -> dict[str, Any]:
    """Read one dashboard."""
    board = json.loads(path.read_text())
    assert isinstance(board, dict)
    return board


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside rows included."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def query_panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Panels that query (rows only group)."""
    return (p for p in panels(board) if p["type"] != "row")


@pytest.fixture(scope="module")
def datasource_uid() -> str:
    config = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (source,) = config["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    return str(source["uid"])


def test_the_three_dashboards_exist_with_unique_uids() -> None:
    assert {p.stem for p in DASHBOARDS} == {"trading", "risk", "system"}
    uids = [load(p)["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids)
    titles = [load(p)["title"] for p in DASHBOARDS]
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_panel_ids_are_unique(path: Path) -> None:
    ids = [p["id"] for p in panels(load(path))]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_and_target_uses_the_provisioned_datasource(
    path: Path, datasource_uid: str
) -> None:
    for panel in query_panels(load(path)):
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource_uid}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource_uid, panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_target_has_an_expression_and_a_unique_ref(path: Path) -> None:
    for panel in query_panels(load(path)):
        targets = panel["targets"]
        assert targets, f"{panel['title']} has no query"
        assert all(str(t.get("expr", "")).strip() for t in targets), panel["title"]
        refs = [t["refId"] for t in targets]
        assert len(refs) == len(set(refs)), panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_metric_a_panel_reads_is_defined_in_the_code(path: Path) -> None:
    known = known_metric_names()
    for panel in query_panels(load(path)):
        for target in panel["targets"]:
            names = metric_names_in(target["expr"])
            unknown = names - known
            assert unknown == set(), (panel["title"], unknown)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_panels_fit_the_grid_and_say_what_they_show(path: Path) -> None:
    for panel in panels(load(path)):
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["w"] > 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        assert panel["title"].strip()
        if panel["type"] != "row":
            assert panel.get("description", "").strip(), f"{panel['title']} has no description"


def test_metric_names_in_reads_every_name() -> None:
    expr = "time() - (strikeflow_a_b_seconds or strikeflow_c_total{x='1'}) > up"
    assert metric_names_in(expr) == {"strikeflow_a_b_seconds", "strikeflow_c_total"}


def test_dashboard_provider_reads_the_folder_compose_mounts() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/strikeflow.yml").read_text())
    (entry,) = provider["providers"]
    assert entry["type"] == "file"
    compose = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    assert f"./grafana/dashboards:{entry['options']['path']}:ro" in grafana["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert grafana["depends_on"]["prometheus"] == {"condition": "service_healthy"}
    assert "/api/health" in " ".join(grafana["healthcheck"]["test"])
