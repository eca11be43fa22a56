"""Performance figures of closed trades (pure, Decimal).

Definitions (rupees unless stated):

- **gross P&L** of a trade: premium received less premium paid over all its fills; **net P&L**:
  gross less charges. Totals are sums over the trades.
- **P&L win**: net P&L > 0; **P&L loss**: net P&L < 0 (a trade at exactly 0 is neither).
  P&L win rate = P&L wins / trades.
- **index win**: the index moved the signal's way over the holding period (index at exit above
  the index at entry for a bullish signal, below it for a bearish one). Trades whose index levels
  are unknown are left out: index win rate = index wins / trades with a known index move.
- **average win / average loss**: mean net P&L of the winners / of the losers (a loss is
  negative). **expectancy**: net P&L / trades (the mean net result of one trade).
- **profit factor**: sum of the winners' net P&L / |sum of the losers' net P&L|; ``None`` when
  there is no loss.
- **max drawdown**: on the cumulative net P&L curve, in order of closing time and starting at 0,
  the largest fall from a running peak. **max drawdown %**: the largest such fall as a
  percentage of the equity at that peak, equity = capital + cumulative net P&L.
- **Sharpe** (daily, annualised): r_d = net P&L of the trades closed on IST day d / capital, for
  every day d of the measured days (0 on a day without a close);
  Sharpe = mean(r) / sample standard deviation(r) x sqrt(252). ``None`` with fewer than two days
  or when every r_d is equal. The capital base is a setting (the account's trading capital).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from libs.common.clock import IST

ZERO = Decimal(0)
HUNDRED = Decimal(100)
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class ClosedTrade:
    """What the figures need of one closed trade."""

    signal: str
    bullish: bool | None
    net_pnl: Decimal
    charges: Decimal
    opened_at: datetime
    closed_at: datetime
    index_move: Decimal | None = None  # index at exit minus index at entry, points

    @property
    def gross_pnl(self) -> Decimal:
        """Net P&L before charges."""
        return self.net_pnl + self.charges

    @property
    def index_win(self) -> bool | None:
        """Whether the index moved the signal's way; None when unknown."""
        if self.index_move is None or self.bullish is None:
            return None
        return self.index_move > 0 if self.bullish else self.index_move < 0


@dataclass(frozen=True)
class Drawdown:
    """Largest fall of the cumulative net P&L curve from a running peak."""

    amount: Decimal
    pct: Decimal


@dataclass(frozen=True)
class Performance:
    """Figures of a set of closed trades."""

    trades: int
    gross_pnl: Decimal
    charges: Decimal
    net_pnl: Decimal
    pnl_wins: int
    pnl_losses: int
    pnl_win_rate: Decimal | None
    index_known: int
    index_wins: int
    index_win_rate: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    expectancy: Decimal | None
    profit_factor: Decimal | None
    max_drawdown: Drawdown
    sharpe: Decimal | None
    days: int


@dataclass(frozen=True)
class Report:
    """Overall figures and the same figures per signal (signals sorted by name)."""

    overall: Performance
    per_signal: dict[str, Performance]


def _ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    return Decimal(numerator) / Decimal(denominator) if denominator else None


def max_drawdown(net_pnls: Iterable[Decimal], capital: Decimal) -> Drawdown:
    """Largest fall from a running peak of the cumulative curve that starts at 0."""
    cumulative = peak = ZERO
    worst = worst_pct = ZERO
    for pnl in net_pnls:
        cumulative += pnl
        peak = max(peak, cumulative)
        fall = peak - cumulative
        worst = max(worst, fall)
        base = capital + peak
        if fall and base > 0:
            worst_pct = max(worst_pct, fall / base * HUNDRED)
    return Drawdown(worst, worst_pct)


def daily_returns(
    trades: Iterable[ClosedTrade], days: Iterable[date], capital: Decimal
) -> list[Decimal]:
    """Net P&L closed on each IST day over ``capital``; days of closes not listed are added."""
    if capital <= 0:
        raise ValueError("capital must be positive")
    per_day: dict[date, Decimal] = dict.fromkeys(days, ZERO)
    for t in trades:
        day = t.closed_at.astimezone(IST).date()
        per_day[day] = per_day.get(day, ZERO) + t.net_pnl
    return [per_day[d] / capital for d in sorted(per_day)]


def sharpe_ratio(returns: Sequence[Decimal]) -> Decimal | None:
    """Annualised Sharpe of daily returns (risk-free rate 0), sample standard deviation."""
    n = len(returns)
    if n < 2:
        return None
    mean = sum(returns, ZERO) / n
    variance = sum(((r - mean) ** 2 for r in returns), ZERO) / (n - 1)
    if variance == 0:
        return None
    return mean / variance.sqrt() * Decimal(TRADING_DAYS_PER_YEAR).sqrt()


def performance(
    trades: Sequence[ClosedTrade], capital: Decimal, days: Iterable[date] = ()
) -> Performance:
    """Figures of ``trades``; ``days`` are the IST days over which Sharpe is measured."""
    ordered = sorted(trades, key=lambda t: t.closed_at)
    nets = [t.net_pnl for t in ordered]
    wins = [p for p in nets if p > 0]
    losses = [p for p in nets if p < 0]
    known = [t.index_win for t in ordered if t.index_win is not None]
    net = sum(nets, ZERO)
    charges = sum((t.charges for t in ordered), ZERO)
    returns = daily_returns(ordered, days, capital)
    return Performance(
        trades=len(ordered),
        gross_pnl=net + charges,
        charges=charges,
        net_pnl=net,
        pnl_wins=len(wins),
        pnl_losses=len(losses),
        pnl_win_rate=_ratio(len(wins), len(ordered)),
        index_known=len(known),
        index_wins=sum(known),
        index_win_rate=_ratio(sum(known), len(known)),
        average_win=_ratio(sum(wins, ZERO), len(wins)),
        average_loss=_ratio(sum(losses, ZERO), len(losses)),
        expectancy=_ratio(net, len(ordered)),
        profit_factor=_ratio(sum(wins, ZERO), -sum(losses, ZERO)),
        max_drawdown=max_drawdown(nets, capital),
        sharpe=sharpe_ratio(returns),
        days=len(returns),
    )


def report(trades: Sequence[ClosedTrade], capital: Decimal, days: Iterable[date] = ()) -> Report:
    """Overall and per-signal figures over the same days and capital."""
    measured = list(days)
    by_signal: dict[str, list[ClosedTrade]] = {}
    for t in trades:
        by_signal.setdefault(t.signal, []).append(t)
    return Report(
        overall=performance(trades, capital, measured),
        per_signal={
            name: performance(group, capital, measured) for name, group in sorted(by_signal.items())
        },
    )
