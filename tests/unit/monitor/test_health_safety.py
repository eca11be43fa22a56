"""Safety components and heartbeat facts of the deep health check (services/monitor/health.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

from libs.common.control import ControlFacts
from services.monitor.health import (
    ComponentHealth,
    circuit_health,
    heartbeat_facts,
    kill_switch_health,
)
from tests.factories import T0, make_heartbeat


def test_kill_switch_component_names_what_is_engaged() -> None:
    off = ControlFacts()

    assert kill_switch_health(off) == ComponentHealth("kill_switch", "ok", "off")
    assert kill_switch_health(replace(off, kill_switch=True)).detail == "kill switch engaged"
    both = replace(off, kill_switch=True, emergency_stop=True)
    assert kill_switch_health(both) == ComponentHealth(
        "kill_switch", "degraded", "emergency stop engaged"
    )


def test_circuit_component_gives_the_state_and_reason() -> None:
    facts = replace(
        ControlFacts(), circuit="open", circuit_values=MappingProxyType({"reason": "5 rejects"})
    )

    assert circuit_health(ControlFacts()) == ComponentHealth("circuit_breaker", "ok", "closed")
    assert circuit_health(facts) == ComponentHealth(
        "circuit_breaker", "degraded", "open (5 rejects)"
    )


def test_heartbeat_facts_give_age_lag_and_instance() -> None:
    beat = make_heartbeat(consumer_lag=7)

    facts = heartbeat_facts(beat, T0 + timedelta(seconds=2.26))

    assert facts["heartbeat_age_s"] == 2.3
    assert facts["consumer_lag"] == 7
    assert facts["instance"] == "risk-1"
    assert heartbeat_facts(None, T0) == {
        "heartbeat_age_s": None,
        "consumer_lag": None,
        "instance": None,
    }
