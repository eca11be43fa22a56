"""Metrics of the ledger: what it booked and what is open.

Defined here and registered on the ledger's registry in its composition root; the calls that
feed them are listed in ``docs/metrics.md``.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge

from libs.common.messages import Purpose
from libs.common.metrics import NAMESPACE

PREFIX = f"{NAMESPACE}_ledger"


class LedgerMetrics:
    """Everything the ledger exports beyond the pipeline metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.fills_booked = Counter(
            f"{PREFIX}_fills_booked",
            "Fills written to ledger.fills (first time only), by purpose",
            ["purpose"],
            registry=registry,
        )
        self.trades_closed = Counter(
            f"{PREFIX}_trades_closed",
            "Trades whose every leg is flat, by result (win, loss)",
            ["result"],
            registry=registry,
        )
        self.positions_open = Gauge(
            f"{PREFIX}_positions_open",
            "Positions with a non-zero net quantity",
            registry=registry,
        )
        self.positions_unmarked = Gauge(
            f"{PREFIX}_positions_unmarked",
            "Open positions without a mark (valued at cost)",
            registry=registry,
        )
        for purpose in Purpose:
            self.fills_booked.labels(purpose.value)
        for result in ("win", "loss"):
            self.trades_closed.labels(result)

    def fill_booked(self, purpose: Purpose) -> None:
        """Count one fill booked for the first time."""
        self.fills_booked.labels(purpose.value).inc()

    def trade_closed(self, net_pnl: Decimal) -> None:
        """Count one closed trade by its result."""
        self.trades_closed.labels("win" if net_pnl >= 0 else "loss").inc()

    def positions(self, open_positions: int, unmarked: int) -> None:
        """Show the open positions, from the P&L snapshot just computed."""
        self.positions_open.set(open_positions)
        self.positions_unmarked.set(unmarked)
