"""Metrics of the executor: order results, fills, broker errors, session and call budget.

Defined here and registered on the executor's registry in its composition root; the calls that
feed them are listed in ``docs/metrics.md``.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from libs.common.messages import Leg, Purpose
from libs.common.metrics import NAMESPACE
from services.executor.broker import OrderStatus

PREFIX = f"{NAMESPACE}_executor"
Mode = Literal["paper", "live"]
Window = Literal["minute", "day"]

# Kinds of broker trouble; anything else is counted as "other".
BROKER_ERROR_KINDS = (
    "unavailable",  # the broker could not be asked (network, gateway)
    "timeout",  # asked, no answer in time: the order is UNKNOWN
    "rate_limited",  # the per-minute call budget ran out
    "quota_exhausted",  # the per-day call budget ran out
    "session",  # the session is missing, expired or refused
    "rejected",  # the broker refused an order
    "other",
)


class ExecutorMetrics:
    """Everything the executor exports; built once in the composition root."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.orders = Counter(
            f"{PREFIX}_orders",
            "Order results recorded, by status and purpose",
            ["status", "purpose"],
            registry=registry,
        )
        self.fills = Counter(
            f"{PREFIX}_fills",
            "Executions reported, by purpose and leg",
            ["purpose", "leg"],
            registry=registry,
        )
        self.filled_quantity = Counter(
            f"{PREFIX}_filled_quantity_contracts",
            "Contracts filled, by purpose",
            ["purpose"],
            registry=registry,
        )
        self.broker_errors = Counter(
            f"{PREFIX}_broker_errors",
            "Broker trouble by kind (unavailable, timeout, rate_limited, quota_exhausted, "
            "session, rejected, other)",
            ["kind"],
            registry=registry,
        )
        self.broker_latency = Histogram(
            f"{PREFIX}_broker_call_latency_seconds",
            "Time a broker call took, by operation (submit, lookup, mark)",
            ["operation"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )
        self.session_valid = Gauge(
            f"{PREFIX}_broker_session_valid",
            "1 while the broker session is valid, 0 when it is not, by mode",
            ["mode"],
            registry=registry,
        )
        self.session_expiry = Gauge(
            f"{PREFIX}_broker_session_expiry_seconds",
            "Seconds until the broker session expires, by mode (live only)",
            ["mode"],
            registry=registry,
        )
        self.api_calls_used = Gauge(
            f"{PREFIX}_broker_api_calls_used",
            "Broker API calls used in the current window (minute, day)",
            ["window"],
            registry=registry,
        )
        self.api_calls_limit = Gauge(
            f"{PREFIX}_broker_api_calls_limit",
            "Broker API calls allowed per window (minute, day)",
            ["window"],
            registry=registry,
        )
        for status in OrderStatus:
            for purpose in Purpose:
                self.orders.labels(status.value, purpose.value)
        for purpose in Purpose:
            self.filled_quantity.labels(purpose.value)
            for leg in Leg:
                self.fills.labels(purpose.value, leg.value)
        for kind in BROKER_ERROR_KINDS:
            self.broker_errors.labels(kind)

    def order_recorded(self, status: OrderStatus, purpose: Purpose) -> None:
        """Count an order result as it is recorded (once per status an order reaches)."""
        self.orders.labels(status.value, purpose.value).inc()

    def fill(self, purpose: Purpose, leg: Leg, quantity: int) -> None:
        """Count one execution and its contracts."""
        self.fills.labels(purpose.value, leg.value).inc()
        self.filled_quantity.labels(purpose.value).inc(quantity)

    def broker_error(self, kind: str) -> None:
        """Count one broker error by kind (see :data:`BROKER_ERROR_KINDS`)."""
        self.broker_errors.labels(kind if kind in BROKER_ERROR_KINDS else "other").inc()

    def session(self, mode: Mode, valid: bool, seconds_to_expiry: float | None = None) -> None:
        """Show the broker session's validity and, when known, the seconds until it expires."""
        self.session_valid.labels(mode).set(1 if valid else 0)
        if seconds_to_expiry is not None:
            self.session_expiry.labels(mode).set(max(seconds_to_expiry, 0.0))

    def api_budget(self, window: Window, used: int, limit: int) -> None:
        """Show the broker calls used and allowed in one window."""
        self.api_calls_used.labels(window).set(used)
        self.api_calls_limit.labels(window).set(limit)
