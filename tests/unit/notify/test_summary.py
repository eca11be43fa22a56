"""The post-market summary: when it is due and what it says."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from libs.notify.model import NotificationKind
from libs.notify.summary import DayFigures, summary_day_due, summary_notification
from tests.unit.test_architecture import IO_LIBRARIES, imported

AFTER = time(15, 45)


@pytest.mark.parametrize(
    ("utc", "due"),
    [
        (datetime(2026, 11, 23, 10, 14, tzinfo=UTC), None),  # Mon 15:44 IST
        (datetime(2026, 11, 23, 10, 15, tzinfo=UTC), date(2026, 11, 23)),  # Mon 15:45 IST
        (datetime(2026, 11, 23, 18, 40, tzinfo=UTC), None),  # Tue 00:10 IST: before 15:45
        (datetime(2026, 11, 24, 11, 0, tzinfo=UTC), None),  # Guru Nanak Jayanti, NSE holiday
        (datetime(2026, 11, 28, 11, 0, tzinfo=UTC), None),  # Saturday
        (datetime(2027, 3, 2, 11, 0, tzinfo=UTC), date(2027, 3, 2)),  # beyond the table: weekday
    ],
)
def test_summary_due_on_session_days_after_the_time(utc: datetime, due: date | None) -> None:
    assert summary_day_due(utc, AFTER) == due


def test_summary_text_has_pnl_trades_and_charges_and_a_day_key() -> None:
    figures = DayFigures(
        trading_day=date(2026, 11, 24),
        realized=Decimal("-1500.50"),
        unrealized=Decimal(200),
        charges=Decimal("140.25"),
        net=Decimal("-1440.75"),
        open_positions=2,
        trades=3,
        trades_closed=1,
        fills=8,
        marked_at=None,
    )

    n = summary_notification(figures, datetime(2026, 11, 24, 10, 15, tzinfo=UTC))

    assert n.kind is NotificationKind.DAILY_SUMMARY
    assert n.dedupe_key == "daily_summary:2026-11-24"
    assert "Net P&L -₹1,440.75" in n.text
    assert "charges ₹140.25" in n.text
    assert "Trades: 3 traded, 1 closed; 8 fills" in n.text
    assert "No P&L snapshot today" in n.text
    assert n.severity.value == "warning"


def test_notify_package_does_no_io() -> None:
    root = Path(__file__).resolve().parents[3] / "libs" / "notify"
    for path in root.glob("*.py"):
        names = imported(path)
        text = path.read_text()

        assert not {n.split(".")[0] for n in names} & IO_LIBRARIES, path
        assert "os.environ" not in text
        assert "datetime.now(" not in text
