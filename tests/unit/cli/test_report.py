"""The post-market report: its Markdown from a day's data, and the command's arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app
from cli.ops.report import DayData, markdown
from tests.unit.cli.conftest import FakeServices, closed_port_url

DAY = date(2026, 11, 24)


def trade(
    trade_id: str, status: str, opened: str, closed: str | None, net: str | None
) -> dict[str, Any]:
    return {
        "trade_id": trade_id,
        "signal": "S1",
        "status": status,
        "opened_at": opened,
        "closed_at": closed,
        "gross_pnl": None if net is None else "5000.00",
        "charges": "100.00",
        "net_pnl": net,
        "legs": [
            {
                "leg": "main",
                "instrument": "NIFTY-2026-12-01-24000-PE",
                "net_quantity": 0,
                "bought": 65,
                "sold": 65,
                "average_buy": "90.00",
                "average_sell": "167.10",
                "charges": "60.00",
            }
        ],
        "fills": [
            {
                "purpose": "exit",
                "leg": "main",
                "instrument": "NIFTY-2026-12-01-24000-PE",
                "side": "BUY",
                "quantity": 65,
                "price": "90.00",
                "charges": "30.00",
                "filled_at": "2026-11-24T09:00:00+00:00",
            },
            {
                "purpose": "entry",
                "leg": "main",
                "instrument": "NIFTY-2026-12-01-24000-PE",
                "side": "SELL",
                "quantity": 65,
                "price": "167.10",
                "charges": "30.00",
                "filled_at": "2026-11-20T05:00:00+00:00",
            },
        ],
    }


def entry(kind: str, at: str, **payload: Any) -> dict[str, Any]:
    return {"kind": kind, "recorded_at": at, "payload": payload}


def test_the_report_sums_the_day_and_lists_its_facts() -> None:
    data = DayData(
        day=DAY,
        generated_at=datetime(2026, 11, 24, 10, 30, tzinfo=UTC),
        source="http://monitor",
        trades=[
            trade(
                "t-closed",
                "closed",
                "2026-11-20T05:00:00+00:00",
                "2026-11-24T09:00:00+00:00",
                "4900.00",
            ),
            trade("t-open", "open", "2026-11-24T04:00:00+00:00", None, None),
        ],
        pnl_today={"unrealized": "-250.50", "net": "4649.50"},
        signals=[entry("signal", "2026-11-24T04:00:00+00:00", signal="S1")] * 3,
        decisions=[
            entry("decision", "2026-11-24T04:00:00+00:00", outcome="approved"),
            entry("decision", "2026-11-24T04:00:00+00:00", outcome="rejected"),
        ],
        controls=[
            entry(
                "control",
                "2026-11-24T08:00:00+00:00",
                key="kill_switch",
                engaged=True,
                changed_by="desk-1",
                reason="feed | stale",
            )
        ],
    )
    text = markdown(data)
    assert text.startswith("# strikeflow post-market report 2026-11-24\n")
    assert "| realised, net of charges (1 trades closed) | 4,900.00 |" in text
    assert "| charges of the day's fills | 60.00 |" in text  # one exit fill per trade on the day
    assert "| unrealised (open positions at the last mark) | -250.50 |" in text
    assert "### t-closed (S1, closed)" in text
    assert "### t-open (S1, open)" in text
    assert "| 14:30:00 | exit | main | NIFTY-2026-12-01-24000-PE | BUY | 65 | 90.00 | 30.00 |" in (
        text
    )
    assert "Fills on the day: 1" in text
    assert "| signals received | 3 |" in text
    assert "| signals S1 | 3 |" in text
    assert "| decisions approved | 1 |" in text
    assert "| decisions rejected | 1 |" in text
    assert "| 13:30:00 | kill_switch | on | desk-1 | feed \\| stale |" in text


def test_a_past_day_says_its_marks_are_not_kept() -> None:
    data = DayData(day=DAY, generated_at=datetime(2026, 11, 30, tzinfo=UTC), source="m")
    text = markdown(data)
    assert "| unrealised (open positions at the last mark) | kept for today only" in text
    assert "No trade was open or traded on this day." in text
    assert "No control changed on this day." in text


def test_report_writes_the_file_and_says_where(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices, tmp_path: Path
) -> None:
    fake.answer("GET", "/api/v2/trades", (200, {"count": 0, "trades": [], "next_cursor": None}))
    fake.answer("GET", "/api/v2/audit", (200, {"entries": [], "next_after_seq": None}))
    out = tmp_path / "report.md"
    result = runner.invoke(app, ["report", "--day", "2026-11-20", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"report for 2026-11-20 written: {out}")
    assert out.read_text().startswith("# strikeflow post-market report 2026-11-20")
    kinds = [s.query["kind"] for s in fake.calls("GET", "/api/v2/audit")]
    assert kinds == ["signal", "decision", "control", "operator_command"]
    assert fake.calls("GET", "/api/v2/risk/metrics") == []  # a past day has no live marks


def test_report_rejects_a_bad_day(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    result = runner.invoke(app, ["report", "--day", "24-11-2026"], env=env)
    assert result.exit_code == 2
    assert "--day must be YYYY-MM-DD" in result.stderr
    assert fake.seen == []


def test_report_fails_with_the_monitors_error(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("GET", "/api/v2/trades", (500, {"detail": "database unavailable"}))
    result = runner.invoke(app, ["report"], env=env)
    assert result.exit_code == 1
    assert "monitor answered 500: database unavailable" in result.stderr


def test_report_exits_3_when_the_ledger_does_not_answer(
    runner: CliRunner, env: dict[str, str | None], fake: FakeServices
) -> None:
    fake.answer("GET", "/api/v2/trades", (200, {"count": 0, "trades": [], "next_cursor": None}))
    fake.answer("GET", "/api/v2/audit", (200, {"entries": [], "next_after_seq": None}))
    fake.answer("GET", "/api/v2/risk/metrics", (200, {"pnl_today": None}))
    url = closed_port_url().replace("http://", "postgresql://ledger:secret-pw@") + "/strikeflow"
    result = runner.invoke(app, ["report", "--database-url", url], env=env)
    assert result.exit_code == 3
    assert "cannot read the ledger's P&L snapshot" in result.stderr
    assert "secret-pw" not in result.output
