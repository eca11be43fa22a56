"""Metrics of the risk gate: decisions, trading state, safety switches, breaker, P&L, exposure.

State that risk already holds (control facts, the breaker, the ledger's last P&L snapshot) is
read when Prometheus scrapes, so the gauges can never drift from it; exposure comes from a
periodic count of open trades.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from libs.common.control import ControlFacts, effective_state
from libs.common.messages import DecisionOutcome, PnlSnapshot, TradingState
from libs.common.metrics import NAMESPACE
from services.risk.breaker import BreakerState
from services.risk.settings import RiskSettings

PREFIX = f"{NAMESPACE}_risk"

# Denial reasons are sentences for the operator; metrics carry a fixed code per kind of reason.
# Order matters: the first fragment found in a reason names its code.
REASON_CODES: tuple[tuple[str, str], ...] = (
    ("trading is HALTED", "trading_halted"),
    ("trading is REDUCING", "trading_reducing"),
    ("is not an NSE trading day", "not_trading_day"),
    ("outside market hours", "market_hours"),
    ("after the entry cut-off", "entry_cutoff"),
    ("expiry day:", "expiry_day_cutoff"),
    ("lots exceed the limit", "max_lots"),
    ("trades open: the limit is", "max_open_trades"),
    ("estimated margin", "max_margin"),
    ("circuit breaker", "circuit_breaker"),
    ("cannot construct the trade", "construction"),
    ("cannot size the order", "construction"),
    ("approval window expired", "approval_expired"),
    ("rejected by ", "operator_rejected"),
    ("automation is off", "awaiting_approval"),
    ("already entered", "already_entered"),
    ("already waiting for approval", "already_pending"),
    ("exit already requested", "exit_already_requested"),
    ("order already placed", "already_placed"),
    ("no open ", "no_open_trade"),
)
NO_REASON = "none"
OTHER_REASON = "other"


def reason_code(reason: str) -> str:
    """Return the fixed code of a decision reason (``other`` when no code matches)."""
    for fragment, code in REASON_CODES:
        if fragment in reason:
            return code
    return OTHER_REASON


def all_reason_codes() -> tuple[str, ...]:
    """Every code :func:`reason_code` can return, plus the code of a reason-less decision."""
    return tuple(dict.fromkeys([NO_REASON, *(c for _, c in REASON_CODES), OTHER_REASON]))


class _PnlCollector(Collector):
    """Today's P&L from the last snapshot; nothing once the trading day has moved on."""

    def __init__(self, today: Callable[[], date]) -> None:
        self._today = today
        self.snapshot: PnlSnapshot | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot
        pnl = GaugeMetricFamily(
            f"{PREFIX}_daily_pnl_rupees",
            "Today's P&L from the ledger's last snapshot, by kind "
            "(realised, unrealised, charges, net)",
            labels=["kind"],
        )
        positions = GaugeMetricFamily(
            f"{PREFIX}_open_positions", "Open positions in the ledger's last snapshot today"
        )
        if snap is not None and snap.trading_day == self._today():
            for kind, value in (
                ("realised", snap.realized),
                ("unrealised", snap.unrealized),
                ("charges", snap.charges),
                ("net", snap.net),
            ):
                pnl.add_metric([kind], float(value))
            positions.add_metric([], float(snap.open_positions))
        yield pnl
        yield positions


class _StateCollector(Collector):
    """Reads the trading state, switches, breaker and limits at scrape time."""

    def __init__(
        self,
        facts: Callable[[], ControlFacts],
        breaker: Callable[[], BreakerState],
        settings: RiskSettings,
    ) -> None:
        self._facts = facts
        self._breaker = breaker
        self._settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        facts = self._facts()
        state = effective_state(facts)
        trading = GaugeMetricFamily(
            f"{PREFIX}_trading_state",
            "1 for the effective trading state (ACTIVE, REDUCING, HALTED), 0 for the others",
            labels=["state"],
        )
        for each in TradingState:
            trading.add_metric([each.value], 1.0 if each is state else 0.0)
        yield trading
        breaker = GaugeMetricFamily(
            f"{PREFIX}_circuit_breaker_state",
            "1 for the circuit breaker's state (closed, open, half_open), 0 for the others",
            labels=["state"],
        )
        current = self._breaker()
        for each_state in BreakerState:
            breaker.add_metric([each_state.value], 1.0 if each_state is current else 0.0)
        yield breaker
        for name, value, doc in (
            ("kill_switch_engaged", facts.kill_switch, "1 while the kill switch is on"),
            ("emergency_stop_engaged", facts.emergency_stop, "1 while the emergency stop is on"),
            ("loss_halt_engaged", facts.loss_halt, "1 while the daily loss limit halts trading"),
            ("automation_enabled", facts.automation, "1 while signals are traded automatically"),
        ):
            yield GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=1.0 if value else 0.0)
        s = self._settings
        limits = facts.limits
        for name, number, doc in (
            (
                "max_margin_rupees",
                Decimal(limits.get("max_margin", s.max_margin)),
                "Margin limit in force (rupees)",
            ),
            (
                "max_open_trades",
                Decimal(limits.get("max_open_trades", s.max_open_trades)),
                "Open-trade limit in force",
            ),
            ("daily_loss_limit_rupees", s.max_daily_loss, "Daily loss that halts new entries"),
            (
                "daily_loss_warn_rupees",
                s.max_daily_loss * s.loss_warn_fraction,
                "Daily loss that raises a warning",
            ),
            ("daily_loss_panic_rupees", s.panic_loss, "Daily loss that triggers emergency stop"),
        ):
            yield GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=float(number))


class RiskMetrics:
    """Everything risk exports; built once in the composition root."""

    def __init__(
        self,
        registry: CollectorRegistry,
        facts: Callable[[], ControlFacts],
        breaker: Callable[[], BreakerState],
        settings: RiskSettings,
        today: Callable[[], date],
    ) -> None:
        self._margin_per_lot = settings.margin_per_lot
        self._pnl = _PnlCollector(today)
        self.decisions = Counter(
            f"{PREFIX}_decisions",
            "Decisions by outcome and the code of their first reason",
            ["outcome", "reason"],
            registry=registry,
        )
        self.reasons = Counter(
            f"{PREFIX}_decision_reasons",
            "Every reason given with a decision, by code",
            ["reason"],
            registry=registry,
        )
        self.open_trades = Gauge(
            f"{PREFIX}_open_trades", "Trades open or being filled", registry=registry
        )
        self.open_lots = Gauge(
            f"{PREFIX}_open_lots", "Lots of the trades open or being filled", registry=registry
        )
        self.margin_in_use = Gauge(
            f"{PREFIX}_margin_in_use_rupees",
            "Estimated margin of the open trades (rupees)",
            registry=registry,
        )
        for outcome in DecisionOutcome:
            self.decisions.labels(outcome.value, NO_REASON)
        registry.register(_StateCollector(facts, breaker, settings))
        registry.register(self._pnl)

    def decision(self, outcome: DecisionOutcome, reasons: Sequence[str]) -> None:
        """Count one decision and each of its reasons."""
        codes = [reason_code(r) for r in reasons]
        self.decisions.labels(outcome.value, codes[0] if codes else NO_REASON).inc()
        for code in codes:
            self.reasons.labels(code).inc()

    def observe_pnl(self, snapshot: PnlSnapshot) -> None:
        """Keep the ledger's latest snapshot; it is shown while its trading day is today."""
        self._pnl.snapshot = snapshot

    def observe_exposure(self, open_trades: int, open_lots: int) -> None:
        """Show the open trades, their lots and their estimated margin."""
        self.open_trades.set(open_trades)
        self.open_lots.set(open_lots)
        self.margin_in_use.set(float(self._margin_per_lot * open_lots))


async def refresh_exposure(pool: asyncpg.Pool, metrics: RiskMetrics) -> None:
    """Count the open trades (those being filled included) into the exposure gauges."""
    row = await pool.fetchrow(
        "SELECT count(*) AS trades, coalesce(sum(lots), 0) AS lots FROM risk.trades "
        "WHERE status = 'open'"
    )
    metrics.observe_exposure(int(row["trades"]) if row else 0, int(row["lots"]) if row else 0)


async def exposure_loop(pool: asyncpg.Pool, metrics: RiskMetrics, every_s: float) -> None:
    """Refresh the exposure gauges forever."""
    while True:
        await refresh_exposure(pool, metrics)
        await asyncio.sleep(every_s)
