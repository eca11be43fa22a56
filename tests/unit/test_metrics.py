"""Metric definitions: names, labels, and what each recording call shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from libs.common.clock import IST
from libs.common.control import ControlFacts
from libs.common.messages import (
    DecisionOutcome,
    Leg,
    PnlSnapshot,
    Purpose,
    SignalAction,
    TradingState,
)
from libs.common.metrics import HeartbeatMetrics, PipelineMetrics
from services.executor.broker import OrderStatus
from services.executor.metrics import ExecutorMetrics
from services.ingest.metrics import WEBHOOK_OUTCOMES, IngestMetrics
from services.ledger.metrics import LedgerMetrics
from services.risk.breaker import BreakerState
from services.risk.checks import CHECKS, GateView
from services.risk.metrics import OTHER_REASON, RiskMetrics, all_reason_codes, reason_code
from services.risk.settings import RiskSettings

IST_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=IST)
FORBIDDEN_LABELS = {"signal_id", "trade_id", "client_order_id", "order_id", "message_id", "id"}


def _risk(registry: CollectorRegistry, facts: ControlFacts | None = None) -> RiskMetrics:
    holder = {
        "facts": facts or ControlFacts(),
        "breaker": BreakerState.CLOSED,
        "today": date(2026, 11, 25),
    }
    metrics = RiskMetrics(
        registry,
        lambda: holder["facts"],  # type: ignore[arg-type,return-value]
        lambda: holder["breaker"],  # type: ignore[arg-type,return-value]
        RiskSettings.model_validate({}),
        today=lambda: holder["today"],  # type: ignore[arg-type,return-value]
    )
    metrics.holder = holder  # type: ignore[attr-defined]
    return metrics


def _every_registry() -> dict[str, CollectorRegistry]:
    out: dict[str, CollectorRegistry] = {}
    ingest = CollectorRegistry()
    IngestMetrics(ingest)
    out["ingest"] = ingest
    risk = CollectorRegistry()
    _risk(risk)
    PipelineMetrics(risk, "risk", ["t"])
    out["risk"] = risk
    executor = CollectorRegistry()
    ExecutorMetrics(executor)
    PipelineMetrics(executor, "executor")
    out["executor"] = executor
    ledger = CollectorRegistry()
    LedgerMetrics(ledger)
    PipelineMetrics(ledger, "ledger")
    out["ledger"] = ledger
    return out


SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("_count", "_sum"),
    "gauge": ("",),
    "info": ("_info",),
}


def known_metric_names() -> set[str]:
    """Every series name the services can export (dashboards and alerts may use only these)."""
    names: set[str] = set()
    for registry in _every_registry().values():
        for family in registry.collect():
            names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


@pytest.mark.parametrize("service", ["ingest", "risk", "executor", "ledger"])
def test_metric_names_follow_the_service_prefix_and_unit_rules(service: str) -> None:
    registry = _every_registry()[service]
    families = list(registry.collect())
    assert families
    for family in families:
        assert family.name.startswith(f"strikeflow_{service}_"), family.name
        for sample in family.samples:
            if family.type == "counter" and sample.name.endswith("_created"):
                continue
            assert not FORBIDDEN_LABELS & set(sample.labels), (sample.name, sample.labels)
        if family.type == "counter":
            assert any(s.name.endswith("_total") for s in family.samples) or not family.samples


def test_pipeline_metrics_when_built_show_a_zero_dlq_series_per_topic() -> None:
    registry = CollectorRegistry()
    PipelineMetrics(registry, "ledger", ["strikeflow.fills.v1", "strikeflow.signals.v1"])
    for topic in ("strikeflow.fills.v1", "strikeflow.signals.v1"):
        value = registry.get_sample_value("strikeflow_ledger_dlq_messages_total", {"topic": topic})
        assert value == 0.0


def test_pipeline_metrics_observe_lag_sets_lag_and_commit_time_once_committed() -> None:
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry, "risk")
    metrics.observe_lag(7, 0.0)
    assert registry.get_sample_value("strikeflow_risk_consumer_lag_messages") == 7
    assert registry.get_sample_value("strikeflow_risk_last_commit_timestamp_seconds") == 0
    metrics.observe_lag(0, 1_700_000_000.0)
    assert registry.get_sample_value("strikeflow_risk_last_commit_timestamp_seconds") == (
        1_700_000_000.0
    )


def test_heartbeat_metrics_beat_records_the_time() -> None:
    registry = CollectorRegistry()
    HeartbeatMetrics(registry, "ingest").beat(1_700_000_123.0)
    assert registry.get_sample_value("strikeflow_ingest_heartbeat_timestamp_seconds") == (
        1_700_000_123.0
    )


@pytest.mark.parametrize("outcome", sorted(WEBHOOK_OUTCOMES))
def test_ingest_webhook_counts_request_and_signal_class(outcome: str) -> None:
    registry = CollectorRegistry()
    IngestMetrics(registry).webhook(outcome)
    signal_outcome, reason = WEBHOOK_OUTCOMES[outcome]
    assert (
        registry.get_sample_value("strikeflow_ingest_webhook_requests_total", {"outcome": outcome})
        == 1
    )
    assert (
        registry.get_sample_value(
            "strikeflow_ingest_signals_total", {"outcome": signal_outcome, "reason": reason}
        )
        == 1
    )


def test_ingest_webhook_outcomes_are_few_classes() -> None:
    assert {o for o, _ in WEBHOOK_OUTCOMES.values()} == {
        "accepted",
        "duplicate",
        "rejected",
        "unavailable",
    }


FAILING_VIEWS = {
    "check_trading_state": {"state": TradingState.HALTED},
    "check_market_hours": {"now_ist": IST_NOON.replace(hour=20)},
    "check_expiry_day": {"expiry_day": True, "now_ist": IST_NOON.replace(hour=14, minute=30)},
    "check_max_lots": {"lots": 50},
    "check_max_open_trades": {"open_trades": 8},
    "check_max_margin": {"margin_in_use": Decimal(10**9)},
}


def _view(**overrides: object) -> GateView:
    base = GateView(
        state=TradingState.ACTIVE,
        state_reasons=(),
        action=SignalAction.ENTRY,
        now_ist=IST_NOON,
        trading_day=True,
        expiry_day=False,
        enforce_market_hours=True,
        entry_cutoff=time(15, 0),
        expiry_day_entry_cutoff=time(14, 0),
        lots=2,
        max_lots_per_trade=10,
        open_trades=1,
        max_open_trades=8,
        margin_in_use=Decimal(0),
        margin_per_lot=Decimal(60000),
        max_margin=Decimal(600000),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_reason_code_names_every_check_denial(check: object) -> None:
    reason = check(_view(**FAILING_VIEWS[check.__name__]))  # type: ignore[operator,attr-defined]
    assert reason is not None
    assert reason_code(reason) != OTHER_REASON, reason


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("trading is REDUCING, exits only (kill switch)", "trading_reducing"),
        ("2026-11-28 is not an NSE trading day", "not_trading_day"),
        ("after the entry cut-off 15:00 IST", "entry_cutoff"),
        ("circuit breaker half-open: a trial entry is already in flight", "circuit_breaker"),
        ("cannot construct the trade: no expiry", "construction"),
        ("cannot size the order: lot size unknown", "construction"),
        ("approval window expired", "approval_expired"),
        ("rejected by alice", "operator_rejected"),
        ("automation is off: waiting for an operator until 2026-11-25T10:00", "awaiting_approval"),
        ("S1 already entered in 2026-W48", "already_entered"),
        ("already waiting for approval", "already_pending"),
        ("exit already requested for this trade", "exit_already_requested"),
        ("order already placed", "already_placed"),
        ("no open S3 trade in 2026-W48 to exit", "no_open_trade"),
        ("something new", OTHER_REASON),
    ],
)
def test_reason_code_of_service_reasons(reason: str, code: str) -> None:
    assert reason_code(reason) == code
    assert code in all_reason_codes()


def test_risk_decision_counts_outcome_with_first_reason_and_every_reason() -> None:
    registry = CollectorRegistry()
    metrics = _risk(registry)
    metrics.decision(
        DecisionOutcome.DENIED,
        ["trading is HALTED (kill switch)", "3 lots exceed the limit of 2 per trade"],
    )
    metrics.decision(DecisionOutcome.APPROVED, [])
    get = registry.get_sample_value
    assert (
        get("strikeflow_risk_decisions_total", {"outcome": "denied", "reason": "trading_halted"})
        == 1
    )
    assert get("strikeflow_risk_decisions_total", {"outcome": "approved", "reason": "none"}) == 1
    assert get("strikeflow_risk_decision_reasons_total", {"reason": "max_lots"}) == 1
    assert get("strikeflow_risk_decision_reasons_total", {"reason": "trading_halted"}) == 1


def test_risk_state_gauges_follow_the_control_facts_at_scrape_time() -> None:
    registry = CollectorRegistry()
    metrics = _risk(registry)
    get = registry.get_sample_value
    assert get("strikeflow_risk_trading_state", {"state": "ACTIVE"}) == 1
    assert get("strikeflow_risk_kill_switch_engaged") == 0
    assert get("strikeflow_risk_circuit_breaker_state", {"state": "closed"}) == 1

    metrics.holder["facts"] = ControlFacts(kill_switch=True, limits={"max_margin": "123"})  # type: ignore[attr-defined]
    metrics.holder["breaker"] = BreakerState.HALF_OPEN  # type: ignore[attr-defined]

    assert get("strikeflow_risk_trading_state", {"state": "HALTED"}) == 1
    assert get("strikeflow_risk_trading_state", {"state": "ACTIVE"}) == 0
    assert get("strikeflow_risk_kill_switch_engaged") == 1
    assert get("strikeflow_risk_emergency_stop_engaged") == 0
    assert get("strikeflow_risk_circuit_breaker_state", {"state": "half_open"}) == 1
    assert get("strikeflow_risk_circuit_breaker_state", {"state": "closed"}) == 0
    assert get("strikeflow_risk_max_margin_rupees") == 123


def test_risk_loss_limit_gauges_come_from_settings() -> None:
    registry = CollectorRegistry()
    _risk(registry)
    settings = RiskSettings.model_validate({})
    get = registry.get_sample_value
    assert get("strikeflow_risk_daily_loss_limit_rupees") == float(settings.max_daily_loss)
    assert get("strikeflow_risk_daily_loss_warn_rupees") == float(
        settings.max_daily_loss * settings.loss_warn_fraction
    )
    assert get("strikeflow_risk_daily_loss_panic_rupees") == float(settings.panic_loss)


def test_risk_pnl_when_no_snapshot_today_shows_no_series() -> None:
    registry = CollectorRegistry()
    metrics = _risk(registry)
    assert registry.get_sample_value("strikeflow_risk_daily_pnl_rupees", {"kind": "net"}) is None

    metrics.observe_pnl(_snapshot(date(2026, 11, 24)))

    assert registry.get_sample_value("strikeflow_risk_daily_pnl_rupees", {"kind": "net"}) is None
    assert registry.get_sample_value("strikeflow_risk_open_positions") is None


def _snapshot(day: date) -> PnlSnapshot:
    return PnlSnapshot(
        ts_event=IST_NOON,
        trading_day=day,
        realized=Decimal("-1000.50"),
        unrealized=Decimal(250),
        charges=Decimal(40),
        net=Decimal("-790.50"),
        open_positions=2,
        marks_missing=0,
    )


def test_risk_observe_pnl_and_exposure() -> None:
    registry = CollectorRegistry()
    metrics = _risk(registry)
    metrics.observe_pnl(_snapshot(date(2026, 11, 25)))
    metrics.observe_exposure(open_trades=3, open_lots=4)
    get = registry.get_sample_value
    assert get("strikeflow_risk_daily_pnl_rupees", {"kind": "net"}) == -790.5
    assert get("strikeflow_risk_daily_pnl_rupees", {"kind": "realised"}) == -1000.5
    assert get("strikeflow_risk_daily_pnl_rupees", {"kind": "unrealised"}) == 250
    assert get("strikeflow_risk_open_positions") == 2
    assert get("strikeflow_risk_open_trades") == 3
    assert get("strikeflow_risk_margin_in_use_rupees") == float(
        RiskSettings.model_validate({}).margin_per_lot * 4
    )


def test_executor_metrics_record_orders_fills_errors_session_and_budget() -> None:
    registry = CollectorRegistry()
    metrics = ExecutorMetrics(registry)
    get = registry.get_sample_value
    assert get("strikeflow_executor_broker_session_valid", {"mode": "live"}) is None

    metrics.order_recorded(OrderStatus.FILLED, Purpose.ENTRY)
    metrics.fill(Purpose.ENTRY, Leg.MAIN, 75)
    metrics.broker_error("timeout")
    metrics.broker_error("something odd")
    metrics.session("live", valid=True, seconds_to_expiry=-5)
    metrics.api_budget("minute", used=12, limit=90)

    assert get("strikeflow_executor_orders_total", {"status": "FILLED", "purpose": "entry"}) == 1
    assert get("strikeflow_executor_fills_total", {"purpose": "entry", "leg": "main"}) == 1
    assert get("strikeflow_executor_filled_quantity_contracts_total", {"purpose": "entry"}) == 75
    assert get("strikeflow_executor_broker_errors_total", {"kind": "timeout"}) == 1
    assert get("strikeflow_executor_broker_errors_total", {"kind": "other"}) == 1
    assert get("strikeflow_executor_broker_session_valid", {"mode": "live"}) == 1
    assert get("strikeflow_executor_broker_session_expiry_seconds", {"mode": "live"}) == 0
    assert get("strikeflow_executor_broker_api_calls_used", {"window": "minute"}) == 12
    assert get("strikeflow_executor_broker_api_calls_limit", {"window": "minute"}) == 90


def test_ledger_metrics_record_fills_trades_and_positions() -> None:
    registry = CollectorRegistry()
    metrics = LedgerMetrics(registry)
    metrics.fill_booked(Purpose.EXIT)
    metrics.trade_closed(Decimal("-10"))
    metrics.trade_closed(Decimal("0"))
    metrics.positions(open_positions=2, unmarked=1)
    get = registry.get_sample_value
    assert get("strikeflow_ledger_fills_booked_total", {"purpose": "exit"}) == 1
    assert get("strikeflow_ledger_trades_closed_total", {"result": "loss"}) == 1
    assert get("strikeflow_ledger_trades_closed_total", {"result": "win"}) == 1
    assert get("strikeflow_ledger_positions_open") == 2
    assert get("strikeflow_ledger_positions_unmarked") == 1
