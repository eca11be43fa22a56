"""A notification: what happened, how urgent, the words, and the key that makes it once-only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from libs.common.clock import IST
from libs.common.messages import AlertSeverity


class NotificationKind(StrEnum):
    """Every kind of notification an operator can receive."""

    KILL_SWITCH = "kill_switch"
    EMERGENCY_STOP = "emergency_stop"
    CIRCUIT_BREAKER = "circuit_breaker"
    LOSS_HALT = "loss_halt"
    SESSION_EXPIRED = "session_expired"
    SESSION_EXPIRING = "session_expiring"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    HEDGE_UNWOUND = "hedge_unwound"
    LARGE_LOSS = "large_loss"
    DAILY_SUMMARY = "daily_summary"
    OTHER = "other"


_MARK = {
    AlertSeverity.INFO: "INFO",
    AlertSeverity.WARNING: "WARNING",
    AlertSeverity.CRITICAL: "CRITICAL",
}


@dataclass(frozen=True)
class Notification:
    """One thing to tell the operator, once, whatever the number of times its cause is seen."""

    kind: NotificationKind
    dedupe_key: str  # stable across replays: derived from the source fact, never random
    severity: AlertSeverity
    title: str
    body: str
    occurred_at: datetime
    source_message_id: uuid.UUID | None = None
    details: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be tz-aware")
        if not self.dedupe_key:
            raise ValueError("a notification needs a dedupe key")

    @property
    def text(self) -> str:
        """The message as an operator reads it: severity, title, body and the IST time."""
        at = self.occurred_at.astimezone(IST).strftime("%d %b %H:%M:%S IST")
        return f"[{_MARK[self.severity]}] {self.title}\n{self.body}\n{at}"

    def payload(self) -> dict[str, Any]:
        """A JSON-ready description, as stored and as posted to a webhook."""
        return {
            "kind": self.kind.value,
            "dedupe_key": self.dedupe_key,
            "severity": self.severity.value,
            "title": self.title,
            "body": self.body,
            "text": self.text,
            "occurred_at": self.occurred_at.isoformat(),
            "source_message_id": str(self.source_message_id) if self.source_message_id else None,
            "details": dict(self.details),
        }


def rupees(amount: Decimal) -> str:
    """An amount as operators read it: ``₹12,480.75`` or ``-₹1,440.50``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}₹{abs(amount):,.2f}"


def frozen_details(values: dict[str, str]) -> MappingProxyType[str, str]:
    """Freeze a details mapping."""
    return MappingProxyType(dict(values))
