"""Risk figures of the open book: exposure, margin, day P&L, limits and their use (pure).

Limits are resolved the way the risk gate resolves them: an operator's override on the control
topic (``limits`` fact) wins over the value the risk service runs with, which it reports in its
heartbeat details as ``limit.<name>``. A limit known from neither is reported as unknown, and so
is every figure that needs it; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
LIMIT_NAMES = (
    "max_open_trades",
    "max_lots_per_trade",
    "max_margin",
    "margin_per_lot",
    "max_daily_loss",
    "panic_loss",
)
HEARTBEAT_PREFIX = "limit."
LimitSource = Literal["control", "risk", "unknown"]


@dataclass(frozen=True)
class Limit:
    """A limit's value and where it came from."""

    name: str
    value: Decimal | None
    source: LimitSource


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def resolve_limits(overrides: Mapping[str, str], reported: Mapping[str, str]) -> dict[str, Limit]:
    """Each known limit: the control override, else risk's reported value, else unknown."""
    out: dict[str, Limit] = {}
    for name in LIMIT_NAMES:
        if (value := _decimal(overrides.get(name))) is not None:
            out[name] = Limit(name, value, "control")
        elif (value := _decimal(reported.get(HEARTBEAT_PREFIX + name))) is not None:
            out[name] = Limit(name, value, "risk")
        else:
            out[name] = Limit(name, None, "unknown")
    return out


@dataclass(frozen=True)
class OpenPosition:
    """A contract with a non-zero net quantity (long > 0)."""

    instrument_key: str
    net_quantity: int
    average_price: Decimal
    mark_price: Decimal | None
    marked_at: datetime | None


@dataclass(frozen=True)
class Exposure:
    """One contract's premium at its mark (at cost when not marked)."""

    instrument_key: str
    side: Literal["long", "short"]
    quantity: int
    average_price: Decimal
    mark_price: Decimal | None
    premium: Decimal
    unrealized: Decimal


def exposure(position: OpenPosition) -> Exposure:
    """Premium = |quantity| x (mark, else average price); unrealised = (mark - average) x qty."""
    price = position.mark_price if position.mark_price is not None else position.average_price
    return Exposure(
        instrument_key=position.instrument_key,
        side="long" if position.net_quantity > 0 else "short",
        quantity=abs(position.net_quantity),
        average_price=position.average_price,
        mark_price=position.mark_price,
        premium=abs(position.net_quantity) * price,
        unrealized=(price - position.average_price) * position.net_quantity,
    )


@dataclass(frozen=True)
class PremiumAtRisk:
    """Premium of the short legs (what buying them back costs at the marks), less the long
    legs' premium (what the hedges are worth)."""

    short: Decimal
    long: Decimal
    net: Decimal


def premium_at_risk(exposures: Iterable[Exposure]) -> PremiumAtRisk:
    """Sum the short and long premiums."""
    items = list(exposures)
    short = sum((e.premium for e in items if e.side == "short"), ZERO)
    long = sum((e.premium for e in items if e.side == "long"), ZERO)
    return PremiumAtRisk(short, long, short - long)


@dataclass(frozen=True)
class DayPnl:
    """A P&L snapshot of the IST trading day (realised + unrealised - charges = net)."""

    realized: Decimal
    unrealized: Decimal
    charges: Decimal
    net: Decimal
    taken_at: datetime


def day_drawdown(nets: Iterable[Decimal]) -> Decimal:
    """Fall of the latest net P&L from the day's peak (the day starts at 0)."""
    peak = current = ZERO
    for net in nets:
        current = net
        peak = max(peak, net)
    return peak - current


def utilisation(used: Decimal | None, limit: Decimal | None) -> Decimal | None:
    """Used / limit in percent; None when either is unknown or the limit is 0."""
    if used is None or limit is None or limit == 0:
        return None
    return used / limit * HUNDRED


@dataclass(frozen=True)
class RiskMetrics:
    """The figures of ``GET /api/v2/risk/metrics``."""

    exposures: tuple[Exposure, ...]
    premium: PremiumAtRisk
    open_trades: int
    open_lots: int
    largest_trade_lots: int
    margin_used: Decimal | None
    pnl: DayPnl | None
    drawdown: Decimal
    loss_today: Decimal
    limits: dict[str, Limit]
    utilisation_pct: dict[str, Decimal | None]


def risk_metrics(
    positions: Sequence[OpenPosition],
    open_trades: int,
    trade_lots: Sequence[int],
    snapshots: Sequence[DayPnl],
    limits: dict[str, Limit],
) -> RiskMetrics:
    """Combine the open book, today's P&L snapshots (oldest first) and the limits."""
    exposures = tuple(exposure(p) for p in positions)
    open_lots = sum(trade_lots)
    per_lot = limits["margin_per_lot"].value
    margin = per_lot * open_lots if per_lot is not None else None
    latest = snapshots[-1] if snapshots else None
    loss = max(ZERO, -latest.net) if latest else ZERO
    largest = max(trade_lots, default=0)
    return RiskMetrics(
        exposures=exposures,
        premium=premium_at_risk(exposures),
        open_trades=open_trades,
        open_lots=open_lots,
        largest_trade_lots=largest,
        margin_used=margin,
        pnl=latest,
        drawdown=day_drawdown(s.net for s in snapshots),
        loss_today=loss,
        limits=limits,
        utilisation_pct={
            "max_open_trades": utilisation(Decimal(open_trades), limits["max_open_trades"].value),
            "max_lots_per_trade": utilisation(Decimal(largest), limits["max_lots_per_trade"].value),
            "max_margin": utilisation(margin, limits["max_margin"].value),
            "max_daily_loss": utilisation(loss, limits["max_daily_loss"].value),
            "panic_loss": utilisation(loss, limits["panic_loss"].value),
        },
    )
