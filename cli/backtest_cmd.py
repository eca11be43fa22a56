"""``strikeflow backtest``: run one backtest over CSV data and print or save its results."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli._backtest_options import (
    DEFAULT_SIGNALS,
    AfterCloseOpt,
    BrokerageOpt,
    CapitalOpt,
    DataOpt,
    FromOpt,
    IvModelOpt,
    JsonOpt,
    MaxOpenOpt,
    SignalsOpt,
    SlippageOpt,
    ToOpt,
    common_fields,
    err_console,
    fail,
    make_request,
    money,
    num,
    open_source,
    pct,
    stdout_console,
)
from libs.backtest.report import render_report
from libs.backtest.runner import (
    BacktestRequest,
    BacktestSession,
    NoDataError,
    backtest_config,
    build_document,
)

MODEL_MARK = "ᴹ"


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)


def backtest(
    from_text: FromOpt,
    to_text: ToOpt,
    data: DataOpt = None,
    signals: SignalsOpt = DEFAULT_SIGNALS,
    lots: Annotated[int, typer.Option("--lots", help="Lots per trade (trade.lots).")] = 1,
    hedge: Annotated[
        bool, typer.Option("--hedge/--no-hedge", help="Buy the further-OTM hedge leg.")
    ] = True,
    hedge_offset: Annotated[
        int, typer.Option("--hedge-offset", help="Hedge distance in points (multiple of 50).")
    ] = 200,
    strike_rule: Annotated[
        str, typer.Option("--strike-rule", help="round100, directional50 or atm.")
    ] = "round100",
    sl_rule: Annotated[str, typer.Option("--sl-rule", help="Stop level: raw or strike.")] = "raw",
    profit_lock: Annotated[
        bool, typer.Option("--profit-lock/--no-profit-lock", help="Enable the profit lock exit.")
    ] = False,
    target_pct: Annotated[
        float, typer.Option("--target-pct", help="Profit lock target, % of main premium.")
    ] = 10.0,
    lock_pct: Annotated[float, typer.Option("--lock-pct", help="Profit lock level, %.")] = 5.0,
    trailing: Annotated[
        bool, typer.Option("--trailing/--no-trailing", help="Trail the lock after the target.")
    ] = False,
    trailing_step: Annotated[
        float, typer.Option("--trailing-step", help="Trailing step, %.")
    ] = 1.0,
    square_off: Annotated[
        bool, typer.Option("--square-off/--no-square-off", help="Square off at 15:15 on T+N.")
    ] = False,
    square_off_days: Annotated[
        int, typer.Option("--square-off-days", help="N trading days after entry.")
    ] = 2,
    capital: CapitalOpt = 500_000.0,
    slippage_pct: SlippageOpt = 1.0,
    brokerage: BrokerageOpt = 20.0,
    iv_model: IvModelOpt = "surface",
    after_close_fill: AfterCloseOpt = "bar_close",
    max_open_trades: MaxOpenOpt = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report here.")
    ] = None,
    as_json: JsonOpt = False,
    show_trades: Annotated[
        bool, typer.Option("--show-trades", help="Also print every trade.")
    ] = False,
) -> None:
    """Backtest S1..S8 over hourly NIFTY bars with model option prices."""
    fields = common_fields(
        from_text,
        to_text,
        signals,
        initial_capital=capital,
        slippage_pct=slippage_pct,
        brokerage=brokerage,
        iv_model=iv_model,
        after_close_fill=after_close_fill,
        max_open_trades=max_open_trades,
    )
    fields.update(
        lots_to_trade=lots,
        use_hedging=hedge,
        hedge_offset=hedge_offset,
        strike_rule=strike_rule,
        sl_rule=sl_rule,
        profit_lock=profit_lock,
        profit_target_pct=Decimal(str(target_pct)),
        profit_lock_pct=Decimal(str(lock_pct)),
        trailing=trailing,
        trailing_step_pct=Decimal(str(trailing_step)),
        square_off=square_off,
        square_off_days=square_off_days,
    )
    request = make_request(fields)
    session = BacktestSession(open_source(data))
    document = _run_with_progress(session, request, report)
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
        return
    out = stdout_console()
    print_document(out, document, show_trades=show_trades)
    if report is not None:
        out.print(f"HTML report written to [bold]{report}[/]")


def _run_with_progress(
    session: BacktestSession, request: BacktestRequest, report: Path | None
) -> dict[str, Any]:
    steps = ["reading data", "recording signals", "running trades", "building results"]
    if report is not None:
        steps.append("rendering report")
    progress = Progress(
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with progress:
        task = progress.add_task(steps[0], total=len(steps))

        def step(i: int) -> None:
            progress.update(task, completed=i, description=steps[min(i, len(steps) - 1)])

        try:
            session.inputs(request.from_date, request.to_date)
            step(1)
            session.tape(request, backtest_config(request))
            step(2)
            result = session.run(request)
            step(3)
            document = build_document(request, result, session.source)
            step(4)
        except (NoDataError, FileNotFoundError) as exc:
            fail(str(exc))
        if report is not None:
            weeks = session.bars_by_week(request)
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(render_report(document, weeks), encoding="utf-8")
            step(5)
    return document


def print_document(out: Console, document: dict[str, Any], *, show_trades: bool = False) -> None:
    """Rich tables of a backtest document: banner, summary, per-signal stats, trades."""
    flag = document["model_price_flag"]
    model = bool(flag["uses_model_prices"])
    m = MODEL_MARK if model else ""
    s = document["summary"]
    if model:
        out.print(
            Panel(
                f"[bold]{flag['banner']}[/]\nFigures marked {MODEL_MARK} use model prices. "
                f"Legs by source: {flag['legs_by_source']}",
                border_style="yellow",
            )
        )
    deviations = document["config"]["deviations"]
    if deviations:
        out.print(
            "Options off default: " + ", ".join(f"{k}={v['value']}" for k, v in deviations.items())
        )

    per = Table(title=f"Per signal {s['from_date']} – {s['to_date']}", title_justify="left")
    for col in ("Signal", "Trades", "Index win", "P&L win", f"Total P&L{m}", f"Avg P&L{m}"):
        per.add_column(col, justify="left" if col == "Signal" else "right")
    per.add_column(f"Profit factor{m}", justify="right")
    for name, st in document["per_signal"].items():
        per.add_row(
            name,
            str(st["trades"]),
            pct(st["index_win_rate"]),
            pct(st["pnl_win_rate"]),
            _coloured(st["total_pnl"]),
            money(st["average_pnl"]),
            num(st["profit_factor"]),
        )
    per.add_section()
    per.add_row(
        "All",
        str(s["trades"]),
        pct(s["index_win_rate"]),
        pct(s["pnl_win_rate"]),
        _coloured(s["total_pnl"]),
        money(s["average_pnl"]),
        num(s["profit_factor"]),
        style="bold",
    )
    out.print(per)

    summary = Table(title="Summary", title_justify="left", show_header=False)
    summary.add_column("Figure")
    summary.add_column("Value", justify="right")
    rows = [
        ("Trades", str(s["trades"])),
        ("Exit reasons", ", ".join(f"{k} {v}" for k, v in s["exit_reasons"].items()) or "–"),
        (f"Gross P&L{m}", money(s["gross_pnl"])),
        (f"Charges{m}", money(s["charges"])),
        (f"Slippage{m}", money(s["slippage"])),
        (f"Net P&L{m}", _coloured(s["total_pnl"])),
        (f"Return{m}", f"{s['return_pct']:.2f}%"),
        (f"Final equity{m}", money(s["final_equity"])),
        (f"Max drawdown{m}", f"{money(s['max_drawdown'])} ({s['max_drawdown_pct']:.2f}%)"),
        (f"Sharpe{m}", num(s["sharpe"])),
        (f"Sortino{m}", num(s["sortino"])),
        (f"Expectancy{m}", money(s["expectancy"])),
        (f"Profit factor{m}", num(s["profit_factor"])),
        ("Index win rate", pct(s["index_win_rate"])),
        (f"P&L win rate{m}", pct(s["pnl_win_rate"])),
        ("Average holding", f"{num(s['average_holding_hours'], 1)} h"),
        ("Rejected signals", str(s["rejected_signals"])),
        ("Skipped weeks", str(s["skipped_weeks"])),
    ]
    for k, v in rows:
        summary.add_row(k, v)
    out.print(summary)
    if show_trades:
        out.print(trades_table(document["trades"], m))


def trades_table(trades: list[dict[str, Any]], m: str) -> Table:
    table = Table(title=f"Trades ({len(trades)})", title_justify="left")
    for col in ("#", "Signal", "Entry (UTC)", "Stop", "Strikes", "Exit (UTC)", "Reason"):
        table.add_column(col)
    table.add_column(f"Net P&L{m}", justify="right")
    for i, t in enumerate(trades, 1):
        strikes = f"{t['main_strike']}{t['option_type']}"
        if t["hedge_strike"] is not None:
            strikes += f"/{t['hedge_strike']}"
        table.add_row(
            str(i),
            t["signal"],
            t["entry_time"][:16].replace("T", " "),
            t["stop_level"],
            strikes,
            t["exit_time"][:16].replace("T", " "),
            t["exit_reason"],
            _coloured(t["net_pnl"]),
        )
    return table


def _coloured(value: str) -> str:
    v = Decimal(value)
    colour = "green" if v > 0 else "red" if v < 0 else "white"
    return f"[{colour}]{float(v):,.2f}[/]"
