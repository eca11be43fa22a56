"""The Docker Compose stack: health checks, start order, pinned images, loopback-only ports,
and environment variables that the services really read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.gen_env_example import SERVICE_SETTINGS, all_env_names
from libs.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
APP_SERVICES = ("ingest", "risk", "executor", "ledger", "monitor")
ONE_SHOT = "init"
LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return compose["services"]


@pytest.fixture(scope="module")
def prometheus() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())


def _http_port(name: str) -> int:
    return int(SERVICE_SETTINGS[name].model_fields["http_port"].default)


def _image_tag(image: str) -> str | None:
    name = image.split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        return None
    return name.rsplit(":", 1)[1]


def _published(spec: str | int | dict[str, Any]) -> tuple[str | None, str]:
    """(host address or None, rest) of one `ports` entry, short or long syntax."""
    if isinstance(spec, dict):
        return spec.get("host_ip"), str(spec.get("published", ""))
    parts = str(spec).split(":")
    if len(parts) == 3:
        return parts[0], ":".join(parts[1:])
    return None, str(spec)


def test_compose_app_services_match_settings_classes(services):
    assert set(APP_SERVICES) == set(SERVICE_SETTINGS)
    assert set(APP_SERVICES) <= set(services)


def test_every_service_except_init_has_healthcheck(services):
    missing = [
        name for name, svc in services.items() if name != ONE_SHOT and not svc.get("healthcheck")
    ]
    assert missing == []
    assert "healthcheck" not in services[ONE_SHOT]


def test_kafka_and_postgres_healthchecks_probe_the_server(services):
    kafka = " ".join(services["kafka"]["healthcheck"]["test"])
    postgres = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh" in kafka
    assert "pg_isready" in postgres


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_depends_on_init_and_healthy_postgres(services, name):
    depends = services[name]["depends_on"]
    assert depends[ONE_SHOT] == {"condition": "service_completed_successfully"}
    assert depends["postgres"] == {"condition": "service_healthy"}


def test_init_when_started_waits_for_healthy_kafka_and_postgres(services):
    init = services[ONE_SHOT]
    assert init["depends_on"]["kafka"] == {"condition": "service_healthy"}
    assert init["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert init["command"] == ["python", "-m", "deploy.init_stack"]
    assert (DEPLOY / "init_stack.py").is_file()
    assert init.get("restart", "no") == "no"


def test_images_are_pinned_never_latest(services):
    for name, svc in services.items():
        if "image" not in svc:
            assert "build" in svc, f"{name} has neither image nor build"
            continue
        tag = _image_tag(svc["image"])
        assert tag, f"{name}: image {svc['image']!r} has no tag"
        assert tag != "latest", f"{name}: image {svc['image']!r} is not pinned"


def test_app_image_builds_from_the_shared_dockerfile(services):
    for name in (*APP_SERVICES, ONE_SHOT):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (
            DEPLOY / "Dockerfile"
        )
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_command_names_existing_module(services, name):
    command = services[name]["command"]
    assert command == ["python", "-m", f"services.{name}.app"]
    assert (ROOT / "services" / name / "app.py").is_file()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_restarts_unless_stopped(services, name):
    assert services[name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_healthcheck_probes_healthz_on_its_http_port(services, name):
    probe = " ".join(services[name]["healthcheck"]["test"])
    assert "urllib" in probe
    assert f":{_http_port(name)}/healthz" in probe
    assert services[name]["environment"][f"{name.upper()}_HTTP_HOST"] == "0.0.0.0"  # noqa: S104


def test_published_ports_bind_loopback_only(services):
    for name, svc in services.items():
        for spec in svc.get("ports", []):
            host, _ = _published(spec)
            assert host == LOOPBACK, f"{name} publishes {spec!r} beyond {LOOPBACK}"


def test_app_services_when_published_are_only_ingest_and_monitor(services):
    published = {name for name in APP_SERVICES if services[name].get("ports")}
    assert published == {"ingest", "monitor"}
    for name in published:
        port = _http_port(name)
        assert f"{LOOPBACK}:{port}:{port}" in services[name]["ports"]


def test_services_reach_kafka_on_its_internal_listener(services):
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert "PLAINTEXT://kafka:19092" in advertised
    for name in (*APP_SERVICES, ONE_SHOT):
        assert services[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"


def test_webhook_secret_when_unset_compose_refuses_to_start(services):
    assert services["ingest"]["environment"]["WEBHOOK_SECRET"].startswith("${WEBHOOK_SECRET:?")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_names_are_real_settings(services, name):
    unknown = set(services[name]["environment"]) - all_env_names(SERVICE_SETTINGS[name])
    assert unknown == set()


def test_init_environment_names_are_real_settings(services):
    unknown = set(services[ONE_SHOT]["environment"]) - all_env_names(ServiceSettings)
    assert unknown == set()


def test_prometheus_waits_for_healthy_monitor_and_mounts_config(services):
    prom = services["prometheus"]
    assert prom["depends_on"]["monitor"] == {"condition": "service_healthy"}
    assert "./prometheus:/etc/prometheus:ro" in prom["volumes"]
    assert "/-/ready" in " ".join(prom["healthcheck"]["test"])


def test_prometheus_config_scrapes_all_five_services(prometheus):
    targets = set()
    for job in prometheus["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        for group in job.get("static_configs", []):
            targets.update(group["targets"])
    assert targets == {f"{name}:{_http_port(name)}" for name in APP_SERVICES}
