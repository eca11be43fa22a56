"""Health aggregation (services/monitor/health.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.monitor.health import ComponentHealth, Status, overall, service_health
from tests.factories import T0, make_heartbeat

STALE_AFTER = 30.0
LAG_DEGRADED = 1000


def judge(seconds_since_beat: float, **beat: object) -> ComponentHealth:
    heartbeat = make_heartbeat(**beat)
    now = heartbeat.ts_event + timedelta(seconds=seconds_since_beat)
    return service_health("risk", heartbeat, now, STALE_AFTER, LAG_DEGRADED)


def test_service_health_when_fresh_ok_beat_without_lag_is_ok() -> None:
    health = judge(1.5, consumer_lag=3)

    assert health == ComponentHealth("risk", "ok", "heartbeat 1.5s ago, consumer lag 3")


def test_service_health_when_no_heartbeat_seen_is_down() -> None:
    health = service_health("ledger", None, T0, STALE_AFTER, LAG_DEGRADED)

    assert health == ComponentHealth("ledger", "down", "no heartbeat seen")


def test_service_health_when_heartbeat_older_than_limit_is_down() -> None:
    health = judge(31.0)

    assert health == ComponentHealth("risk", "down", "last heartbeat 31.0s ago")


def test_service_health_when_heartbeat_exactly_at_limit_is_not_stale() -> None:
    assert judge(STALE_AFTER).status == "ok"


def test_service_health_when_stale_it_outranks_self_report_and_lag() -> None:
    health = judge(120.0, status="degraded", consumer_lag=LAG_DEGRADED + 1)

    assert health.status == "down"
    assert health.detail == "last heartbeat 120.0s ago"


@pytest.mark.parametrize("reported", ["degraded", "down"])
def test_service_health_when_service_reports_not_ok_takes_its_word(reported: Status) -> None:
    health = judge(1.0, status=reported)

    assert health == ComponentHealth("risk", reported, f"service reports {reported}")


def test_service_health_when_self_reported_degraded_outranks_lag() -> None:
    health = judge(1.0, status="degraded", consumer_lag=LAG_DEGRADED + 1)

    assert health.detail == "service reports degraded"


def test_service_health_when_lag_above_threshold_is_degraded() -> None:
    health = judge(1.0, consumer_lag=LAG_DEGRADED + 1)

    assert health == ComponentHealth("risk", "degraded", "consumer lag 1001")


def test_service_health_when_lag_at_threshold_is_ok() -> None:
    assert judge(1.0, consumer_lag=LAG_DEGRADED).status == "ok"


# --- overall --------------------------------------------------------------------------------


def components(**statuses: Status) -> list[ComponentHealth]:
    return [ComponentHealth(name, status, "") for name, status in statuses.items()]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"kafka": "ok", "postgres": "ok", "risk": "ok", "ledger": "ok"}, "ok"),
        ({"kafka": "down", "postgres": "ok", "risk": "ok"}, "down"),
        ({"kafka": "ok", "postgres": "down", "risk": "ok"}, "down"),
        ({"kafka": "degraded", "postgres": "ok", "risk": "ok"}, "degraded"),
        ({"kafka": "ok", "postgres": "degraded", "risk": "ok"}, "degraded"),
        ({"kafka": "ok", "postgres": "ok", "risk": "down"}, "degraded"),
        ({"kafka": "ok", "postgres": "ok", "executor": "degraded"}, "degraded"),
        ({"kafka": "down", "postgres": "ok", "risk": "degraded"}, "down"),
    ],
)
def test_overall_when_components_given_applies_critical_and_degraded_rules(
    statuses: dict[str, Status], expected: Status
) -> None:
    assert overall(components(**statuses)) == expected


def test_overall_when_every_service_down_but_kafka_and_postgres_ok_is_degraded_not_down() -> None:
    statuses = components(kafka="ok", postgres="ok", ingest="down", risk="down", ledger="down")

    assert overall(statuses) == "degraded"


def test_broker_health_from_the_executor_status() -> None:
    from datetime import UTC, datetime

    from libs.common.messages import BrokerStatusChanged
    from services.monitor.health import broker_health

    at = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    good = BrokerStatusChanged(ts_event=at, mode="paper", session_valid=True, detail="ok")
    bad = BrokerStatusChanged(ts_event=at, mode="live", session_valid=False, detail="expired")

    assert broker_health(None).status == "degraded"
    assert broker_health(good).status == "ok"
    assert broker_health(bad).status == "down"
    assert overall([broker_health(bad)]) == "down"
