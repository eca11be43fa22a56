"""Performance figures (libs/analytics/performance.py) against hand-computed answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from libs.analytics.performance import (
    ClosedTrade,
    Drawdown,
    max_drawdown,
    performance,
    report,
    sharpe_ratio,
)

D = Decimal
CAPITAL = D(100_000)
# 10:00 UTC = 15:30 IST on each day
DAY1 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=2)
DAY3 = DAY1 + timedelta(days=3)
DAYS = [date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 26)]


def trade(
    signal: str,
    net: str,
    charges: str,
    closed_at: datetime,
    move: str | None,
    bullish: bool = True,
) -> ClosedTrade:
    return ClosedTrade(
        signal=signal,
        bullish=bullish,
        net_pnl=D(net),
        charges=D(charges),
        opened_at=closed_at - timedelta(hours=5),
        closed_at=closed_at,
        index_move=D(move) if move is not None else None,
    )


# A: +1000 (index +30, bullish: index win); B: -400 (bearish, index +20: index loss);
# C: +600 (index unknown); D: -800 (index -10: index loss). Closed in that order.
TRADES = [
    trade("S1", "1000", "50", DAY1, "30"),
    trade("S3", "-400", "40", DAY2, "20", bullish=False),
    trade("S1", "600", "60", DAY3, None),
    trade("S1", "-800", "30", DAY3 + timedelta(minutes=1), "-10"),
]


def test_performance_of_four_trades_matches_the_hand_computed_figures() -> None:
    p = performance(TRADES, CAPITAL, DAYS)

    assert p.trades == 4
    assert p.net_pnl == D(400)
    assert p.charges == D(180)
    assert p.gross_pnl == D(580)
    assert (p.pnl_wins, p.pnl_losses) == (2, 2)
    assert p.pnl_win_rate == D("0.5")
    assert (p.index_known, p.index_wins) == (3, 1)
    assert p.index_win_rate == D(1) / D(3)
    assert p.average_win == D(800)
    assert p.average_loss == D(-600)
    assert p.expectancy == D(100)
    assert p.profit_factor == D(1600) / D(1200)
    # curve 1000, 600, 1200, 400: the worst fall is 1200 -> 400, 800 of equity 101,200
    assert p.max_drawdown == Drawdown(D(800), D(800) / D(101_200) * 100)
    # returns 0.010, -0.004, -0.002: mean 4/3000, sample sd sqrt(516)/3000
    assert p.sharpe is not None
    assert p.sharpe.quantize(D("0.000001")) == (4 * (D(252) / D(516)).sqrt()).quantize(
        D("0.000001")
    )
    assert p.days == 3


def test_report_per_signal_uses_the_same_definitions() -> None:
    r = report(TRADES, CAPITAL, DAYS)

    s1, s3 = r.per_signal["S1"], r.per_signal["S3"]
    assert list(r.per_signal) == ["S1", "S3"]
    assert (s1.trades, s1.net_pnl, s1.pnl_win_rate) == (3, D(800), D(2) / D(3))
    assert (s1.index_known, s1.index_win_rate) == (2, D("0.5"))
    assert s1.max_drawdown.amount == D(800)  # 1000, 1600, 800
    assert s1.profit_factor == D(2)
    assert (s3.trades, s3.net_pnl, s3.pnl_win_rate, s3.index_win_rate) == (1, D(-400), 0, 0)
    assert s3.profit_factor == D(0)
    assert s3.average_win is None
    assert r.overall == performance(TRADES, CAPITAL, DAYS)


def test_performance_without_trades_has_no_rates() -> None:
    p = performance([], CAPITAL)

    assert p.trades == 0
    assert p.net_pnl == 0
    assert p.pnl_win_rate is None
    assert p.index_win_rate is None
    assert p.expectancy is None
    assert p.profit_factor is None
    assert p.sharpe is None
    assert p.max_drawdown == Drawdown(D(0), D(0))


def test_profit_factor_without_losses_is_none_and_breakeven_is_neither_win_nor_loss() -> None:
    p = performance([trade("S7", "500", "0", DAY1, "5"), trade("S7", "0", "0", DAY2, "0")], CAPITAL)

    assert (p.pnl_wins, p.pnl_losses) == (1, 0)
    assert p.profit_factor is None
    assert p.average_loss is None
    assert p.index_wins == 1  # a zero move is not a move the signal's way


def test_bearish_index_win_needs_the_index_to_fall() -> None:
    assert trade("S8", "1", "0", DAY1, "-0.05", bullish=False).index_win is True
    assert trade("S8", "1", "0", DAY1, "0.05", bullish=False).index_win is False
    assert trade("S8", "1", "0", DAY1, None, bullish=False).index_win is None


def test_sharpe_counts_days_without_closes_as_zero_returns() -> None:
    one_day = [trade("S1", "1000", "0", DAY1, None)]

    assert performance(one_day, CAPITAL, DAYS[:1]).sharpe is None
    # returns 0.01, 0, 0: mean 1/300, sample sd 1/(100 sqrt 3): Sharpe = sqrt(3)/3 x sqrt(252)
    sharpe = performance(one_day, CAPITAL, DAYS).sharpe
    assert sharpe is not None
    expected = (D(3).sqrt() / 3 * D(252).sqrt()).quantize(D("0.000001"))
    assert sharpe.quantize(D("0.000001")) == expected


def test_sharpe_of_constant_returns_is_none() -> None:
    assert sharpe_ratio([D("0.01"), D("0.01")]) is None


def test_drawdown_percent_is_measured_from_the_equity_at_the_peak() -> None:
    assert max_drawdown([D(-5000)], D(10_000)) == Drawdown(D(5000), D(50))
    assert max_drawdown([D(10_000), D(-5000)], D(10_000)) == Drawdown(D(5000), D(25))


money = st.decimals(min_value=-50_000, max_value=50_000, places=2, allow_nan=False)


@given(st.lists(st.tuples(money, st.decimals(0, 500, places=2)), max_size=30))
def test_figures_hold_their_identities_for_any_trades(rows: list[tuple[Decimal, Decimal]]) -> None:
    trades = [
        trade("S1" if i % 2 else "S2", str(net), str(ch), DAY1 + timedelta(hours=i), None)
        for i, (net, ch) in enumerate(rows)
    ]
    r = report(trades, CAPITAL, DAYS)
    p = r.overall

    assert p.gross_pnl == p.net_pnl + p.charges
    assert sum((s.net_pnl for s in r.per_signal.values()), D(0)) == p.net_pnl
    assert sum(s.trades for s in r.per_signal.values()) == p.trades
    if p.trades:
        assert p.expectancy is not None
        assert abs(p.expectancy * p.trades - p.net_pnl) < D("1e-18")  # Decimal division
        assert p.pnl_win_rate is not None
        assert 0 <= p.pnl_win_rate <= 1
    losses = -sum((t.net_pnl for t in trades if t.net_pnl < 0), D(0))
    assert 0 <= p.max_drawdown.amount <= losses
    if all(t.net_pnl >= 0 for t in trades):
        assert p.max_drawdown.amount == 0
