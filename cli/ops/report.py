"""The post-market report: one IST trading day's P&L, trades, signals and control changes.

`collect` reads the monitor's routes into a `DayData`; `markdown` turns that into the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from cli.ops.client import Client
from libs.common.clock import IST

PAGE = 500
# Weekly options: no trade stays open this long, so older trades cannot touch the day.
TRADE_LOOKBACK = timedelta(days=31)


@dataclass
class DayData:
    """What the report is made of, as the monitor answered it."""

    day: date
    generated_at: datetime
    source: str
    trades: list[dict[str, Any]] = field(default_factory=list)
    pnl_today: dict[str, Any] | None = None
    signals: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    operator_commands: list[dict[str, Any]] = field(default_factory=list)
    marks_source: str = "monitor"


def ist_day(stamp: str | None) -> date | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp).astimezone(IST).date()


def _touches(trade: dict[str, Any], day: date) -> bool:
    if any(ist_day(f.get("filled_at")) == day for f in trade.get("fills", [])):
        return True
    opened, closed = ist_day(trade.get("opened_at")), ist_day(trade.get("closed_at"))
    return opened is not None and opened <= day and (closed is None or closed >= day)


def _trades(client: Client, day: date) -> list[dict[str, Any]]:
    oldest = day - TRADE_LOOKBACK
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": PAGE}
        if cursor:
            params["cursor"] = cursor
        page = client.get("monitor", "/api/v2/trades", params=params)
        for summary in page.get("trades", []):
            opened = ist_day(summary.get("opened_at"))
            if opened is not None and opened > day:
                continue
            if opened is not None and opened < oldest:
                return found
            detail = client.get("monitor", f"/api/v2/trades/{summary['trade_id']}")
            if _touches(detail, day):
                found.append(detail)
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def _audit(client: Client, kind: str, day: date) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(
            "monitor", "/api/v2/audit", params={"kind": kind, "after_seq": after, "limit": PAGE}
        )
        for entry in page.get("entries", []):
            recorded = ist_day(entry.get("recorded_at"))
            if recorded == day:
                entries.append(entry)
            elif recorded is not None and recorded > day:
                return entries
        after = page.get("next_after_seq") or 0
        if not after:
            return entries


def collect(client: Client, day: date, now: datetime) -> DayData:
    """Everything the report shows, for ``day`` (IST), from the monitor."""
    data = DayData(day=day, generated_at=now, source=client.endpoints.monitor)
    data.trades = _trades(client, day)
    if now.astimezone(IST).date() == day:
        data.pnl_today = client.get("monitor", "/api/v2/risk/metrics").get("pnl_today")
    data.signals = _audit(client, "signal", day)
    data.decisions = _audit(client, "decision", day)
    data.controls = _audit(client, "control", day)
    data.operator_commands = _audit(client, "operator_command", day)
    return data


_SNAPSHOT = (
    "SELECT realized, unrealized, charges, net, open_positions, taken_at "
    "FROM ledger.pnl_snapshots WHERE trading_day = $1 ORDER BY taken_at DESC LIMIT 1"
)


async def ledger_marks(database_url: str, day: date) -> dict[str, Any] | None:
    """The day's last P&L snapshot in the ledger, shaped like the monitor's ``pnl_today``."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        row = await conn.fetchrow(_SNAPSHOT, day)
    finally:
        await conn.close()
    if row is None:
        return None
    return {
        "realized": str(row["realized"]),
        "unrealized": str(row["unrealized"]),
        "charges": str(row["charges"]),
        "net": str(row["net"]),
        "open_positions": row["open_positions"],
        "as_of": row["taken_at"].isoformat(),
    }


def _money(value: Decimal | str | None) -> str:
    return "-" if value is None else f"{Decimal(value):,.2f}"


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value).replace("|", "\\|")


def _table(headers: list[str], body: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return lines


def _time(stamp: str | None) -> str:
    if not stamp:
        return "-"
    return datetime.fromisoformat(stamp).astimezone(IST).strftime("%H:%M:%S")


def realised(data: DayData) -> tuple[Decimal, Decimal, int]:
    """Net P&L and charges of the trades closed on the day, and how many."""
    closed = [
        t
        for t in data.trades
        if t.get("status") == "closed" and ist_day(t["closed_at"]) == data.day
    ]
    net = sum((Decimal(t["net_pnl"]) for t in closed if t.get("net_pnl")), Decimal(0))
    charges = sum((Decimal(t["charges"]) for t in closed if t.get("charges")), Decimal(0))
    return net, charges, len(closed)


def day_charges(data: DayData) -> Decimal:
    return sum(
        (
            Decimal(f["charges"])
            for t in data.trades
            for f in t.get("fills", [])
            if ist_day(f.get("filled_at")) == data.day and f.get("charges")
        ),
        Decimal(0),
    )


def markdown(data: DayData) -> str:
    """The report as Markdown."""
    net, closed_charges, closed = realised(data)
    lines = [
        f"# strikeflow post-market report {data.day.isoformat()}",
        "",
        f"Generated {data.generated_at.astimezone(IST).isoformat(timespec='seconds')} "
        f"from the monitor at {data.source}.",
        "",
        "## P&L",
        "",
    ]
    marked = data.pnl_today
    if marked and marked.get("as_of"):
        lines += [f"Marks as of {marked['as_of']} (from the {data.marks_source}).", ""]
    no_marks = (
        "no P&L snapshot that day"
        if data.marks_source == "ledger"
        else "kept for today only (--database-url reads the ledger's)"
    )
    lines += _table(
        ["figure", "amount (INR)"],
        [
            [f"realised, net of charges ({closed} trades closed)", _money(net)],
            ["charges of those trades", _money(closed_charges)],
            ["charges of the day's fills", _money(day_charges(data))],
            [
                "unrealised (open positions at the last mark)",
                _money(marked.get("unrealized")) if marked else no_marks,
            ],
            [
                "marked P&L of the day (realised + unrealised - charges)",
                _money(marked.get("net")) if marked else no_marks,
            ],
        ],
    )
    lines += ["", "## Trades", ""]
    if not data.trades:
        lines.append("No trade was open or traded on this day.")
    for trade in data.trades:
        lines += [
            f"### {trade['trade_id']} ({_cell(trade.get('signal'))}, {trade.get('status')})",
            "",
            f"Opened {_cell(trade.get('opened_at'))}, closed {_cell(trade.get('closed_at'))}; "
            f"gross {_money(trade.get('gross_pnl'))}, charges {_money(trade.get('charges'))}, "
            f"net {_money(trade.get('net_pnl'))}.",
            "",
        ]
        lines += _table(
            ["leg", "instrument", "net qty", "bought", "sold", "avg buy", "avg sell", "charges"],
            [
                [
                    leg.get("leg"),
                    leg.get("instrument"),
                    leg.get("net_quantity"),
                    leg.get("bought"),
                    leg.get("sold"),
                    leg.get("average_buy"),
                    leg.get("average_sell"),
                    leg.get("charges"),
                ]
                for leg in trade.get("legs", [])
            ],
        )
        fills = [f for f in trade.get("fills", []) if ist_day(f.get("filled_at")) == data.day]
        lines += ["", f"Fills on the day: {len(fills)}", ""]
        if fills:
            lines += _table(
                ["time (IST)", "purpose", "leg", "instrument", "side", "qty", "price", "charges"],
                [
                    [
                        _time(f.get("filled_at")),
                        f.get("purpose"),
                        f.get("leg"),
                        f.get("instrument"),
                        f.get("side"),
                        f.get("quantity"),
                        f.get("price"),
                        f.get("charges"),
                    ]
                    for f in fills
                ],
            )
        lines.append("")
    outcomes = Counter(str(d["payload"].get("outcome", "?")) for d in data.decisions)
    per_signal = Counter(str(s["payload"].get("signal", "?")) for s in data.signals)
    lines += ["## Signals and decisions", ""]
    lines += _table(
        ["count", "value"],
        [
            ["signals received", len(data.signals)],
            *[[f"signals {name}", n] for name, n in sorted(per_signal.items())],
            ["risk decisions", len(data.decisions)],
            *[[f"decisions {name}", n] for name, n in sorted(outcomes.items())],
            ["operator commands", len(data.operator_commands)],
        ],
    )
    lines += ["", "## Control changes", ""]
    if not data.controls:
        lines.append("No control changed on this day.")
    else:
        lines += _table(
            ["time (IST)", "control", "change", "by", "reason"],
            [
                [
                    _time(c.get("recorded_at")),
                    c["payload"].get("key"),
                    _control_change(c["payload"]),
                    c["payload"].get("changed_by"),
                    c["payload"].get("reason"),
                ]
                for c in data.controls
            ],
        )
    return "\n".join(lines) + "\n"


def _control_change(payload: dict[str, Any]) -> str:
    if payload.get("state"):
        return str(payload["state"])
    if payload.get("values"):
        return ", ".join(f"{k}={v}" for k, v in sorted(payload["values"].items()))
    return "on" if payload.get("engaged") else "off"
