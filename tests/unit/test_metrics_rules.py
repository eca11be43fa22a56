"""The shipped Prometheus files: promtool accepts them and the alert rules behave as written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.local.stack import SERVICES, Layout, write_prometheus_config
from tests.unit.test_metrics import known_metric_names

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "strikeflow.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        action = pytest.fail if os.environ.get("REQUIRE_SERVICES") == "1" else pytest.skip
        action("promtool unavailable (apt-get install prometheus)")
    assert found is not None
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=False, capture_output=True, text=True, cwd=ROOT)


def _local_layout(tmp_path: Path) -> Layout:
    ports = {name: 30000 + i for i, name in enumerate(SERVICES)}
    return Layout(tmp_path, 1, 2, 3, ports, prometheus_port=4)


def test_compose_prometheus_config_passes_promtool(promtool: str) -> None:
    result = _run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr


def test_local_stack_prometheus_config_passes_promtool(promtool: str, tmp_path: Path) -> None:
    config = write_prometheus_config(_local_layout(tmp_path))
    result = _run(promtool, "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr


def test_local_stack_prometheus_config_scrapes_every_service_port(tmp_path: Path) -> None:
    layout = _local_layout(tmp_path)
    config = json.loads(write_prometheus_config(layout).read_text())
    groups = config["scrape_configs"][0]["static_configs"]
    seen = {g["labels"]["service"]: g["targets"] for g in groups}
    assert seen == {name: [f"127.0.0.1:{layout.ports[name]}"] for name in SERVICES}


def test_alert_rules_pass_promtool(promtool: str) -> None:
    result = _run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_as_their_unit_tests_expect(promtool: str) -> None:
    cases = PROMETHEUS / "tests" / "strikeflow_rules_test.yml"
    result = _run(promtool, "test", "rules", str(cases))
    assert result.returncode == 0, result.stdout + result.stderr


def _rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_alert_rules_name_only_metrics_the_code_defines() -> None:
    from tests.unit.deploy.test_dashboards import metric_names_in

    known = known_metric_names()
    for rule in _rules():
        unknown = metric_names_in(str(rule["expr"])) - known
        assert unknown == set(), (rule["alert"], unknown)


def test_every_alert_has_severity_summary_and_a_runbook_section() -> None:
    docs = (ROOT / "docs" / "metrics.md").read_text().lower()
    for rule in _rules():
        labels = rule["labels"]
        annotations = rule["annotations"]
        assert isinstance(labels, dict)
        assert labels["severity"] in {"warning", "critical"}
        assert isinstance(annotations, dict)
        assert annotations["summary"]
        anchor = str(rule["alert"]).lower()
        assert annotations["runbook"] == f"docs/metrics.md#{anchor}"
        assert f"### {anchor}" in docs, f"docs/metrics.md has no section for {rule['alert']}"
