"""Risk figures of the open book (libs/analytics/risk.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from libs.analytics.risk import (
    DayPnl,
    Limit,
    OpenPosition,
    day_drawdown,
    exposure,
    resolve_limits,
    risk_metrics,
    utilisation,
)

D = Decimal
T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


def test_control_override_wins_over_risk_report_and_missing_limits_are_unknown() -> None:
    limits = resolve_limits(
        {"max_open_trades": "4", "bogus": "1"},
        {"limit.max_open_trades": "8", "limit.max_margin": "600000", "limit.panic_loss": "x"},
    )

    assert limits["max_open_trades"] == Limit("max_open_trades", D(4), "control")
    assert limits["max_margin"] == Limit("max_margin", D(600000), "risk")
    assert limits["panic_loss"] == Limit("panic_loss", None, "unknown")  # unreadable
    assert limits["max_daily_loss"] == Limit("max_daily_loss", None, "unknown")
    assert "bogus" not in limits


def test_exposure_values_a_short_leg_at_its_mark_and_an_unmarked_leg_at_cost() -> None:
    short = exposure(OpenPosition("A", -65, D("100.5"), D("80"), T0))
    long = exposure(OpenPosition("B", 65, D("20"), None, None))

    assert (short.side, short.quantity, short.premium) == ("short", 65, D(5200))
    assert short.unrealized == D("1332.5")  # (80 - 100.5) x -65
    assert (long.side, long.premium, long.unrealized) == ("long", D(1300), D(0))


def test_day_drawdown_starts_at_zero_and_follows_the_latest_snapshot() -> None:
    assert day_drawdown([]) == 0
    assert day_drawdown([D(-100), D(-300)]) == D(300)
    assert day_drawdown([D(500), D(200), D(400)]) == D(100)


def test_utilisation_is_unknown_without_a_limit() -> None:
    assert utilisation(D(3), D(8)) == D("37.5")
    assert utilisation(D(3), None) is None
    assert utilisation(None, D(8)) is None
    assert utilisation(D(3), D(0)) is None


def test_risk_metrics_combine_book_pnl_and_limits() -> None:
    limits = resolve_limits(
        {"max_margin": "240000"},
        {
            "limit.max_open_trades": "8",
            "limit.margin_per_lot": "60000",
            "limit.max_daily_loss": "50000",
            "limit.max_lots_per_trade": "10",
        },
    )
    book = [
        OpenPosition("MAIN", -130, D(100), D(120), T0),
        OpenPosition("HEDGE", 130, D(20), D(25), T0),
    ]
    snapshots = [
        DayPnl(D(0), D(500), D(10), D(490), T0),
        DayPnl(D(0), D(-2000), D(10), D(-2010), T0),
    ]

    m = risk_metrics(book, open_trades=2, trade_lots=[1, 1], snapshots=snapshots, limits=limits)

    assert m.premium.short == D(15600)
    assert m.premium.long == D(3250)
    assert m.premium.net == D(12350)
    assert m.margin_used == D(120000)
    assert m.loss_today == D(2010)
    assert m.drawdown == D(2500)
    assert m.pnl == snapshots[-1]
    assert m.utilisation_pct == {
        "max_open_trades": D(25),
        "max_lots_per_trade": D(10),
        "max_margin": D(50),
        "max_daily_loss": D("4.02"),
        "panic_loss": None,
    }


def test_risk_metrics_without_margin_per_lot_leave_margin_unknown() -> None:
    m = risk_metrics([], 0, [], [], resolve_limits({}, {}))

    assert m.margin_used is None
    assert m.pnl is None
    assert m.loss_today == 0
    assert set(m.utilisation_pct.values()) == {None}
