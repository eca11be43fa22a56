"""The post-market summary: once per IST trading day, after a configured time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from libs.common.clock import IST
from libs.common.messages import AlertSeverity
from libs.market.calendar import CalendarRangeError, has_trading_session
from libs.notify.model import Notification, NotificationKind, frozen_details, rupees


@dataclass(frozen=True)
class DayFigures:
    """What the ledger says about one IST trading day."""

    trading_day: date
    realized: Decimal
    unrealized: Decimal
    charges: Decimal
    net: Decimal
    open_positions: int
    trades: int
    trades_closed: int
    fills: int
    marked_at: datetime | None  # when the P&L was last marked; None: no snapshot that day


def summary_key(day: date) -> str:
    """The dedupe key of a day's summary."""
    return f"daily_summary:{day.isoformat()}"


def is_session_day(day: date) -> bool:
    """A day with an NSE session; outside the holiday table, any weekday."""
    try:
        return has_trading_session(day)
    except CalendarRangeError:
        return day.weekday() < 5


def summary_day_due(now: datetime, after: time) -> date | None:
    """The IST day whose summary is due at ``now``: a session day once ``after`` (IST) passed."""
    local = now.astimezone(IST)
    if local.time() < after or not is_session_day(local.date()):
        return None
    return local.date()


def summary_notification(figures: DayFigures, at: datetime) -> Notification:
    """The day's P&L, trades and charges in a few lines."""
    day = figures.trading_day.isoformat()
    lines = [
        f"Net P&L {rupees(figures.net)} (realised {rupees(figures.realized)}, "
        f"open {rupees(figures.unrealized)}, charges {rupees(figures.charges)})",
        f"Trades: {figures.trades} traded, {figures.trades_closed} closed; {figures.fills} fills",
        f"Open positions: {figures.open_positions}",
    ]
    if figures.marked_at is None:
        lines.append("No P&L snapshot today: figures from fills only")
    severity = AlertSeverity.WARNING if figures.net < 0 else AlertSeverity.INFO
    return Notification(
        kind=NotificationKind.DAILY_SUMMARY,
        dedupe_key=summary_key(figures.trading_day),
        severity=severity,
        title=f"Post-market summary {day}",
        body="\n".join(lines),
        occurred_at=at,
        details=frozen_details(
            {
                "trading_day": day,
                "net": str(figures.net),
                "realized": str(figures.realized),
                "unrealized": str(figures.unrealized),
                "charges": str(figures.charges),
                "trades": str(figures.trades),
                "trades_closed": str(figures.trades_closed),
                "fills": str(figures.fills),
                "open_positions": str(figures.open_positions),
            }
        ),
    )
