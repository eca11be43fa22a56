"""Kafka facts -> notifications: which control changes, broker states, losses and alerts matter.

Each notification's dedupe key comes from its source: the message id for control facts, broker
states and alerts, the trade id for a losing trade, the IST trading day for the daily-loss
warning. A replayed or re-delivered message therefore maps to the same key and is told once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import (
    AlertKind,
    AlertSeverity,
    AnyMessage,
    BrokerStatusChanged,
    ControlKey,
    ControlSet,
    OperatorAlert,
    PnlSnapshot,
    TradeClosed,
)
from libs.notify.model import Notification, NotificationKind, frozen_details, rupees


@dataclass(frozen=True)
class LossRules:
    """When a loss is large enough to tell the operator about (rupees, losses positive)."""

    trade_loss: Decimal
    daily_loss_limit: Decimal
    daily_loss_fraction: Decimal

    def __post_init__(self) -> None:
        if self.trade_loss <= 0 or self.daily_loss_limit <= 0:
            raise ValueError("loss thresholds must be positive")
        if not Decimal(0) < self.daily_loss_fraction <= 1:
            raise ValueError("daily_loss_fraction must be in (0, 1]")

    @property
    def daily_threshold(self) -> Decimal:
        """The day's net loss from which the operator is warned."""
        return self.daily_loss_limit * self.daily_loss_fraction


def notification_for(
    message: AnyMessage, rules: LossRules, session_was_valid: bool | None = None
) -> Notification | None:
    """The notification a message calls for, or None.

    ``session_was_valid`` is the broker session's validity before ``message`` (None: unknown), so
    that only a change from valid (or unknown) to invalid is told.
    """
    if isinstance(message, ControlSet):
        return control_notification(message)
    if isinstance(message, BrokerStatusChanged):
        return broker_notification(message, session_was_valid)
    if isinstance(message, OperatorAlert):
        return alert_notification(message)
    if isinstance(message, TradeClosed):
        return trade_loss_notification(message, rules)
    if isinstance(message, PnlSnapshot):
        return daily_loss_notification(message, rules)
    return None


# ---------------------------------------------------------------------------------------------
# control facts
# ---------------------------------------------------------------------------------------------

_SWITCHES: dict[ControlKey, tuple[NotificationKind, str, str]] = {
    ControlKey.KILL_SWITCH: (
        NotificationKind.KILL_SWITCH,
        "Kill switch ON: trading halted",
        "Kill switch OFF",
    ),
    ControlKey.EMERGENCY_STOP: (
        NotificationKind.EMERGENCY_STOP,
        "EMERGENCY STOP: trading halted, open trades squared off",
        "Emergency stop cleared",
    ),
    ControlKey.LOSS_HALT: (
        NotificationKind.LOSS_HALT,
        "Daily loss limit reached: new entries halted",
        "Daily loss halt cleared",
    ),
}


def control_notification(message: ControlSet) -> Notification | None:
    """Kill switch, emergency stop and loss halt on or off; circuit breaker opened or closed."""
    by = f"by {message.changed_by}: {message.reason}"
    if message.key in _SWITCHES:
        kind, on, off = _SWITCHES[message.key]
        severity = AlertSeverity.CRITICAL if message.engaged else AlertSeverity.INFO
        title = on if message.engaged else off
        details = {"engaged": str(message.engaged).lower(), **message.values}
    elif message.key is ControlKey.CIRCUIT:
        state = message.values.get("state", "closed")
        if state == "open":
            severity, title = AlertSeverity.CRITICAL, "Circuit breaker OPEN: new entries halted"
        elif state == "closed":
            severity, title = AlertSeverity.INFO, "Circuit breaker closed"
        else:
            return None
        kind, details = NotificationKind.CIRCUIT_BREAKER, dict(message.values)
    else:
        return None
    return Notification(
        kind=kind,
        dedupe_key=f"control:{message.key.value}:{message.message_id}",
        severity=severity,
        title=title,
        body=by,
        occurred_at=message.ts_event,
        source_message_id=message.message_id,
        details=frozen_details({"changed_by": message.changed_by, **details}),
    )


# ---------------------------------------------------------------------------------------------
# broker session and alerts
# ---------------------------------------------------------------------------------------------


def broker_notification(
    message: BrokerStatusChanged, session_was_valid: bool | None
) -> Notification | None:
    """The broker session turned invalid (expired, logged out, rejected): tell the operator."""
    if message.session_valid or session_was_valid is False:
        return None
    return Notification(
        kind=NotificationKind.SESSION_EXPIRED,
        dedupe_key=f"broker:{message.message_id}",
        severity=AlertSeverity.CRITICAL,
        title=f"Broker session invalid ({message.mode}): entries blocked",
        body=f"{message.detail}. Renew the session; exits still go through once it is valid.",
        occurred_at=message.ts_event,
        source_message_id=message.message_id,
        details=frozen_details({"mode": message.mode, "detail": message.detail}),
    )


_ALERT_KINDS = {
    AlertKind.SESSION_EXPIRING: (NotificationKind.SESSION_EXPIRING, "Broker session expiring"),
    AlertKind.SESSION_EXPIRED: (NotificationKind.SESSION_EXPIRED, "Broker session expired"),
    AlertKind.RECONCILIATION_MISMATCH: (
        NotificationKind.RECONCILIATION_MISMATCH,
        "Reconciliation mismatch with the broker",
    ),
    AlertKind.HEDGE_UNWOUND: (NotificationKind.HEDGE_UNWOUND, "Entry failed: hedge unwound"),
    AlertKind.LARGE_LOSS: (NotificationKind.LARGE_LOSS, "Large loss"),
    AlertKind.OTHER: (NotificationKind.OTHER, "Alert"),
}


def alert_notification(message: OperatorAlert) -> Notification:
    """An alert a service raised, passed on in its own words."""
    kind, title = _ALERT_KINDS[message.kind]
    return Notification(
        kind=kind,
        dedupe_key=f"alert:{message.kind.value}:{message.message_id}",
        severity=message.severity,
        title=f"{title} ({message.raised_by})",
        body=message.text,
        occurred_at=message.ts_event,
        source_message_id=message.message_id,
        details=frozen_details(dict(message.details)),
    )


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------


def trade_loss_notification(message: TradeClosed, rules: LossRules) -> Notification | None:
    """A closed trade lost at least the configured amount."""
    loss = -message.net_pnl
    if loss < rules.trade_loss:
        return None
    signal = message.signal.value if message.signal else "manual"
    return Notification(
        kind=NotificationKind.LARGE_LOSS,
        dedupe_key=f"large_loss:trade:{message.trade_id}",
        severity=AlertSeverity.WARNING,
        title=f"Large loss: {signal} trade lost {rupees(loss)}",
        body=(
            f"Trade {message.trade_id} closed at net {rupees(message.net_pnl)} "
            f"(charges {rupees(message.charges)}); alert threshold {rupees(rules.trade_loss)}."
        ),
        occurred_at=message.ts_event,
        source_message_id=message.message_id,
        details=frozen_details(
            {
                "trade_id": str(message.trade_id),
                "signal": signal,
                "net_pnl": str(message.net_pnl),
                "charges": str(message.charges),
            }
        ),
    )


def daily_loss_notification(message: PnlSnapshot, rules: LossRules) -> Notification | None:
    """The day's net P&L crossed the configured fraction of the daily loss limit (once a day)."""
    loss = -message.net
    if loss < rules.daily_threshold:
        return None
    day = message.trading_day.isoformat()
    return Notification(
        kind=NotificationKind.LARGE_LOSS,
        dedupe_key=f"large_loss:day:{day}",
        severity=AlertSeverity.WARNING,
        title=f"Daily loss {rupees(loss)} on {day}",
        body=(
            f"Net {rupees(message.net)} (realised {rupees(message.realized)}, open "
            f"{rupees(message.unrealized)}, charges {rupees(message.charges)}) is past "
            f"{rules.daily_loss_fraction:.0%} of the daily limit {rupees(rules.daily_loss_limit)}; "
            f"{message.open_positions} positions open."
        ),
        occurred_at=message.ts_event,
        source_message_id=message.message_id,
        details=frozen_details(
            {
                "trading_day": day,
                "net": str(message.net),
                "daily_loss_limit": str(rules.daily_loss_limit),
            }
        ),
    )
