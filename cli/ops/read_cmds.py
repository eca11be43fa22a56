"""Read-only commands: health, status, positions, pnl, risk, trades."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from cli.ops.client import connect
from cli.ops.render import JsonOpt, emit, on_off, ops_errors, pairs, rows, say, text


class Period(StrEnum):
    today = "today"
    week = "week"
    month = "month"
    all = "all"


class TradeStatus(StrEnum):
    open = "open"
    closed = "closed"


def register(app: typer.Typer) -> None:
    app.command("health")(health)
    app.command("status")(status)
    app.command("positions")(positions)
    app.command("pnl")(pnl)
    app.command("risk")(risk)
    app.command("trades")(trades)
    app.command("signals")(signals)


def health(as_json: JsonOpt = False) -> None:
    """Every component's health; exit 0 only when the whole is ok."""
    with ops_errors(), connect() as client:
        body = client.get("monitor", "/api/v2/health", accept=(503,))
    emit(body, as_json, _show_health)
    if body.get("status") != "ok":
        raise typer.Exit(1)


def _show_health(body: dict[str, Any]) -> None:
    say(f"health: {body.get('status')}  trading state: {body.get('trading_state')}")
    components = body.get("components", {})
    rows(
        ["component", "status", "detail"],
        [[name, c.get("status"), c.get("detail")] for name, c in components.items()],
        "no components reported",
    )


def status(as_json: JsonOpt = False) -> None:
    """Trading state, kill switch, emergency stop, breaker, automation and the broker session."""
    with ops_errors(), connect() as client:
        safety = client.get("monitor", "/api/v2/safety/status")
        broker = client.get("monitor", "/api/v2/broker/status")
    emit({"safety": safety, "broker": broker}, as_json, _show_status)


def _show_status(body: dict[str, Any]) -> None:
    safety, broker = body["safety"], body["broker"]
    services = safety.get("services") or {}
    pairs(
        [
            ("trading state", safety.get("trading_state")),
            ("restrictions", ", ".join(safety.get("restrictions") or []) or "none"),
            ("kill switch", on_off(safety.get("kill_switch"))),
            ("emergency stop", on_off(safety.get("emergency_stop"))),
            ("manual state", safety.get("manual_state")),
            ("automation", on_off(safety.get("automation"))),
            ("circuit breaker", safety.get("circuit_breaker")),
            ("daily loss halt", on_off(safety.get("daily_loss_halt"))),
            (
                "broker",
                f"{broker.get('mode')}: {broker.get('status')} ({text(broker.get('detail'))})",
            ),
            ("services", ", ".join(f"{k} {v}" for k, v in services.items()) or "none"),
        ]
    )
    changes = safety.get("last_changes") or {}
    if changes:
        rows(
            ["control", "changed at", "by", "reason"],
            [[k, c.get("at"), c.get("changed_by"), c.get("reason")] for k, c in changes.items()],
            "",
        )


def positions(
    include_closed: Annotated[bool, typer.Option("--all", help="Include flat positions")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Positions from the ledger (open ones unless --all)."""
    params = {"include_closed": "true"} if include_closed else None
    with ops_errors(), connect() as client:
        body = client.get("monitor", "/api/v2/trading/positions", params=params)
    emit(body, as_json, _show_positions)


def _show_positions(body: dict[str, Any]) -> None:
    rows(
        ["instrument", "side", "qty", "avg price", "realised", "charges"],
        [
            [
                p["instrument"],
                p.get("side"),
                p.get("net_quantity"),
                p.get("average_price"),
                p.get("realized_pnl"),
                p.get("charges"),
            ]
            for p in body.get("positions", [])
        ],
        "no open positions",
    )


def pnl(
    period: Annotated[Period, typer.Option("--period", help="Closed trades of this period")] = (
        Period.today
    ),
    as_json: JsonOpt = False,
) -> None:
    """P&L of the trades closed in the period, overall and per signal; today adds the marks."""
    with ops_errors(), connect() as client:
        analytics = client.get(
            "monitor", "/api/v2/performance/analytics", params={"period": period.value}
        )
        marked = (
            client.get("monitor", "/api/v2/risk/metrics").get("pnl_today")
            if period is Period.today
            else None
        )
    emit({"analytics": analytics, "pnl_today": marked}, as_json, _show_pnl)


def _show_pnl(body: dict[str, Any]) -> None:
    analytics, marked = body["analytics"], body["pnl_today"]
    o = analytics.get("overall", {})
    say(f"period {analytics.get('period')}: from {text(analytics.get('from'))}")
    lines: list[tuple[str, object]] = [
        ("closed trades", o.get("trades")),
        ("gross P&L", o.get("gross_pnl")),
        ("charges", o.get("charges")),
        ("net P&L", o.get("net_pnl")),
        ("win rate %", o.get("pnl_win_rate_pct")),
        ("max drawdown", o.get("max_drawdown")),
    ]
    if marked is not None:
        lines += [
            ("realised today", marked.get("realized")),
            ("unrealised now", marked.get("unrealized")),
            ("marked as of", marked.get("as_of")),
        ]
    pairs(lines)
    per_signal = analytics.get("per_signal") or {}
    if per_signal:
        rows(
            ["signal", "trades", "net P&L", "win rate %"],
            [
                [name, p.get("trades"), p.get("net_pnl"), p.get("pnl_win_rate_pct")]
                for name, p in sorted(per_signal.items())
            ],
            "",
        )


def risk(as_json: JsonOpt = False) -> None:
    """Exposure, margin, today's loss and every limit with its utilisation."""
    with ops_errors(), connect() as client:
        body = client.get("monitor", "/api/v2/risk/metrics")
    emit(body, as_json, _show_risk)


def _show_risk(body: dict[str, Any]) -> None:
    margin = body.get("margin", {})
    pairs(
        [
            ("trading day", body.get("trading_day")),
            ("open trades", body.get("open_trades")),
            ("open lots", body.get("open_lots")),
            ("margin used", f"{margin.get('estimated_used')} of {margin.get('limit')}"),
            ("loss today", body.get("loss_today")),
            ("drawdown today", body.get("drawdown_today")),
        ]
    )
    use = body.get("utilisation_pct", {})
    rows(
        ["limit", "value", "source", "used %"],
        [
            [name, limit.get("value"), limit.get("source"), use.get(name)]
            for name, limit in (body.get("limits") or {}).items()
        ],
        "no limits reported",
    )


def trades(
    trade_status: Annotated[
        TradeStatus | None, typer.Option("--status", help="Only open or only closed trades")
    ] = None,
    signal: Annotated[
        str | None, typer.Option("--signal", help="Only this signal (S1..S8)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Trades from the ledger's fills, newest first."""
    params: dict[str, str | int] = {"limit": limit}
    if trade_status is not None:
        params["status"] = trade_status.value
    if signal:
        params["signal"] = signal
    with ops_errors(), connect() as client:
        body = client.get("monitor", "/api/v2/trades", params=params)
    emit(body, as_json, _show_trades)


def _show_trades(body: dict[str, Any]) -> None:
    rows(
        ["trade", "signal", "status", "opened", "net P&L", "charges", "legs"],
        [
            [
                t["trade_id"][:8],
                t.get("signal"),
                t.get("status"),
                str(t.get("opened_at"))[:19],
                t.get("net_pnl"),
                t.get("charges"),
                " ".join(f"{leg['leg']}:{leg['net_quantity']}" for leg in t.get("legs", [])),
            ]
            for t in body.get("trades", [])
        ],
        "no trades",
    )


def signals(as_json: JsonOpt = False) -> None:
    """Signals whose trade is still open, and signals waiting for approval."""
    with ops_errors(), connect() as client:
        body = client.get("monitor", "/api/v2/webhook/signals/active")
    emit(body, as_json, _show_signals)


def _show_signals(body: dict[str, Any]) -> None:
    rows(
        ["signal id", "signal", "week", "state", "type", "strike", "received"],
        [
            [
                s.get("signal_id"),
                s.get("signal"),
                s.get("trading_week"),
                s.get("state"),
                s.get("option_type"),
                s.get("strike"),
                text(s.get("received_at"))[:19],
            ]
            for s in body.get("signals", [])
        ],
        "no active signals",
    )
