"""Facts -> notifications: what is told, how urgent, and the keys that make it once-only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.common.messages import (
    AlertKind,
    AlertSeverity,
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    Heartbeat,
    OperatorAlert,
    PnlSnapshot,
    SignalName,
    TradeClosed,
    TradingState,
)
from libs.notify.events import LossRules, notification_for
from libs.notify.model import NotificationKind

AT = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 14:00 IST
RULES = LossRules(
    trade_loss=Decimal(10000), daily_loss_limit=Decimal(50000), daily_loss_fraction=Decimal("0.5")
)


def control(key: ControlKey, engaged: bool = True, **values: str) -> ControlSet:
    return ControlSet(
        ts_event=AT, key=key, engaged=engaged, values=values, changed_by="op", reason="why"
    )


def snapshot(net: str, day: date = date(2026, 11, 24)) -> PnlSnapshot:
    return PnlSnapshot(
        ts_event=AT,
        trading_day=day,
        realized=Decimal(net),
        unrealized=Decimal(0),
        charges=Decimal(0),
        net=Decimal(net),
        open_positions=1,
        marks_missing=0,
    )


def broker(valid: bool) -> BrokerStatusChanged:
    return BrokerStatusChanged(ts_event=AT, mode="live", session_valid=valid, detail="expired")


@pytest.mark.parametrize(
    ("key", "engaged", "kind", "severity", "title_part"),
    [
        (ControlKey.KILL_SWITCH, True, NotificationKind.KILL_SWITCH, "critical", "Kill switch ON"),
        (ControlKey.KILL_SWITCH, False, NotificationKind.KILL_SWITCH, "info", "Kill switch OFF"),
        (ControlKey.EMERGENCY_STOP, True, NotificationKind.EMERGENCY_STOP, "critical", "STOP"),
        (ControlKey.EMERGENCY_STOP, False, NotificationKind.EMERGENCY_STOP, "info", "cleared"),
        (ControlKey.LOSS_HALT, True, NotificationKind.LOSS_HALT, "critical", "loss limit"),
        (ControlKey.LOSS_HALT, False, NotificationKind.LOSS_HALT, "info", "cleared"),
    ],
)
def test_switch_facts_map_to_a_notification_keyed_by_message_id(
    key: ControlKey, engaged: bool, kind: NotificationKind, severity: str, title_part: str
) -> None:
    message = control(key, engaged)

    n = notification_for(message, RULES)

    assert n is not None
    assert n.kind is kind
    assert n.severity.value == severity
    assert title_part in n.title
    assert n.dedupe_key == f"control:{key.value}:{message.message_id}"
    assert "by op: why" in n.text
    assert "14:00:00 IST" in n.text


def test_same_message_maps_to_same_key_and_another_message_to_another() -> None:
    message = control(ControlKey.KILL_SWITCH)
    again = ControlSet.model_validate_json(message.model_dump_json())

    first, second = notification_for(message, RULES), notification_for(again, RULES)
    other = notification_for(control(ControlKey.KILL_SWITCH), RULES)

    assert first is not None
    assert second is not None
    assert other is not None
    assert first.dedupe_key == second.dedupe_key
    assert other.dedupe_key != first.dedupe_key


@pytest.mark.parametrize(
    ("state", "told"), [("open", True), ("closed", True), ("half_open", False)]
)
def test_circuit_breaker_open_and_closed_are_told_half_open_is_not(state: str, told: bool) -> None:
    n = notification_for(control(ControlKey.CIRCUIT, state=state, reason="5 rejects"), RULES)

    assert (n is not None) is told
    if n is not None:
        assert n.kind is NotificationKind.CIRCUIT_BREAKER
        assert n.severity is (AlertSeverity.CRITICAL if state == "open" else AlertSeverity.INFO)


@pytest.mark.parametrize("key", [ControlKey.AUTOMATION, ControlKey.LIMITS, ControlKey.MANUAL_STATE])
def test_other_control_facts_are_not_told(key: ControlKey) -> None:
    message = ControlSet(
        ts_event=AT, key=key, state=TradingState.REDUCING, changed_by="op", reason="why"
    )

    assert notification_for(message, RULES) is None


@pytest.mark.parametrize(
    ("was_valid", "valid", "told"),
    [(True, False, True), (None, False, True), (False, False, False), (False, True, False)],
)
def test_broker_session_told_only_when_it_turns_invalid(
    was_valid: bool | None, valid: bool, told: bool
) -> None:
    message = broker(valid)

    n = notification_for(message, RULES, session_was_valid=was_valid)

    assert (n is not None) is told
    if n is not None:
        assert n.kind is NotificationKind.SESSION_EXPIRED
        assert n.dedupe_key == f"broker:{message.message_id}"
        assert "expired" in n.body


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (AlertKind.SESSION_EXPIRING, NotificationKind.SESSION_EXPIRING),
        (AlertKind.RECONCILIATION_MISMATCH, NotificationKind.RECONCILIATION_MISMATCH),
        (AlertKind.HEDGE_UNWOUND, NotificationKind.HEDGE_UNWOUND),
        (AlertKind.OTHER, NotificationKind.OTHER),
    ],
)
def test_operator_alerts_pass_on_kind_severity_and_text(
    kind: AlertKind, expected: NotificationKind
) -> None:
    alert = OperatorAlert(
        ts_event=AT,
        kind=kind,
        severity=AlertSeverity.WARNING,
        raised_by="executor",
        text="2 orders differ",
        details={"orders": "a,b"},
    )

    n = notification_for(alert, RULES)

    assert n is not None
    assert n.kind is expected
    assert n.severity is AlertSeverity.WARNING
    assert n.body == "2 orders differ"
    assert n.dedupe_key == f"alert:{kind.value}:{alert.message_id}"
    assert n.payload()["details"] == {"orders": "a,b"}


@pytest.mark.parametrize(("net", "told"), [("-10000", True), ("-9999.99", False), ("5000", False)])
def test_closed_trade_told_when_its_loss_reaches_the_threshold(net: str, told: bool) -> None:
    trade_id = uuid.uuid4()
    closed = TradeClosed(
        ts_event=AT,
        trade_id=trade_id,
        signal=SignalName.S3,
        net_pnl=Decimal(net),
        charges=Decimal(120),
    )

    n = notification_for(closed, RULES)

    assert (n is not None) is told
    if n is not None:
        assert n.kind is NotificationKind.LARGE_LOSS
        assert n.dedupe_key == f"large_loss:trade:{trade_id}"
        assert "₹10,000.00" in n.title


@pytest.mark.parametrize(("net", "told"), [("-25000", True), ("-24999", False), ("100", False)])
def test_daily_pnl_told_once_a_day_when_past_the_fraction(net: str, told: bool) -> None:
    n = notification_for(snapshot(net), RULES)
    later = notification_for(snapshot("-40000"), RULES)

    assert (n is not None) is told
    assert later is not None
    assert later.dedupe_key == "large_loss:day:2026-11-24"
    assert "50%" in later.body
    if n is not None:
        assert n.dedupe_key == later.dedupe_key


def test_messages_without_operator_interest_map_to_nothing() -> None:
    beat = Heartbeat(
        ts_event=AT, service="risk", instance="x", started_at=AT, status="ok", consumer_lag=0
    )

    assert notification_for(beat, RULES) is None


def test_loss_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="fraction"):
        LossRules(Decimal(1), Decimal(1), Decimal(2))
