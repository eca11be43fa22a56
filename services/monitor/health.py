"""Health aggregation (pure): components and heartbeats to ok / degraded / down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from libs.common.control import ControlFacts
from libs.common.messages import BrokerStatusChanged, Heartbeat

Status = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class ComponentHealth:
    """One part's status with details."""

    name: str
    status: Status
    detail: str


def service_health(
    name: str,
    beat: Heartbeat | None,
    now: datetime,
    stale_after_s: float,
    lag_degraded: int,
) -> ComponentHealth:
    """Judge a service from its last heartbeat."""
    if beat is None:
        return ComponentHealth(name, "down", "no heartbeat seen")
    age = (now - beat.ts_event).total_seconds()
    if age > stale_after_s:
        return ComponentHealth(name, "down", f"last heartbeat {age:.1f}s ago")
    if beat.status != "ok":
        return ComponentHealth(name, beat.status, f"service reports {beat.status}")
    if beat.consumer_lag > lag_degraded:
        return ComponentHealth(name, "degraded", f"consumer lag {beat.consumer_lag}")
    return ComponentHealth(
        name, "ok", f"heartbeat {age:.1f}s ago, consumer lag {beat.consumer_lag}"
    )


def broker_health(status: BrokerStatusChanged | None) -> ComponentHealth:
    """Judge the broker session from the executor's last report."""
    if status is None:
        return ComponentHealth("broker", "degraded", "no broker status reported yet")
    if not status.session_valid:
        return ComponentHealth("broker", "down", f"{status.mode}: {status.detail}")
    return ComponentHealth("broker", "ok", f"{status.mode}: {status.detail}")


def overall(components: list[ComponentHealth]) -> Status:
    """Down if Kafka or PostgreSQL is down, degraded if anything else is not ok."""
    critical = {"kafka", "postgres", "broker"}
    if any(c.status == "down" and c.name in critical for c in components):
        return "down"
    if all(c.status == "ok" for c in components):
        return "ok"
    return "degraded"


# Safety facts are reported beside the components but never change the overall status: a halt
# the operator asked for, or a breaker the gate opened, is the desk working as designed.
SAFETY = ("kill_switch", "circuit_breaker")


def kill_switch_health(facts: ControlFacts) -> ComponentHealth:
    """The kill switch and the emergency stop from the control facts."""
    if facts.emergency_stop:
        return ComponentHealth("kill_switch", "degraded", "emergency stop engaged")
    if facts.kill_switch:
        return ComponentHealth("kill_switch", "degraded", "kill switch engaged")
    return ComponentHealth("kill_switch", "ok", "off")


def circuit_health(facts: ControlFacts) -> ComponentHealth:
    """The risk gate's circuit breaker from the control facts."""
    if facts.circuit == "closed":
        return ComponentHealth("circuit_breaker", "ok", "closed")
    why = facts.circuit_values.get("reason")
    detail = f"{facts.circuit} ({why})" if why else facts.circuit
    return ComponentHealth("circuit_breaker", "degraded", detail)


def heartbeat_facts(beat: Heartbeat | None, now: datetime) -> dict[str, object]:
    """Age, lag and identity of a service's last heartbeat, for the health answer."""
    if beat is None:
        return {"heartbeat_age_s": None, "consumer_lag": None, "instance": None}
    return {
        "heartbeat_age_s": round((now - beat.ts_event).total_seconds(), 1),
        "consumer_lag": beat.consumer_lag,
        "instance": beat.instance,
        "reported_status": beat.status,
        "started_at": beat.started_at.isoformat(),
    }
